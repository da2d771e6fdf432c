"""Named, append-only schema migrations.

Never edit or reorder a migration that has shipped: add a new one. Each runs
once, in order, and is recorded by name in the _sqlite_migrations table.
"""

from __future__ import annotations

from sqlite_utils import Migrations

migrations = Migrations("assistant")


@migrations()
def m001_models(db):
    db["models"].create(
        {
            "name": str,
            "kind": str,  # chat | embedding
            "display_name": str,
            "path": str,
            "size_bytes": int,
            "sha256": str,
            "source": str,  # starter | download | import
            "repo_id": str,
            "filename": str,
            "quantization": str,
            "parameters": int,
            "context_length": int,
            "architecture": str,
            "has_chat_template": int,
            "file_mtime_ns": int,
            "installed_at": str,
            "verified_at": str,
        },
        pk="name",
    )


@migrations()
def m002_conversations(db):
    db["conversations"].create(
        {"id": int, "title": str, "model": str, "created_at": str, "updated_at": str},
        pk="id",
    )
    db["conversations"].create_index(["updated_at"])


@migrations()
def m003_messages(db):
    db["messages"].create(
        {
            "id": int,
            "conversation_id": int,
            "role": str,  # system | user | assistant
            "content": str,
            "model": str,
            "settings": str,  # JSON of the generation settings used
            "status": str,  # streaming | complete | stopped | error
            "error": str,
            "ttft_s": float,
            "tokens_per_s": float,
            "prompt_tokens": int,
            "completion_tokens": int,
            "total_s": float,
            "sources": str,  # JSON list, filled by document answers
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db["messages"].create_index(["conversation_id", "id"])
    db["messages"].enable_fts(["content"], create_triggers=True, tokenize="porter")
