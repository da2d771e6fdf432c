"""A real, small file system for disk-full tests: a tmpfs mounted for one test.

Mounting needs root (or CAP_SYS_ADMIN). Where it is refused, the test that asked
skips with the reason; the injected-error variants beside it always run.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class SmallFs:
    def __init__(self, root: Path):
        self.root = root
        self._filler = root / "filler.bin"

    def free(self) -> int:
        return os.statvfs(self.root).f_bavail * os.statvfs(self.root).f_frsize

    def fill(self, leave: int = 0) -> None:
        """Take every free byte but `leave`, as another program filling the disk would."""
        with self._filler.open("ab") as fh:
            block = b"\0" * (1 << 20)
            while (room := self.free() - leave) > 0:
                try:
                    fh.write(block[: min(len(block), room)])
                    fh.flush()
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break

    def free_up(self) -> None:
        """The user deletes something: the space is back."""
        self._filler.unlink(missing_ok=True)


@contextmanager
def mounted_tmpfs(where: Path, size_mb: int) -> Iterator[SmallFs]:
    """A tmpfs of `size_mb` MB mounted at `where` for the block; the test skips if mounting is refused."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the injected-error variant covers this case")
    try:
        yield SmallFs(where)
    finally:
        # Lazy: chromadb keeps its files open in a process-wide cache until the process ends.
        subprocess.run(["umount", "-l", str(where)], check=False)
