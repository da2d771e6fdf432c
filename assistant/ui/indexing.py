"""Indexing off the UI thread and off the engine thread: one queue, one thread, its own database.

Indexing can take minutes, and the user keeps chatting meanwhile, so it must
not wait behind (or hold up) the engine's single worker. The indexer groups
its writes in BEGIN IMMEDIATE transactions, which on a shared sqlite3
connection would swallow the UI's writes, so the thread opens its own
connection and its own KnowledgeBase (and embedder: two threads must not
share one tokenizer). The thread is a daemon: if a run cannot be stopped in
time (it is inside the first torch import, say), closing the window does not
hang; the index is resumable, so the next run picks up where it stopped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QObject

from assistant.knowledge.indexer import IndexProgress, IndexReport
from assistant.knowledge.library import describe_failure
from assistant.ui.serial_queue import SerialQueue

log = logging.getLogger("assistant.ui")

THREAD_NAME = "assistant-indexing"
SHUTDOWN_TIMEOUT_S = 10.0


@dataclass
class IndexOutcome:
    """How one run ended: a report, or the sentence saying why it stopped."""

    name: str
    report: IndexReport | None = None
    error: str | None = None
    cancelled: bool = False


@dataclass
class _Job:
    kind: str  # "index" | "collect" (drop what removed collections left behind)
    name: str
    cancel: threading.Event
    by_user: bool = False  # cancelled by the user (not by the window closing)


class IndexingQueue(SerialQueue):
    """Runs index jobs one after another on a background thread; every signal arrives on the UI thread.

    `started`/`progress` carry the collection name (progress: an IndexProgress); `finished` an
    IndexOutcome.
    """

    def __init__(self, paths, parent: QObject | None = None, settings=None):
        """`paths`: the app's Paths (the thread opens `paths.database` itself); `settings`: the
        app's Settings (read for the embedding backend), None for the defaults."""
        super().__init__(THREAD_NAME, parent)
        self._paths = paths
        self._settings = settings

    # asked from the UI thread -------------------------------------------------------
    def running(self) -> str | None:
        with self._lock:
            return self._running.name if self._running and self._running.kind == "index" else None

    def queued(self) -> list[str]:
        with self._lock:
            return [j.name for j in self._jobs if j.kind == "index"]

    def is_busy(self, name: str) -> bool:
        """`name` is being indexed or waits for its turn."""
        return name == self.running() or name in self.queued()

    def index(self, name: str) -> bool:
        """Queue an indexing run of `name`. False when one is already queued (a running one is not
        enough: files added since it listed the folders would be missed) or the queue is closed."""
        with self._lock:
            if self._closing.is_set() or any(j.kind == "index" and j.name == name for j in self._jobs):
                return False
        self._enqueue(_Job("index", name, threading.Event()))
        return True

    def collect_garbage(self) -> None:
        """Queue the clean-up of chunks and vectors no collection uses any more (after a removal)."""
        if not self._closing.is_set():
            self._enqueue(_Job("collect", "", threading.Event()))

    def cancel(self, name: str) -> None:
        """Stop `name`'s run (it ends at the next file or embedding batch) and drop a queued one."""
        dropped = []
        with self._lock:
            for job in list(self._jobs):
                if job.kind == "index" and job.name == name:
                    self._jobs.remove(job)
                    dropped.append(job)
            if self._running is not None and self._running.name == name:
                self._running.by_user = True
                self._running.cancel.set()
        for job in dropped:
            self._report(IndexOutcome(job.name, cancelled=True))

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
        """Cancel everything and wait up to `timeout` s for the thread. True if it ended. Idempotent."""
        self._stop_all()
        return self._join(timeout, "indexing did not stop within %.0f s; it resumes at the next run")

    # on the indexing thread ---------------------------------------------------------
    def _loop(self) -> None:
        db = kb = None
        try:
            while (job := self._next()) is not None:
                try:
                    if kb is None:
                        db, kb = self._open()
                    outcome = self._run(kb, job)
                except BaseException as exc:  # noqa: BLE001 - the run failed; the thread lives on
                    cancelled = job.cancel.is_set() or self._closing.is_set()
                    if job.kind == "collect":
                        log.warning("could not tidy up after a removed collection", exc_info=exc)
                    outcome = IndexOutcome(job.name, error=None if cancelled else describe_failure(exc),
                                           cancelled=cancelled)
                    if db is not None and db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    if kb is not None and not cancelled and job.kind == "index":
                        self._tidy(kb)
                with self._lock:
                    self._running = None  # before the report: the UI then sees the run as over
                self._post(partial(self._report, outcome if job.kind == "index" else None))
        finally:
            with self._lock:
                self._running = None
            if db is not None:
                db.conn.close()

    @staticmethod
    def _tidy(kb) -> None:
        """After a failed run, drop what it wrote but did not commit, if the disk lets us now
        (else the next run does it first)."""
        try:
            kb.indexer.collect_garbage_exclusive()
        except Exception:  # noqa: BLE001 - best effort; the failure itself is already reported
            log.warning("could not tidy up after a failed indexing run", exc_info=True)

    def _open(self):
        from assistant.knowledge.base import KnowledgeBase
        from assistant.store.db import open_database

        db = open_database(self._paths.database)
        return db, KnowledgeBase.over(db, self._paths, settings=self._settings)

    def _run(self, kb, job: _Job) -> IndexOutcome:
        if job.kind == "collect":
            # Closing the app ends a wait for another process's run; that run's own collection, or
            # the next one, frees the space instead.
            kb.indexer.collect_garbage_exclusive(cancelled=self._closing.is_set)
            return IndexOutcome(job.name)
        self._post(partial(self.started.emit, job.name))

        def progress(event: IndexProgress) -> None:
            self._set_latest(job.name, event)

        def cancelled() -> bool:
            return job.cancel.is_set() or self._closing.is_set()

        # Stopped by the window closing (not by the user): resumed at the next start.
        report = kb.index(job.name, progress, cancelled,
                          resume_later=lambda: self._closing.is_set() and not job.by_user)
        return IndexOutcome(job.name, report, cancelled=report.cancelled)
