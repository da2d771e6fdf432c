"""Ctrl-C in a command stops the work it runs, cleanly, instead of killing the command."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def on_ctrl_c(action: Callable[[], object]) -> Iterator[threading.Event]:
    """While inside, Ctrl-C calls `action()` (set a cancel flag, stop the engine); the previous
    handler comes back after. The event it yields tells whether Ctrl-C was pressed, so a command
    the user stopped can still exit 130, as the shell expects of an interrupted one."""
    pressed = threading.Event()

    def handler(_sig, _frame) -> None:
        pressed.set()
        action()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
