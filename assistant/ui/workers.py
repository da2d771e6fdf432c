"""Engine work off the UI thread, one job at a time.

`EngineTasks` owns one worker thread (like Anki's taskman): model loads,
answers and repairs queue behind each other, so only one of them ever uses
the engine. Results come back to the UI thread through a queued signal.

`AnswerJob` runs one `assistant.chat.ask` stream on that thread. Tokens go
into a locked buffer that the window drains on a timer (so a fast model
cannot flood the event loop); the few other events are posted one by one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from PySide6.QtCore import QObject, Qt, Signal, Slot

from assistant.chat import Finished, Restarted
from assistant.llm.protocol import Token
from assistant.ui.formatting import repair_progress

log = logging.getLogger("assistant.ui")

THREAD_PREFIX = "assistant-engine-worker"


class TasksClosed(Exception):
    """Raised inside a job's progress callback once the window is closing."""


class EngineTasks(QObject):
    """A single-thread executor whose callbacks run on the UI thread."""

    _deliver = Signal(object)  # a zero-argument callable to run on the UI thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_PREFIX)
        self._closing = threading.Event()
        self._pending = 0
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    @property
    def busy(self) -> bool:
        """A job is queued or running (counted on the UI thread)."""
        return self._pending > 0

    def post(self, callback: Callable[[], object]) -> None:
        """Run `callback` on the UI thread soon. Safe from any thread; dropped once closing."""
        if not self._closing.is_set():
            self._deliver.emit(callback)

    def run(self, job: Callable[[], object], on_done: Callable[[object], object],
            on_error: Callable[[BaseException], object]) -> Future | None:
        """Queue `job` on the worker thread; then `on_done(result)` or `on_error(exc)` on the UI thread."""
        if self._closing.is_set():
            return None
        self._pending += 1

        def work():
            try:
                result = job()
            except BaseException as exc:  # noqa: BLE001 - handed to the UI thread as it is
                if not isinstance(exc, TasksClosed):
                    log.debug("background job failed", exc_info=exc)
                self.post(partial(self._finish, on_error, exc))
            else:
                self.post(partial(self._finish, on_done, result))

        return self._executor.submit(work)

    def _finish(self, callback, value) -> None:
        self._pending -= 1
        callback(value)

    @Slot(object)
    def _run_delivered(self, callback) -> None:
        if not self._closing.is_set():
            callback()

    def shutdown(self) -> None:
        """Drop queued jobs, wait for the running one, end the thread. Idempotent.

        The caller cancels a running generation first (engine.cancel), so the
        wait is short; a model load cannot be interrupted and is waited for.
        """
        self._closing.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._pending = 0


class AnswerJob:
    """One answer streamed on the worker thread; the UI drains its text with `take_text()`."""

    def __init__(self, stream: Callable[[threading.Event], Iterator], cancel: Callable[[], None],
                 post_event: Callable[[object], None]):
        """`stream(stop)`: the answer's events; it ends early, as 'stopped', once `stop` is set."""
        self._stream = stream
        self._cancel = cancel
        self._post_event = post_event
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self._restarted = False  # the text taken so far is to be replaced, not added to
        self._stop = threading.Event()
        self.received_tokens = 0

    def run(self) -> Finished | None:
        """On the worker thread: consume the stream; returns its Finished event."""
        finished = None
        for event in self._stream(self._stop):
            if isinstance(event, Token):
                with self._lock:
                    self._parts.append(event.text)
                    self.received_tokens += 1
            elif isinstance(event, Finished):
                finished = event
            else:
                if isinstance(event, Restarted):
                    with self._lock:
                        self._parts.clear()
                        self._restarted = True
                self._post_event(event)
        return finished

    def stop(self) -> None:
        """From the UI thread: ask the engine to stop; the stream still ends with Finished('stopped')."""
        self._stop.set()
        self._cancel()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def take_text(self) -> tuple[bool, str]:
        """The text that arrived since the last call, and whether it replaces what was taken before
        (the answer restarted in between)."""
        with self._lock:
            text, restarted = "".join(self._parts), self._restarted
            self._parts.clear()
            self._restarted = False
        return restarted, text


def repair_job(core, tasks: EngineTasks, report: Callable[[str], object]) -> Callable[[], list]:
    """`assistant setup --repair` as a job for `tasks`: progress goes to `report` on the UI thread,
    and a window that closes mid-repair stops it (the partial copy is removed by the installer)."""
    last: dict[str, int] = {}

    def progress(name: str, done: int, total: int) -> None:  # on the worker thread
        if tasks.closing:
            raise TasksClosed("the window closed during the repair")
        pct = int(done * 100 / total) if total else 100
        if last.get(name) != pct:
            last[name] = pct
            tasks.post(partial(report, repair_progress(name, done, total)))

    def job():
        from assistant.setup_models import install_starters

        return install_starters(core, repair=True, progress=progress)

    return job
