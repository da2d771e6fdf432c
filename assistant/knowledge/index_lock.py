"""One indexing run at a time across processes (the window, another window, the command line):
garbage collection must not race a writer."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.2  # how often a waiting run looks at the lock and at Cancel


class LockWaitCancelled(Exception):
    """Cancelled while another run held the lock: this run never began."""


@contextmanager
def exclusive(lock_path: Path, on_wait: Callable[[], None] | None = None,
              cancelled: Callable[[], bool] | None = None, owner: str = "") -> Iterator[None]:
    """Hold the index lock. `on_wait()` is called first when another process holds it, so a caller
    can say why nothing moves instead of seeming stuck; while it waits, `cancelled()` ends the wait
    (LockWaitCancelled), so Cancel works then too. `owner` (what the run works on) is written in
    the file while it is held, for `holder`."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            _wait(fh, cancelled)
        try:
            _write_owner(fh, owner)
            yield
        finally:
            _write_owner(fh, "")
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_owner(fh, owner: str) -> None:
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(owner)
        fh.flush()
    except OSError:  # a full disk: the owner stays unknown, and `holder` callers assume the worst
        pass


def _wait(fh, cancelled: Callable[[], bool] | None) -> None:
    if cancelled is None:
        fcntl.flock(fh, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if cancelled():
                raise LockWaitCancelled from None
            time.sleep(POLL_S)


def held(lock_path: Path) -> bool:
    """Whether an indexing run holds the lock now (in this process or another), without waiting."""
    try:
        with open(lock_path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def holder(lock_path: Path) -> str | None:
    """The owner the run holding the lock wrote ("" when unknown), or None when no run holds it."""
    if not held(lock_path):
        return None
    try:
        return Path(lock_path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def default_lock_path(data_dir: Path) -> Path:
    return Path(os.fspath(data_dir)) / "index.lock"
