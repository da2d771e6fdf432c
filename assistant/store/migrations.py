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


@migrations()
def m004_knowledge(db):
    db["collections"].create(
        {"id": int, "name": str, "created_at": str, "updated_at": str, "last_indexed_at": str,
         "ignore_globs": str},  # JSON list of user globs
        pk="id",
    )
    db["collections"].create_index(["name"], unique=True)
    db["collection_sources"].create(
        {"id": int, "collection_id": int, "path": str, "added_at": str},
        pk="id",
        foreign_keys=[("collection_id", "collections", "id")],
    )
    db["collection_sources"].create_index(["collection_id", "path"], unique=True)
    # One row per file seen in a collection, indexed or skipped (with the reason).
    db["documents"].create(
        {
            "id": int,
            "collection_id": int,
            "path": str,
            "content_hash": str,  # SHA-256 of the bytes; chunks hang off it, so a moved file is free
            "size_bytes": int,
            "mtime_ns": int,
            "format": str,
            "pages": int,
            "status": str,  # indexed | skipped
            "error": str,
            "n_chunks": int,
            "indexed_at": str,
        },
        pk="id",
        foreign_keys=[("collection_id", "collections", "id")],
    )
    db["documents"].create_index(["collection_id", "path"], unique=True)
    db["documents"].create_index(["content_hash"])
    # Content-addressed chunks: the id is derived from the content hash, the chunker
    # version and the ordinal, so re-indexing the same bytes yields the same ids.
    db["chunks"].create(
        {
            "id": str,
            "content_hash": str,
            "ordinal": int,
            "text": str,
            "heading": str,
            "start": int,
            "end": int,
            "page": int,
            "page_end": int,
            "line_start": int,
            "line_end": int,
            "embedded": int,  # 1 once its vector is in the vector store
        },
        pk="id",
    )
    db["chunks"].create_index(["content_hash", "ordinal"])
    db["chunks"].enable_fts(["text", "heading"], create_triggers=True, tokenize="porter unicode61 remove_diacritics 2")


@migrations()
def m005_message_details(db):
    # JSON: what the interpretability panel shows (prompt, retrieval timings, abstention).
    db["messages"].add_column("details", str)


@migrations()
def m006_model_speed(db):
    # One row per measurement (history kept); the newest per model is the one shown. Rows outlive
    # the model: they still calibrate estimates for models not downloaded.
    db["model_speed"].create(
        {
            "id": int,
            "model": str,
            "measured_at": str,
            "app_version": str,
            "n_threads": int,
            "n_threads_batch": int,
            "n_ctx": int,
            "n_batch": int,
            "flash_attn": int,
            "file_size": int,
            "parameters": int,
            "quantization": str,
            "prompt_tokens": int,
            "gen_tokens": int,
            "pp_tokens_per_s": float,
            "gen_tokens_per_s": float,
            "ttft_s": float,
            "load_s": float,
            "peak_rss_bytes": int,
        },
        pk="id",
    )
    db["model_speed"].create_index(["model", "measured_at"])


@migrations()
def m007_downloads(db):
    # One row per model being (or last) downloaded, written before the first byte, so a
    # download outlives a killed app: the next start finds it "pending" and resumes it
    # from the bytes already in partial_path.
    db["downloads"].create(
        {
            "name": str,
            "display_name": str,
            "repo_id": str,
            "revision": str,
            "filename": str,
            "expected_size": int,
            "expected_sha256": str,
            "partial_path": str,
            "bytes_done": int,
            "state": str,  # pending | done | failed | cancelled
            "error": str,
            "entry": str,  # JSON of the catalog entry, to resume a model the catalog no longer lists
            "started_at": str,
            "updated_at": str,
        },
        pk="name",
    )
    db["downloads"].create_index(["state"])


@migrations()
def m008_message_writer(db):
    # Which process streams an answer ("pid:start time"), so a starting app marks as stopped
    # only the answers whose process is gone, not one another process is still writing.
    db["messages"].add_column("writer", str)


@migrations()
def m009_collection_index_started(db):
    # Set when an indexing run starts, cleared when it ends or the user stops it: still set at
    # the next start means the app closed or was killed mid-run, and the run is resumed.
    db["collections"].add_column("index_started_at", str)


@migrations()
def m010_collection_index_unfinished(db):
    # Set when a run stops before the end (the user cancelled, the disk filled) and cleared by the
    # next complete run: until then the collection holds only part of its folders, even after a
    # restart, and last_indexed_at alone (the last complete run) would not say so.
    db["collections"].add_column("index_unfinished_at", str)


@migrations()
def m011_chunk_version(db):
    # The CHUNKER_VERSION that made the chunk (null: version 1, before this column), so chunks
    # an older parser or chunker made are found and read again.
    db["chunks"].add_column("version", int)


@migrations()
def m012_chunk_page_breaks(db):
    # JSON [[offset, page], ...]: where in a chunk's text each page starts, for chunks that run
    # across a page break, so a cited sentence is placed on its own page, not the chunk's range.
    db["chunks"].add_column("page_breaks", str)


@migrations()
def m013_document_ctime(db):
    # The file's ctime beside size and mtime: a restored backup can keep both of those with other
    # bytes. Null for files indexed before: each is hashed once on the next run, not re-embedded.
    db["documents"].add_column("ctime_ns", int)


@migrations()
def m014_chunk_cjk_terms(db):
    # Chinese, Japanese and Korean runs as overlapping character pairs (knowledge/cjk.py), searched
    # in a column of their own: unicode61 makes one token of a whole run, so no word inside it was
    # found. Filled here for the chunks already indexed; the keyword index is rebuilt with it.
    # Plain statements, not enable_fts(replace=True): its executescript would commit halfway.
    from assistant.knowledge.cjk import index_terms

    db["chunks"].add_column("cjk_terms", str)
    for name in ("chunks_ai", "chunks_ad", "chunks_au"):
        db.execute(f"drop trigger if exists [{name}]")
    db.execute("drop table if exists chunks_fts")
    filled = [(terms, rowid) for rowid, text, heading in db.execute("select rowid, text, heading from chunks")
              if (terms := index_terms(text, heading))]  # only the chunks holding such text
    db.conn.executemany("update chunks set cjk_terms = ? where rowid = ?", filled)
    _create_fts(db, "chunks", ["text", "heading", "cjk_terms"], "porter unicode61 remove_diacritics 2")


def _create_fts(db, table: str, columns: list[str], tokenize: str) -> None:
    """What sqlite-utils' enable_fts(create_triggers=True) makes, as plain statements: an external
    content FTS5 table filled from `table`, and the triggers that keep it in step."""
    cols = ", ".join(f'"{c}"' for c in columns)
    fts = f'"{table}_fts"'
    db.execute(f"CREATE VIRTUAL TABLE {fts} USING FTS5 (\n    {cols},\n    tokenize='{tokenize}',\n"
               f'    content="{table}"\n)')
    db.execute(f"insert into {fts}({fts}) values ('rebuild')")
    insert, delete = _fts_statements(table, columns)
    db.execute(f'CREATE TRIGGER "{table}_ai" AFTER INSERT ON "{table}" BEGIN\n  {insert}\nEND')
    db.execute(f'CREATE TRIGGER "{table}_ad" AFTER DELETE ON "{table}" BEGIN\n  {delete}\nEND')
    db.execute(f'CREATE TRIGGER "{table}_au" AFTER UPDATE ON "{table}" BEGIN\n  {delete}\n  {insert}\nEND')


@migrations()
def m015_chunk_fts_update_of_text(db):
    # The keyword index re-read a chunk on every update, so marking each chunk embedded deleted and
    # re-inserted its words: 3.7 s per 20,000 chunks of 250 words, against 0.05 s when only an
    # update of the indexed columns does it.
    db.execute('drop trigger if exists "chunks_au"')
    columns = ["text", "heading", "cjk_terms"]
    insert, delete = _fts_statements("chunks", columns)
    of = ", ".join(f'"{c}"' for c in columns)
    db.execute(f'CREATE TRIGGER "chunks_au" AFTER UPDATE OF {of} ON "chunks" BEGIN\n  {delete}\n  {insert}\nEND')


def _fts_statements(table: str, columns: list[str]) -> tuple[str, str]:
    """The statements a trigger runs to add a row's words to `table`'s FTS index, and to take the
    old ones out."""
    cols = ", ".join(f'"{c}"' for c in columns)
    new = ", ".join(f'new."{c}"' for c in columns)
    old = ", ".join(f'old."{c}"' for c in columns)
    fts = f'"{table}_fts"'
    return (f"INSERT INTO {fts} (rowid, {cols}) VALUES (new.rowid, {new});",
            f"INSERT INTO {fts} ({fts}, rowid, {cols}) VALUES('delete', old.rowid, {old});")
