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

