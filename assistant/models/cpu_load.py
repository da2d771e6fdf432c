"""How much of the processors other programs took while this app timed something.

A speed measurement taken while another program (or the app's own chat engine) computes is stored
far too slow, and every estimate in the model selector is derived from it: 2 tokens/s recorded for
a model that writes 150 when the machine is free.
"""

from __future__ import annotations

import threading
import time

import psutil

from assistant.errors import UserFacingError

BUSY_SHARE = 0.3  # of all cores: on two cores, more than 0.6 of one taken by others


class MachineBusy(UserFacingError):
    """Other programs used the processors during a measurement, so it was not kept."""


class OtherLoad:
    """Other programs' share of all cores since this was made: the system's busy time less what the
    measured engine (`pid`) and the thread timing it used. The rest of this process counts as
    others: the window's indexing or hashing slows the engine down as much as another program."""

    def __init__(self, pid: int | None = None):
        self._engine = psutil.Process(pid) if pid else None
        self._thread = threading.get_native_id()
        self._start = self._read()

    def _own(self) -> float:
        used = 0.0
        if self._engine is not None:
            try:
                times = self._engine.cpu_times()
                used += times.user + times.system
            except psutil.Error:
                self._engine = None  # it ended: from now on its time counts as others', a margin of error
        for thread in psutil.Process().threads():
            if thread.id == self._thread:
                used += thread.user_time + thread.system_time
        return used

    def _read(self) -> tuple[float, float, float]:
        times = psutil.cpu_times()
        # guest and guest_nice are inside user and nice already (Linux)
        busy = (sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0)
                - getattr(times, "guest_nice", 0.0))
        return time.monotonic(), busy, self._own()

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
