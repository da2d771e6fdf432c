"""Ctrl-C in a command stops the work it runs, cleanly, instead of killing the command."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def on_ctrl_c(action: Callable[[], object]) -> Iterator[None]:
    """While inside, Ctrl-C calls `action()` (set a cancel flag, stop the engine); the previous
    handler comes back after."""
    previous = signal.signal(signal.SIGINT, lambda _sig, _frame: action())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
