"""Free disk space, measured before a large write starts rather than discovered halfway."""

from __future__ import annotations

import shutil
from pathlib import Path

# Left free after a model is written: a full disk breaks SQLite's WAL and the logs, not just the download.
HEADROOM_BYTES = 256 * 1024 * 1024


def free_bytes(folder: Path) -> int:
    """Bytes free for this user on the file system holding `folder` (or its nearest existing parent)."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def human_size(n: int | float) -> str:
    """1_234_567_890 -> "1.2 GB": the units a reader of a status line expects (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n)} bytes"
