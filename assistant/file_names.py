"""File names as text the database and the screen can hold."""

from __future__ import annotations

import os
from pathlib import Path


def storable(path: Path | str) -> str:
    """`path` as the database can hold it: a name in another encoding than UTF-8 (a surrogate
    escape from the file system) shows its undecodable bytes as U+FFFD."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "replace")
