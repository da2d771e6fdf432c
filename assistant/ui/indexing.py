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
from collections import deque
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from assistant.knowledge.indexer import IndexProgress, IndexReport
from assistant.knowledge.library import describe_failure

log = logging.getLogger("assistant.ui")

THREAD_NAME = "assistant-indexing"
PROGRESS_MS = 100  # the UI takes the latest progress this often: never flooded, never stale
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


class IndexingQueue(QObject):
    """Runs index jobs one after another on a background thread; every signal arrives on the UI thread."""

    started = Signal(str)  # a run began (collection name)
    progress = Signal(str, object)  # (collection name, IndexProgress), the latest, every PROGRESS_MS at most
    finished = Signal(object)  # IndexOutcome, also for a queued run cancelled before it began
    active_changed = Signal(bool)  # True when work is queued or running, False when all is done

    _deliver = Signal(object)  # a zero-argument callable to run on the UI thread

    def __init__(self, paths, parent: QObject | None = None, settings=None):
        """`paths`: the app's Paths (the thread opens `paths.database` itself); `settings`: the
        app's Settings (read for the embedding backend), None for the defaults."""
        super().__init__(parent)
        self._paths = paths
        self._settings = settings
        self._lock = threading.Condition()
        self._jobs: deque[_Job] = deque()
        self._running: _Job | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._pending = 0  # jobs requested and not yet reported back (UI thread only)
        self._latest: tuple[str, IndexProgress] | None = None  # written by the thread, taken by the timer
        self._poll = QTimer(self)
        self._poll.setInterval(PROGRESS_MS)
        self._poll.timeout.connect(self._flush_progress)
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)

    # asked from the UI thread -------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._pending > 0

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
        self._submit(_Job("index", name, threading.Event()))
        return True

    def collect_garbage(self) -> None:
        """Queue the clean-up of chunks and vectors no collection uses any more (after a removal)."""
        if not self._closing.is_set():
            self._submit(_Job("collect", "", threading.Event()))

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
        self._closing.set()
        with self._lock:
            self._jobs.clear()
            if self._running is not None:
                self._running.cancel.set()
            self._lock.notify_all()
            thread = self._thread
        self._pending = 0
        self._poll.stop()
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("indexing did not stop within %.0f s; it resumes at the next run", timeout)
            return False
        return True

    def _submit(self, job: _Job) -> None:
        self._pending += 1
        if self._pending == 1:
            self._poll.start()
            self.active_changed.emit(True)
        with self._lock:
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _report(self, outcome: IndexOutcome | None) -> None:
        """On the UI thread: one job is over."""
        self._pending = max(0, self._pending - 1)
        self._flush_progress()  # the run's last word ("done") comes before its outcome
        if outcome is not None:
            self.finished.emit(outcome)
        if self._pending == 0:
            self._poll.stop()
            self.active_changed.emit(False)

    @Slot()
    def _flush_progress(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, None
        if latest is not None:
            self.progress.emit(*latest)

    @Slot(object)
    def _run_delivered(self, callback) -> None:
        if not self._closing.is_set():
            callback()

    def _post(self, callback) -> None:
        if not self._closing.is_set():
            self._deliver.emit(callback)

    # on the indexing thread ---------------------------------------------------------
    def _next(self) -> _Job | None:
        with self._lock:
            self._running = None
            while not self._jobs and not self._closing.is_set():
                self._lock.wait()
            if self._closing.is_set():
                return None
            self._running = self._jobs.popleft()
            return self._running

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
            kb.indexer.collect_garbage_exclusive()
            return IndexOutcome(job.name)
        self._post(partial(self.started.emit, job.name))

        def progress(event: IndexProgress) -> None:
            with self._lock:
                self._latest = (job.name, event)

        def cancelled() -> bool:
            return job.cancel.is_set() or self._closing.is_set()

        # Stopped by the window closing (not by the user): resumed at the next start.
        report = kb.index(job.name, progress, cancelled,
                          resume_later=lambda: self._closing.is_set() and not job.by_user)
        return IndexOutcome(job.name, report, cancelled=report.cancelled)
