"""Conversations and their messages."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import psutil
import sqlite_utils

from assistant.store.db import insert_row, transaction
from assistant.store.message_search import has_cjk, search_written
from assistant.store.timeutil import now_iso

STATUSES = ("streaming", "complete", "stopped", "error")


@dataclass
class Message:
    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    model: str | None = None
    error: str | None = None
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_s: float | None = None
    settings: dict | None = None
    sources: list | None = None
    details: dict | None = None
    created_at: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> Message:
        return cls(
            id=row["id"],
            conversation_id=row["conversation_id"],
            role=row["role"],
            content=row["content"] or "",
            status=row["status"],
            model=row["model"],
            error=row["error"],
            ttft_s=row["ttft_s"],
            tokens_per_s=row["tokens_per_s"],
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            total_s=row["total_s"],
            settings=json.loads(row["settings"]) if row["settings"] else None,
            sources=json.loads(row["sources"]) if row["sources"] else [],
            details=json.loads(row["details"]) if row.get("details") else {},
            created_at=row["created_at"],
        )


class Conversations:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    # conversations -------------------------------------------------------
    def create(self, title: str | None = None, model: str | None = None) -> int:
        stamp = now_iso()
        return insert_row(self.db, "conversations", {"title": title or "New conversation", "model": model,
                                                     "created_at": stamp, "updated_at": stamp})

    def get(self, conversation_id: int) -> dict | None:
        try:
            return self.db["conversations"].get(conversation_id)
        except sqlite_utils.db.NotFoundError:
            return None

    def list(self) -> list[dict]:
        return list(self.db["conversations"].rows_where(order_by="updated_at desc, id desc"))

    def rename(self, conversation_id: int, title: str) -> None:
        self.db["conversations"].update(conversation_id, {"title": title.strip() or "Untitled"})

    def delete(self, conversation_id: int) -> None:
        with transaction(self.db):
            self.db.execute("delete from messages where conversation_id = ?", [conversation_id])
            self.db.execute("delete from conversations where id = ?", [conversation_id])

    def delete_from(self, conversation_id: int, message_id: int) -> int:
        """Drop message `message_id` and every later one of its conversation (editing a question
        rewrites what followed it). Returns how many went."""
        with transaction(self.db):
            cursor = self.db.execute("delete from messages where conversation_id = ? and id >= ?",
                                     [conversation_id, message_id])
            self.touch(conversation_id)
        return cursor.rowcount

    def add_question(self, conversation_id: int, text: str, replaces: int | None = None) -> int:
        """Store a question; given `replaces` (an edited question), that one and every later message
        go in the same transaction: only once the new one is there, so an edit whose answer fails
        before it starts (a search that fails) loses nothing."""
        with transaction(self.db):
            if replaces is not None:
                self.delete_from(conversation_id, replaces)
            return self.add_message(conversation_id, "user", text)

    def last_message_id(self) -> int:
        """The newest message's id (0 with none): what an answer stores after it has larger ones."""
        return self.db.execute("select coalesce(max(id), 0) from messages").fetchone()[0]

    def touch(self, conversation_id: int) -> None:
        self.db.execute("update conversations set updated_at = ? where id = ?", [now_iso(), conversation_id])

    # messages ------------------------------------------------------------
    def add_message(self, conversation_id: int, role: str, content: str, *, status: str = "complete",
                    **fields: Any) -> int:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        stamp = now_iso()
        row = {
            "conversation_id": conversation_id,
            "role": role,
            "content": content,
            "status": status,
            "created_at": stamp,
            "updated_at": stamp,
            **_encode(fields),
        }
        if status == "streaming":
            row["writer"] = this_process()
        with transaction(self.db):
            pk = insert_row(self.db, "messages", row)
            self.touch(conversation_id)
        return pk

    def update_message(self, message_id: int, **fields: Any) -> None:
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"unknown status {fields['status']!r}")
        self.db["messages"].update(message_id, {**_encode(fields), "updated_at": now_iso()})

    def message(self, message_id: int) -> Message:
        return Message.from_row(self.db["messages"].get(message_id))

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self.db["messages"].rows_where("conversation_id = ?", [conversation_id], order_by="id")
        return [Message.from_row(r) for r in rows]

    def search(self, query: str, limit: int = 50) -> list[dict]:
        """Full-text search over every message; each hit names its conversation. Conversations
        whose title holds the words come first (role "title"): a renamed one ("Dossier Dupont") is
        found by the name the user gave it."""
        terms = re.findall(r"\w+", query)
        if not terms:
            return []
        # The last word is a prefix while it is being typed (the query ends inside it).
        typing = len(terms[-1]) > 1 and query[-1:].isalnum()
        return self._title_hits(terms, typing, limit) + self._message_hits(query, terms, typing, limit)

    def _title_hits(self, terms: list[str], typing: bool, limit: int) -> list[dict]:
        """Titles holding each term as a word (the last one as a word's start while typed), in any
        case and with or without accents."""
        wanted = [fold_accents(t) for t in terms]
        hits = []
        for row in self.db.query("select id, title from conversations order by updated_at desc, id desc"):
            title = row["title"] or ""
            words = set(re.findall(r"\w+", fold_accents(title)))
            if all(t in words for t in wanted[:-1]) and (
                    wanted[-1] in words or (typing and any(w.startswith(wanted[-1]) for w in words))):
                hits.append({"id": None, "conversation_id": row["id"], "role": "title", "title": title,
                             "snippet": "(in the title)"})
        return hits[:limit]

    def _message_hits(self, query: str, terms: list[str], typing: bool, limit: int) -> list[dict]:
        if has_cjk(query):  # the index cannot find a word inside a Chinese or Japanese sentence
            return search_written(self.db, query, limit)
        # Quoted terms: a user's "C++" or "AND" is text, not FTS syntax; "C++" finds "C", not "can".
        fts_query = " ".join(f'"{t}"' for t in terms) + ("*" if typing else "")
        sql = """
            select messages.id, messages.conversation_id, messages.role, conversations.title,
                   snippet(messages_fts, 0, '[', ']', '…', 12) as snippet
            from messages_fts
            join messages on messages.rowid = messages_fts.rowid
            join conversations on conversations.id = messages.conversation_id
            where messages_fts match ?
            order by rank limit ?
        """
        return [dict(zip(("id", "conversation_id", "role", "title", "snippet"), row, strict=True))
                for row in self.db.execute(sql, [fts_query, limit]).fetchall()]

    def recover_interrupted(self) -> int:
        """Answers left 'streaming' by a process that is gone keep their text and become 'stopped'.

        An answer another running process (the window, while the CLI starts) is still writing is
        left alone.
        """
        gone = [row["id"] for row in self.db.query("select id, writer from messages where status = 'streaming'")
                if not process_alive(row["writer"])]
        if gone:
            self.db.execute(
                "update messages set status = 'stopped', error = 'interrupted: the app closed mid-answer', "
                f"updated_at = ? where status = 'streaming' and id in ({','.join('?' * len(gone))})",
                [now_iso(), *gone],
            )
        return len(gone)


def fold_accents(text: str) -> str:
    """Lower case without accents: "Müller" and "muller" compare equal, as a user types them."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _process_id(pid: int) -> str | None:
    try:
        return f"{pid}:{psutil.Process(pid).create_time():.2f}"
    except (psutil.Error, OSError):
        return None


def this_process() -> str:
    return _process_id(os.getpid()) or str(os.getpid())


def process_alive(writer: str | None) -> bool:
    """Whether the process that wrote `writer` ("pid:start time") still runs (not a new one that
    got its pid). An unknown writer (rows from before this column) counts as gone."""
    if not writer or ":" not in writer:
        return False
    pid = writer.split(":", 1)[0]
    return pid.isdigit() and _process_id(int(pid)) == writer


def _encode(fields: dict) -> dict:
    out = dict(fields)
    for key in ("settings", "sources", "details"):
        if key in out and out[key] is not None and not isinstance(out[key], str):
            out[key] = json.dumps(out[key])
    return out
