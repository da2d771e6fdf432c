"""Model downloads, imports and speed measurements, each on its own background thread.

None of them may wait behind the engine's single worker (an answer can take a
minute) or hold it up (a download takes many). Each kind gets a JobLane: a
queue served by one thread, so downloads queue behind each other rather than
split the line, and two measurements never compete for the CPU. A lane's
thread opens its own database connection (see assistant.models.jobs). The
threads are daemons: one stuck in a network read or a model load cannot keep
the app from closing; a download cut off that way is resumed next time.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from assistant import offline
from assistant.models.catalog import CatalogEntry
from assistant.models.jobs import (
    CANCELLED,
    JobContext,
    describe_job_error,
    run_bench,
    run_download,
    run_import,
    run_locate,
)
from assistant.ui.serial_queue import SerialQueue

log = logging.getLogger("assistant.ui")

THREAD_PREFIX = "assistant-models-"
SHUTDOWN_TIMEOUT_S = 10.0


@dataclass
class JobOutcome:
    """How one job ended: its result, or the sentence saying why not."""

    kind: str  # download | import | bench
    key: str  # the model's name; for an import, the file's path
    result: object = None  # InstalledModel (download, import) | SpeedMeasurement (bench)
    error: str | None = None  # for a cancel: what was kept, if anything
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


@dataclass
class _Job:
    key: str
    work: Callable  # work(ctx, report, cancel) -> result
    settings: object
    cancel: threading.Event


class JobLane(SerialQueue):
    """One queue, one thread. Every signal arrives on the UI thread; `finished` carries a JobOutcome."""

    submitted = Signal(str)  # key: queued (from any view sharing this lane)

    def __init__(self, kind: str, paths, parent: QObject | None = None):
        super().__init__(THREAD_PREFIX + kind, parent)
        self.kind = kind
        self._paths = paths

    # asked from the UI thread -------------------------------------------------------
    def running(self) -> str | None:
        with self._lock:
            return self._running.key if self._running else None

    def queued(self) -> list[str]:
        with self._lock:
            return [j.key for j in self._jobs]

    def is_busy(self, key: str) -> bool:
        return key == self.running() or key in self.queued()

    def submit(self, key: str, work: Callable, settings=None) -> bool:
        """Queue `work(ctx, report, cancel)`. False if `key` is already queued or running, or closing."""
        if self._closing.is_set() or self.is_busy(key):
            return False
        self._enqueue(_Job(key, work, settings, threading.Event()))
        self.submitted.emit(key)
        return True

    def cancel(self, key: str) -> None:
        """Stop `key`'s job: a queued one is dropped, a running one stops at its next check."""
        dropped = []
        with self._lock:
            for job in list(self._jobs):
                if job.key == key:
                    self._jobs.remove(job)
                    dropped.append(job)
            if self._running is not None and self._running.key == key:
                self._running.cancel.set()
        for job in dropped:
            self._report(JobOutcome(self.kind, job.key, cancelled=True))

    def close(self) -> None:
        """Cancel everything; the thread ends after its current job. Idempotent."""
        if self._stop_all():
            self.active_changed.emit(False)

    def join(self, timeout: float) -> bool:
        return self._join(timeout, f"the {self.kind} thread did not stop within %.0f s")

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
        self.close()
        return self.join(timeout)

    # on the lane's thread -----------------------------------------------------------
    def _loop(self) -> None:
        db = None
        try:
            while (job := self._next()) is not None:
                try:
                    if db is None:
                        from assistant.store.db import open_database

                        db = open_database(self._paths.database)
                    outcome = self._run(job, JobContext(self._paths, db, job.settings, self._closing))
                except CANCELLED as exc:
                    outcome = JobOutcome(self.kind, job.key, error=str(exc) or None, cancelled=True)
                except BaseException as exc:  # noqa: BLE001 - the job failed; the thread lives on
                    outcome = JobOutcome(self.kind, job.key, error=describe_job_error(self.kind, job.key, exc))
                with self._lock:
                    self._running = None  # before the report: the UI then sees the job as over
                self._post(partial(self._report, outcome))
        finally:
            with self._lock:
                self._running = None
            if db is not None:
                db.conn.close()

    def _run(self, job: _Job, ctx: JobContext) -> JobOutcome:
        self._post(partial(self.started.emit, job.key))

        def report(event: object) -> None:
            self._set_latest(job.key, event)

        return JobOutcome(self.kind, job.key, result=job.work(ctx, report, job.cancel))


class ModelTasks(QObject):
    """The models page's and the selector's background work; share one between them."""

    network_changed = Signal(list)  # the operations now allowed on the network ([] when none), on the UI thread
    _deliver = Signal(object)

    def __init__(self, core, parent: QObject | None = None):
        super().__init__(parent)
        self.core = core
        self.downloads = JobLane("download", core.paths, self)
        self.imports = JobLane("import", core.paths, self)
        self.benches = JobLane("bench", core.paths, self)
        self.bench_options: dict = {}  # passed to measure_model (tests measure a shorter question)
        self._closed = False
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)
        offline.add_network_listener(self._on_network)

    @property
    def lanes(self) -> tuple[JobLane, JobLane, JobLane]:
        return self.downloads, self.imports, self.benches

    def _settings(self):
        # A copy: the job must not see the UI thread change settings halfway through.
        return copy.deepcopy(self.core.settings)

    def download(self, entry: CatalogEntry) -> bool:
        return self.downloads.submit(entry.name, partial(run_download, entry=entry), self._settings())

    def import_file(self, path: str | Path) -> bool:
        path = Path(path)
        return self.imports.submit(str(path), partial(run_import, path=path), self._settings())

    def locate(self, name: str, path: str | Path) -> bool:
        """Check `path` as the moved file of imported model `name`: on the imports' thread, since both
        read whole files and the import box shows either's progress and Cancel. Keyed by `path`."""
        path = Path(path)
        return self.imports.submit(str(path), partial(run_locate, name=name, path=path), self._settings())

    def bench(self, name: str) -> bool:
        return self.benches.submit(name, partial(run_bench, name=name, **self.bench_options), self._settings())

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
        """Cancel every job and wait up to `timeout` s in all for the threads. True if all ended.

        A download stopped this way stays pending, so the next start offers to resume it.
        """
        if not self._closed:
            self._closed = True
            offline.remove_network_listener(self._on_network)
        for lane in self.lanes:
            lane.close()
        deadline = time.monotonic() + timeout
        return all([lane.join(deadline - time.monotonic()) for lane in self.lanes])

    def _on_network(self, operations: list[str]) -> None:
        # Runs on the download's thread, inside offline.network_allowed_for: never raise into it.
        try:
            if not self._closed:
                self._deliver.emit(partial(self.network_changed.emit, list(operations)))
        except RuntimeError:  # the Qt object is gone already
            pass

    @Slot(object)
    def _run_delivered(self, callback) -> None:
        if not self._closed:
            callback()
