"""Incremental, kill-safe indexing of a collection.

Chunks are content-addressed (SHA-256 of the file's bytes), so:
  - an unchanged file (same size, mtime and ctime, or same hash) is not re-read or re-embedded;
  - a moved or duplicated file reuses the chunks its bytes already have;
  - a changed file gets new chunks, and the old ones are collected once unreferenced.

The commit point of a file is one SQLite transaction that marks its chunks
embedded and points its document row at them, after the vectors are in
chroma. A kill before that leaves only unreferenced rows and vectors, which
the garbage collection at the start of the next run removes. So a killed run,
re-run, ends exactly where an uninterrupted run would.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import stat as statmod
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import DiskFull, is_disk_full
from assistant.file_names import storable
from assistant.knowledge.chunker import CHUNKER_VERSION, Chunk, ChunkConfig, chunk_document
from assistant.knowledge.cjk import index_terms
from assistant.knowledge.collections import Collections, lock_owner
from assistant.knowledge.discovery import discover
from assistant.knowledge.document import UnreadableFile
from assistant.knowledge.index_lock import LockWaitCancelled, exclusive
from assistant.knowledge.library import plural
from assistant.store.db import transaction
from assistant.store.timeutil import now_iso

log = logging.getLogger("assistant.knowledge")

EMBED_BATCH_CHUNKS = 128  # chunks gathered across files before one embedding pass
UNNAMEABLE = ("The file's name is not valid text (it was written in another encoding), so it cannot be "
              "recorded. Rename the file and index again.")
FOLDER_MISSING = ("The folder is not there (a drive unplugged or a share not connected?). What was indexed "
                  "from it ({files}) is kept until it is back, or until you remove it from the collection.")


@dataclass
class IndexProgress:
    files_done: int
    files_total: int
    chunks: int  # chunks embedded so far in this run
    current_file: str
    errors: int
    phase: str  # waiting | scanning | indexing | cleaning | done


@dataclass
class IndexReport:
    collection: str
    files: int = 0
    indexed: int = 0  # newly parsed and embedded
    unchanged: int = 0
    reused: int = 0  # moved or duplicate: chunks already existed
    removed: int = 0  # paths gone, moved ones included
    moved: int = 0  # of the reused, those whose bytes left a path that is gone (counted in removed too)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    partial: list[tuple[str, str]] = field(default_factory=list)  # indexed, but some pages had no text
    arrived: dict[str, int] = field(default_factory=dict, repr=False)  # reused paths by content hash
    # Source folders that were not there, while every file indexed from them was found elsewhere in
    # the collection: renamed or moved, so they were dropped from it.
    relocated: list[str] = field(default_factory=list)


class Cancelled(Exception):
    pass


def chunk_id(content_hash: str, ordinal: int) -> str:
    return f"{content_hash[:32]}-{CHUNKER_VERSION}-{ordinal}"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Pending:
    doc_row: dict
    chunks: list[Chunk]


class Indexer:
    def __init__(self, db, vectors_factory: Callable, embedder_factory: Callable, lock_path: Path,
                 chunk_config: ChunkConfig | None = None):
        self.db = db
        self._vectors_factory = vectors_factory
        self._embedder_factory = embedder_factory
        self.lock_path = lock_path
        self.chunk_config = chunk_config or ChunkConfig()
        self.collections = Collections(db)

    # garbage collection ---------------------------------------------------------
    def collect_garbage(self) -> int:
        """Drop chunks no document points at, chunks a stopped batch wrote but never committed, and
        vectors no chunk row owns. Vectors go first. Called only under the index lock, with no batch
        of this run open, so every unembedded row is left over (a file re-read by a newer chunker
        version keeps its document's hash, so only this tells its uncommitted rows apart)."""
        vectors = self._vectors_factory()
        orphan_ids = [r[0] for r in self.db.execute(
            "select id from chunks where embedded = 0 or content_hash not in "
            "(select content_hash from documents where status = 'indexed' and content_hash is not null)")]
        if orphan_ids:
            vectors.delete(orphan_ids)
            with transaction(self.db):
                self.db.conn.executemany("delete from chunks where id = ?", [(i,) for i in orphan_ids])
        known = {r[0] for r in self.db.execute("select id from chunks where embedded = 1")}
        stray = sorted(vectors.ids() - known)
        if stray:
            vectors.delete(stray)
        return len(orphan_ids) + len(stray)

    def collect_garbage_exclusive(self, on_wait: Callable[[], None] | None = None,
                                  cancelled: Callable[[], bool] | None = None) -> int | None:
        """collect_garbage outside a run (after a collection is removed), waiting for any indexer
        (`on_wait` and `cancelled` as for exclusive). None: cancelled while waiting, so the garbage
        stays for the next run's collection."""
        try:
            with exclusive(self.lock_path, on_wait, cancelled, owner="garbage collection"):
                return self.collect_garbage()
        except LockWaitCancelled:
            return None

    # indexing -----------------------------------------------------------------------
    def index(self, name: str, progress: Callable[[IndexProgress], None] | None = None,
              cancelled: Callable[[], bool] | None = None,
              resume_later: Callable[[], bool] | None = None) -> IndexReport:
        """Index collection `name` incrementally. A run stopped by `cancelled` counts as finished
        with what it did, unless `resume_later()` says the app is closing: then, as after a kill,
        the collection is marked interrupted and the next start resumes it."""
        try:
            return self._index(name, progress, cancelled, resume_later or (lambda: False))
        except Exception as exc:
            # A run that failed (full disk, missing embedder) is not "interrupted": resuming it
            # at every start would fail the same way. The user sees the error and indexes again.
            self._settle(name)
            if not is_disk_full(exc):
                raise
            # Files committed before the failure stay indexed; half-written rows and
            # vectors are collected by the next run, as after a kill.
            raise DiskFull(f"The disk is full, so indexing {name!r} stopped. The files indexed so far are kept.",
                           hint="Free some space and index again: it continues where it stopped.") from exc

    def _settle(self, name: str) -> None:
        try:
            self.db.execute("update collections set index_started_at = null, index_unfinished_at = ? where name = ?",
                            [now_iso(), name])
        except Exception:  # noqa: BLE001 - best effort: on a full disk even this write may fail
            log.warning("could not clear the indexing mark of %r", name, exc_info=True)

    def _index(self, name: str, progress: Callable[[IndexProgress], None] | None,
               cancelled: Callable[[], bool] | None, resume_later: Callable[[], bool]) -> IndexReport:
        from assistant.knowledge.parsers import OTHER_DOCUMENT_SUFFIXES, SUPPORTED_SUFFIXES

        started = time.perf_counter()
        collection = self.collections.get(name)
        report = IndexReport(collection=collection["name"])  # as stored, however the user spelled it
        cid = collection["id"]
        cancelled = cancelled or (lambda: False)
        emit = progress or (lambda _p: None)
        with ExitStack() as held:
            try:
                held.enter_context(exclusive(self.lock_path, lambda: emit(IndexProgress(0, 0, 0, "", 0, "waiting")),
                                             cancelled, owner=lock_owner(cid)))
            except LockWaitCancelled:  # stopped while another run held the lock: this one never began
                report.cancelled = True
                emit(IndexProgress(0, 0, 0, "", 0, "done"))
                return report
            self.db["collections"].update(cid, {"index_started_at": now_iso()})
            self.collect_garbage()
            emit(IndexProgress(0, 0, 0, "", 0, "scanning"))
            unreadable: list[tuple[str, str]] = []
            sources = self.collections.sources(name)
            files = list(discover(sources, SUPPORTED_SUFFIXES | OTHER_DOCUMENT_SUFFIXES,
                                  self.collections.ignore_globs(name), unreadable))
            report.skipped.extend((storable(folder), reason) for folder, reason in unreadable)
            existing = {r["path"]: r for r in self.db["documents"].rows_where("collection_id = ?", [cid])}
            missing = self._missing_folders(sources, existing)
            kept = {p for under in missing.values() for p in under}
            files = [f for f in files if str(f) not in missing]
            report.files = len(files)
            pending: list[_Pending] = []
            try:
                for i, path in enumerate(files):
                    if cancelled():
                        raise Cancelled
                    shown = storable(path)
                    emit(IndexProgress(i, len(files), report.chunks_added, shown, len(report.skipped), "indexing"))
                    if shown != str(path):
                        self._skip(cid, shown, None, UNNAMEABLE, report)
                        continue
                    item = self._prepare(cid, path, existing.get(str(path)), report)
                    if item is not None:
                        pending.append(item)
                        if sum(len(p.chunks) for p in pending) >= EMBED_BATCH_CHUNKS:
                            self._commit(pending, report, cancelled)
                            pending = []
                self._commit(pending, report, cancelled)
                pending = []
                read = {storable(p) for p in files}
                for folder in self._relocated(cid, missing, existing, read):
                    kept.difference_update(missing.pop(folder))
                    report.relocated.append(folder)
                seen = read | kept
                gone = [p for p in existing if p not in seen]
                if gone:
                    with transaction(self.db):
                        self.db.conn.executemany("delete from documents where collection_id = ? and path = ?",
                                                 [(cid, p) for p in gone])
                        # With its documents, or a kill between the two would leave it "not there" for ever.
                        self.db.conn.executemany("delete from collection_sources where collection_id = ? and path = ?",
                                                 [(cid, folder) for folder in report.relocated])
                    report.removed = len(gone)
                    left = collections.Counter(existing[p]["content_hash"] for p in gone
                                               if existing[p]["status"] == "indexed")
                    report.moved = sum(min(n, left[digest]) for digest, n in report.arrived.items())
                emit(IndexProgress(len(files), len(files), report.chunks_added, "", len(report.skipped),
                                   "cleaning"))
                self.collect_garbage()
                self.db["collections"].update(cid, {"last_indexed_at": now_iso(), "updated_at": now_iso(),
                                                    "index_started_at": None, "index_unfinished_at": None})
            except Cancelled:
                report.cancelled = True
                stopped = {"index_unfinished_at": now_iso()}
                if not resume_later():
                    stopped["index_started_at"] = None
                self.db["collections"].update(cid, stopped)
                # Chunks of the batch being embedded are written but not committed: a
                # cancel (unlike a kill) can tidy them now, so the stores agree at once.
                self.collect_garbage()
        self._report_missing(missing, existing, report)
        report.chunks_total = self.collections.status(name).chunks
        report.seconds = time.perf_counter() - started
        emit(IndexProgress(len(files), len(files), report.chunks_added, "", len(report.skipped), "done"))
        return report

    def _missing_folders(self, sources: list[Path], existing: dict) -> dict[str, list[str]]:
        """Source folders that are not there, each with the paths indexed from it. An unplugged
        drive or an unconnected share keeps what was indexed from it: dropping it would make the
        next run embed it all again. Its files go when the folder is removed from the collection,
        or when they all turn up elsewhere in it (see _relocated)."""
        missing: dict[str, list[str]] = {}
        for source in sources:
            if os.path.lexists(source):
                continue
            under = [p for p in existing if p.startswith(str(source) + os.sep)]
            if under:  # it held files, so it was a folder: a missing file source is a deleted file
                missing[str(source)] = under
        return missing

    def _relocated(self, cid: int, missing: dict[str, list[str]], existing: dict, read: set[str]) -> list[str]:
        """The missing folders whose every indexed file is indexed again at another path of this
        collection (read in this run): a folder renamed or moved, then added under its new name.
        Kept, its files would be cited at their old paths beside the new ones, and the old folder
        shown as "not there" for ever."""
        present = {r[1] for r in self.db.execute(
            "select path, content_hash from documents where collection_id = ? and status = 'indexed'", [cid])
            if r[0] in read}
        moved = []
        for folder, under in missing.items():
            hashes = {existing[p]["content_hash"] for p in under if existing[p]["status"] == "indexed"}
            if hashes and hashes <= present:
                moved.append(folder)
        return moved

    def _report_missing(self, missing: dict[str, list[str]], existing: dict, report: IndexReport) -> None:
        for folder, under in missing.items():
            indexed = sum(1 for p in under if existing[p]["status"] == "indexed")  # not its skipped ones
            report.skipped.append((folder, FOLDER_MISSING.format(files=plural(indexed, "file"))))

    def _prepare(self, cid: int, path: Path, row: dict | None, report: IndexReport) -> _Pending | None:
        """Decide what a file needs. Returns work to embed, or None when it is settled here."""
        from assistant.knowledge.parsers import ParseLimits, parse_file

        try:
            stat = path.stat()
        except OSError as exc:
            reason = f"The file cannot be read ({exc.strerror or exc})."
            try:
                parse_file(path)  # it knows the user's words for a link loop, a dangling link...
            except UnreadableFile as unreadable:
                reason = unreadable.message
            return self._skip(cid, path, None, reason, report)
        # ctime too: a file restored from a backup (cp -p, rsync, unzip) can have the old size and
        # mtime with other bytes, but its ctime is always new, and a user cannot set it back.
        if (row and row["status"] == "indexed" and row["size_bytes"] == stat.st_size
                and row["mtime_ns"] == stat.st_mtime_ns and row.get("ctime_ns") == stat.st_ctime_ns
                and self._embedded_count(row["content_hash"])):
            report.unchanged += 1
            return None
        if not statmod.S_ISREG(stat.st_mode) or stat.st_size == 0 or stat.st_size > ParseLimits().max_file_bytes:
            # Let the parser say why (FIFO, too large, empty) before a byte is hashed:
            # hashing a 1 GB sparse file only to reject it would stall the whole run.
            try:
                parse_file(path)
            except UnreadableFile as exc:
                return self._skip(cid, path, stat, exc.message, report)
        try:
            digest = file_hash(path) if path.is_file() else None
        except OSError as exc:
            return self._skip(cid, path, stat, f"The file cannot be read ({exc.strerror or exc}).", report)
        base = {"collection_id": cid, "path": str(path), "size_bytes": stat.st_size,
                "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns, "content_hash": digest}
        reusable = self._embedded_count(digest) if digest else 0
        if reusable and row and row["status"] == "indexed" and row["content_hash"] == digest:
            self._upsert_doc({**row, **base})  # touched, not changed
            report.unchanged += 1
            return None
        if reusable:
            n = reusable
            report.arrived[digest] = report.arrived.get(digest, 0) + 1
            self._upsert_doc({**base, "status": "indexed", "error": self._note_of(digest), "n_chunks": n,
                              "indexed_at": now_iso(), "format": (row or {}).get("format") or path.suffix[1:]})
            report.reused += 1
            return None
        try:
            doc = parse_file(path)
        except UnreadableFile as exc:
            return self._skip(cid, path, stat, exc.message, report, digest)
        chunks = chunk_document(doc, self.chunk_config)
        if not chunks:
            return self._skip(cid, path, stat, "The file has no text to index.", report, digest)
        note = partly_read(doc.metadata)
        if note:
            report.partial.append((str(path), note))
        return _Pending({**base, "status": "indexed", "error": note, "n_chunks": len(chunks),
                         "format": doc.format, "pages": doc.pages}, chunks)

    def _vectors_of_same_text(self, rows: list[dict]) -> dict[str, np.ndarray]:
        """Vectors an older version already made of the same texts, by new chunk id: a file read again
        because the chunker changed (a new field, say) is not embedded again where its text is not."""
        old = _old_version_rows(self.db, sorted({r["content_hash"] for r in rows}))
        if not old:
            return {}
        by_text = {_embedding_text({"text": t, "heading": h}): i for i, t, h in old}
        wanted = {r["id"]: was for r in rows if (was := by_text.get(_embedding_text(r))) is not None}
        stored = self._vectors_factory().get(sorted(set(wanted.values())))
        return {new: stored[was] for new, was in wanted.items() if was in stored}

    def _note_of(self, digest: str) -> str | None:
        """What another file with these bytes could not have read (its scanned pages, say)."""
        row = self.db.execute("select error from documents where content_hash = ? and status = 'indexed' "
                              "and error is not null limit 1", [digest]).fetchone()
        return row[0] if row else None

    def _embedded_count(self, digest: str | None) -> int:
        """How many chunks the current parsers and chunker made of these bytes (0: read them again)."""
        return self.db.execute("select count(*) from chunks where content_hash = ? and embedded = 1 "
                               "and coalesce(version, 1) = ?", [digest, CHUNKER_VERSION]).fetchone()[0]

    def _skip(self, cid, path, stat, reason, report, digest=None):
        self._upsert_doc({"collection_id": cid, "path": str(path), "status": "skipped", "error": reason,
                          "size_bytes": stat.st_size if stat else None,
                          "mtime_ns": stat.st_mtime_ns if stat else None,
                          "ctime_ns": stat.st_ctime_ns if stat else None, "content_hash": digest,
                          "n_chunks": 0, "indexed_at": now_iso()})
        report.skipped.append((str(path), reason))
        return None

    def _upsert_doc(self, row: dict) -> None:
        self._write_doc({k: v for k, v in row.items() if k != "id"})

    def _write_doc(self, row: dict) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in ("collection_id", "path"))
        self.db.execute(f"insert into documents ({columns}) values ({marks}) "
                        f"on conflict(collection_id, path) do update set {updates}", list(row.values()))

    def _commit(self, pending: list[_Pending], report: IndexReport, cancelled) -> None:
        """Embed the gathered chunks, store the vectors, then commit every file of the batch at once."""
        if not pending:
            return
        rows = []
        for item in pending:
            digest = item.doc_row["content_hash"]
            for c in item.chunks:
                rows.append({"id": chunk_id(digest, c.ordinal), "content_hash": digest, "ordinal": c.ordinal,
                             "text": c.text, "heading": c.heading, "start": c.start, "end": c.end,
                             "page": c.page, "page_end": c.page_end, "line_start": c.line_start,
                             "line_end": c.line_end, "embedded": 0, "version": CHUNKER_VERSION,
                             "page_breaks": json.dumps(c.page_breaks) if c.page_breaks else None})
        # Two files of one batch may share bytes: their chunks are the same rows.
        unique = list({r["id"]: r for r in rows}.values())
        for r in unique:  # Chinese, Japanese, Korean runs as the character pairs keyword search finds
            r["cjk_terms"] = index_terms(r["text"], r["heading"])
        self.db["chunks"].insert_all(unique, pk="id", replace=True)
        reused = self._vectors_of_same_text(unique)
        todo = [r for r in unique if r["id"] not in reused]
        try:
            encoded = self._embedder_factory().encode([_embedding_text(r) for r in todo],
                                                      cancelled=cancelled) if todo else []
        except InterruptedError as exc:
            raise Cancelled from exc
        fresh = dict(zip((r["id"] for r in todo), encoded, strict=True))
        ordered = [reused[r["id"]] if r["id"] in reused else fresh[r["id"]] for r in unique]
        vectors = np.stack(ordered) if ordered else np.empty((0, 0), dtype=np.float32)
        self._vectors_factory().upsert([r["id"] for r in unique], vectors)
        hashes = {item.doc_row["content_hash"]: item.doc_row["n_chunks"] for item in pending}
        with transaction(self.db):  # the commit point of every file in the batch
            self.db.conn.executemany("update chunks set embedded = 1 where id = ?", [(r["id"],) for r in unique])
            # What an older version made of the same bytes: its vectors, now owned by no row, go
            # at the collection that ends this run. Other collections' copies share the new chunks.
            self.db.conn.executemany("delete from chunks where content_hash = ? and coalesce(version, 1) != ?",
                                     [(h, CHUNKER_VERSION) for h in hashes])
            self.db.conn.executemany("update documents set n_chunks = ? where content_hash = ? and status = 'indexed'",
                                     [(n, h) for h, n in hashes.items()])
            for item in pending:
                self._write_doc({**item.doc_row, "indexed_at": now_iso()})
        # A file whose bytes another file of the batch has (a copy, a link) is a duplicate, as it
        # would be in a later batch.
        distinct = len({item.doc_row["content_hash"] for item in pending})
        report.indexed += distinct
        report.reused += len(pending) - distinct
        report.chunks_added += len(unique)


def partly_read(metadata: dict) -> str | None:
    """What of an indexed file cannot be searched: a PDF's scanned or damaged pages. None: all of it."""
    notes = []
    for key, what in (("pages_without_text", "no text (scanned?)"), ("unreadable_pages", "could not be read")):
        pages = metadata.get(key) or []
        if pages:
            shown = ", ".join(map(str, pages[:12])) + (f" and {len(pages) - 12} more" if len(pages) > 12 else "")
            notes.append(f"{'page' if len(pages) == 1 else 'pages'} {shown}: {what}")
    return ("Indexed, but " + "; ".join(notes) + ". Those pages cannot be searched.") if notes else None


def _old_version_rows(db, hashes: list[str]) -> list[tuple[str, str, str]]:
    marks = ",".join("?" for _ in hashes)
    return db.execute(f"select id, text, heading from chunks where content_hash in ({marks}) and embedded = 1 "
                      "and coalesce(version, 1) != ?", [*hashes, CHUNKER_VERSION]).fetchall()


def _embedding_text(row: dict) -> str:
    # The section title travels with the text: "Termination > Notice" tells the
    # embedder what a bare "thirty days" paragraph is about.
    return f"{row['heading']}\n{row['text']}" if row["heading"] else row["text"]
