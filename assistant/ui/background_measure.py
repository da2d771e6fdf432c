"""Measuring the installed models' speed in the background, once, after the app starts.

The selector promises speeds measured on this machine, so the models nobody has
measured yet (at first run: the starter models) are measured one by one on the
ModelTasks bench lane, smallest first, after the model the user wants is loaded.

A measurement competes for the two cores with the user's answer or an indexing
run: it would slow them down, and its own figures would be wrong. So it pauses
(the running measurement is cancelled and asked again later) while the user is
being answered or documents are indexed, and goes on after a quiet spell. It does
not start while other programs keep the CPU busy either. A
cancel the user asks for (status bar, models page, selector) turns background
measuring off in the settings; the Models page still measures on request.
"""

from __future__ import annotations

import logging

import psutil
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from assistant.models.speed import models_to_measure
from assistant.store.model_speed import SpeedStore
from assistant.ui.model_tasks import JobOutcome, ModelTasks

log = logging.getLogger("assistant.ui")

QUIET_MS = 5000  # idle this long after an answer or indexing run before measuring again
BUSY_CPU_PERCENT = 35.0  # of all cores, since the last look: another program is busy, wait
FIRST_DELAY_MS = 2000  # after the model is ready: let the window settle and the user start typing


class BackgroundMeasuring(QObject):
    status = Signal(str)  # the status bar's text for it ("" when nothing is being measured)
    measured = Signal(str)  # a model's figures were stored (its name)
    turned_off = Signal()  # the user cancelled a background measurement

    def __init__(self, core, tasks: ModelTasks, parent: QObject | None = None):
        super().__init__(parent)
        self.core = core
        self.tasks = tasks
        self.quiet_ms = QUIET_MS
        self._todo: list[str] = []
        self._current: str | None = None
        self._pausing = False  # the running measurement was cancelled by us, not by the user
        self._busy: set[str] = set()  # why we wait: "answer", "indexing"
        self._started = False
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next)
        lane = tasks.benches
        lane.progress.connect(self._on_progress)
        lane.finished.connect(self._on_finished)

    @property
    def active(self) -> bool:
        return bool(self._todo) and not self._stopped

    @property
    def current(self) -> str | None:
        return self._current

    def pending(self) -> list[str]:
        return list(self._todo)

    def start(self, delay_ms: int = FIRST_DELAY_MS) -> None:
        """Plan the measurements (once per run of the app) and begin after `delay_ms` if idle."""
        if self._started or self._stopped or not self.core.settings.measure_in_background:
            return
        self._started = True
        self._todo = [m.name for m in models_to_measure(self.core)]
        psutil.cpu_percent(interval=None)  # the first look: machine_busy compares with it
        if self._todo:
            log.info("measuring in the background: %s", ", ".join(self._todo))
            self._timer.start(delay_ms)

    def set_busy(self, reason: str, busy: bool) -> None:
        """The app is (or stopped) answering or indexing: pause, or go on after a quiet spell."""
        if busy:
            self._busy.add(reason)
            self._timer.stop()
            if self._current is not None and not self._pausing:
                self._pausing = True
                self.tasks.benches.cancel(self._current)
        else:
            self._busy.discard(reason)
            if not self._busy and self.active and self._current is None:
                self._timer.start(self.quiet_ms)

    def stop_by_user(self) -> None:
        """The user asked to stop (the status bar's Stop): the same as cancelling the measurement."""
        if self._current is not None:
            self.tasks.benches.cancel(self._current)
        else:
            self._turn_off()

    def shutdown(self) -> None:
        """The window closes: what is left is measured at the next start."""
        self._stopped = True
        self._timer.stop()

    def machine_busy(self) -> bool:
        """Other programs keep the CPU busy: a measurement now would store figures far too slow
        (and the model selector would show them as measured). Compares with the previous look."""
        return psutil.cpu_percent(interval=None) > BUSY_CPU_PERCENT

    @Slot()
    def _next(self) -> None:
        if self._busy or self._current is not None or self._stopped:
            return
        if self.machine_busy():
            log.info("the machine is busy: measuring later")
            self._timer.start(self.quiet_ms)
            return
        measured = SpeedStore(self.core.db).all_latest()
        lane = self.tasks.benches
        while self._todo:
            name = self._todo[0]
            if name in measured or lane.is_busy(name) or self.core.registry.get(name) is None:
                self._todo.pop(0)  # measured meanwhile, being measured at the user's request, or deleted
                continue
            if self.tasks.bench(name):
                self._current = name
                self.status.emit(self._text(name, 0.0))
                return
            self._todo.pop(0)
        self.status.emit("")

    def _text(self, name: str, fraction: float) -> str:
        model = self.core.registry.get(name)
        shown = model.display_name if model else name
        return f"Measuring {shown}'s speed… {fraction:.0%}"

    @Slot(str, object)
    def _on_progress(self, key: str, event) -> None:
        if key == self._current and not self._pausing and not self._stopped:
            self.status.emit(self._text(key, getattr(event, "fraction", 0.0)))

    @Slot(object)
    def _on_finished(self, outcome: JobOutcome) -> None:
        if outcome.key != self._current or self._stopped:
            return
        self._current = None
        paused, self._pausing = self._pausing, False  # a job that ended before our cancel landed clears it too
        if outcome.cancelled and paused:
            # asked again once the app is quiet
            self.status.emit("")
            if not self._busy:
                self._timer.start(self.quiet_ms)
            return
        if outcome.cancelled:
            self._turn_off()
            return
        self._todo.pop(0)
        if outcome.ok:
            self.measured.emit(outcome.key)
        else:
            log.warning("background measurement of %s failed: %s", outcome.key, outcome.error)
        self.status.emit("")
        if not self._busy:
            self._timer.start(0)

    def _turn_off(self) -> None:
        self._todo.clear()
        self._timer.stop()
        self.status.emit("")
        settings = self.core.settings
        if settings.measure_in_background:
            settings.measure_in_background = False
            try:
                settings.save(self.core.paths)
            except OSError as exc:  # the choice still holds for this run
                log.warning("could not save the settings: %s", exc)
        self.turned_off.emit()
