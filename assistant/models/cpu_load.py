"""How much of the processors other programs took while this app timed something.

A speed measurement taken while another program (or the app's own chat engine) computes is stored
far too slow, and every estimate in the model selector is derived from it: 2 tokens/s recorded for
a model that writes 150 when the machine is free.
"""

from __future__ import annotations

import time

import psutil

from assistant.errors import UserFacingError

BUSY_SHARE = 0.3  # of all cores: on two cores, more than 0.6 of one taken by others


class MachineBusy(UserFacingError):
    """Other programs used the processors during a measurement, so it was not kept."""


class OtherLoad:
    """Other programs' share of all cores since this was made: the system's busy time less what
    this process and `pids` (the measured engine) used themselves."""

    def __init__(self, *pids: int):
        self._procs = [psutil.Process()] + [psutil.Process(pid) for pid in pids if pid]
        self._start = self._read()

    def _read(self) -> tuple[float, float, float]:
        times = psutil.cpu_times()
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        own = 0.0
        for process in self._procs:
            try:
                used = process.cpu_times()
                own += used.user + used.system
            except psutil.Error:
                pass  # the engine ended: its last figures are what counted
        return time.monotonic(), busy, own

    def share(self) -> float:
        (t0, busy0, own0), (t1, busy1, own1) = self._start, self._read()
        capacity = (t1 - t0) * (psutil.cpu_count() or 1)
        if capacity <= 0:
            return 0.0
        return min(1.0, max(0.0, (busy1 - busy0) - (own1 - own0)) / capacity)


def refuse_if_busy(share: float) -> None:
    if share > BUSY_SHARE:
        raise MachineBusy(
            f"Other programs used {share:.0%} of the processors while the speed was measured, so it "
            "would be stored far too low; it was not kept. Measure again when the computer is idle "
            "(and no answer is being written).")
