"""How long the UI thread was unable to run: a timer that notes how late each of its ticks came.

    probe = StallProbe()
    probe.start()
    ...                         # generate, index, load: the event loop keeps running
    probe.stop()
    probe.longest_ms            # the longest gap between two ticks, less the interval

A tick can only run when the event loop is free, so a gap much longer than the
interval is a stretch in which the window could not repaint or take a click.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Slot


class StallProbe(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.ticks = 0
        self.longest_ms = 0.0

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        """Start (again) from zero."""
        self.ticks = 0
        self.longest_ms = 0.0
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        """Stop; returns the longest stall in ms."""
        self._timer.stop()
        self._tick()
        return self.longest_ms

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            late = (now - self._last) * 1000 - self.interval_ms
            self.longest_ms = max(self.longest_ms, late)
            self.ticks += 1
        self._last = now
