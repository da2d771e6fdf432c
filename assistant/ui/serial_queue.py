"""One queue served by one background thread, reporting to the UI thread.

The mechanics the indexing queue and the model job lanes share: jobs wait in a
deque behind a condition; a daemon thread takes them one at a time; the latest
progress event is kept by the thread and taken by a timer on the UI thread, so
the UI is never flooded and never stale; outcomes and other callbacks are posted
to the UI thread through a queued signal. Subclasses write the thread's loop
(`_loop`, taking jobs with `_next`) and the public API over `_enqueue`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

log = logging.getLogger("assistant.ui")

PROGRESS_MS = 100  # the UI takes the latest progress this often: never flooded, never stale


class SerialQueue(QObject):
    started = Signal(str)  # a job began (its key)
    progress = Signal(str, object)  # (key, its latest progress event), every PROGRESS_MS at most
    finished = Signal(object)  # a job's outcome, also for a queued job cancelled before it began
    active_changed = Signal(bool)  # True when work is queued or running, False when all is done

    _deliver = Signal(object)  # a zero-argument callable to run on the UI thread

    def __init__(self, thread_name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._thread_name = thread_name
        self._lock = threading.Condition()
        self._jobs: deque = deque()
        self._running = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._pending = 0  # jobs submitted and not yet reported back (UI thread only)
        self._latest: tuple[str, object] | None = None  # written by the thread, taken by the timer
        self._poll = QTimer(self)
        self._poll.setInterval(PROGRESS_MS)
        self._poll.timeout.connect(self._flush_progress)
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)

    @property
    def active(self) -> bool:
        return self._pending > 0

    # on the UI thread ---------------------------------------------------------------
    def _enqueue(self, job) -> None:
        self._pending += 1
        if self._pending == 1:
            self._poll.start()
            self.active_changed.emit(True)
        with self._lock:
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._thread_name, daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _stop_all(self) -> bool:
        """Drop the queued jobs and cancel the running one; the thread ends after it. Returns
        whether work was pending."""
        self._closing.set()
        with self._lock:
            self._jobs.clear()
            if self._running is not None:
                self._running.cancel.set()
            self._lock.notify_all()
        was_active, self._pending = self._pending > 0, 0
        self._poll.stop()
        return was_active

    def _join(self, timeout: float, warning: str) -> bool:
        """Wait up to `timeout` s for the thread; True if it ended (else log `warning`)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(max(0.0, timeout))
        if thread.is_alive():
            log.warning(warning, timeout)
            return False
        return True

    def _report(self, outcome) -> None:
        """One job is over (`outcome` None: a job with nothing to tell)."""
        self._pending = max(0, self._pending - 1)
        self._flush_progress()  # a job's last progress comes before its outcome
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

    # on the queue's thread ----------------------------------------------------------
    def _post(self, callback) -> None:
        if not self._closing.is_set():
            self._deliver.emit(callback)

    def _set_latest(self, key: str, event: object) -> None:
        with self._lock:
            self._latest = (key, event)

    def _next(self):
        """The next job, or None once closing (blocks while the queue is empty)."""
        with self._lock:
            self._running = None
            while not self._jobs and not self._closing.is_set():
                self._lock.wait()
            if self._closing.is_set():
                return None
            self._running = self._jobs.popleft()
            return self._running

    def _loop(self) -> None:
        raise NotImplementedError
