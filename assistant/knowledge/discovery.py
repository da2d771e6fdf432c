"""Which files a collection's folders hold: hidden files, build folders and user globs left out."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

IGNORED_DIRS = {
    "node_modules", "__pycache__", "build", "dist", "target", "venv", ".venv", "site-packages",
    "$RECYCLE.BIN", "System Volume Information",
}


def is_ignored(path: Path, root: Path, globs: list[str]) -> bool:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    for pattern in globs:
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(relative, pattern):
            return True
    return False


def discover(sources: list[Path], suffixes: set[str], globs: list[str] = (),
             unreadable: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """Every candidate file, each once, in a stable order.

    A file named explicitly is always a candidate (so an unsupported one gets a
    reason); inside folders only supported suffixes count. Symlinked folders
    are not followed, so a link loop cannot trap the walk. A folder that cannot
    be listed is added to `unreadable` with the reason, so the user learns why
    its files are missing.
    """

    def cannot_list(exc: OSError) -> None:
        if unreadable is not None:
            unreadable.append((str(exc.filename), f"The folder cannot be read ({exc.strerror or exc}), so its "
                                                  "files were not indexed."))

    seen: set[str] = set()
    globs = list(globs)
    for source in sources:
        source = Path(source)
        if not source.is_dir():
            key = os.path.abspath(source)
            if key not in seen:
                seen.add(key)
                yield Path(key)
            continue
        for dirpath, dirnames, filenames in os.walk(source, onerror=cannot_list, followlinks=False):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in IGNORED_DIRS
                                 and not is_ignored(here / d, source, globs))
            for name in sorted(filenames):
                path = here / name
                if name.startswith(".") or path.suffix.lower() not in suffixes:
                    continue
                if is_ignored(path, source, globs):
                    continue
                key = os.path.abspath(path)
                if key not in seen:
                    seen.add(key)
                    yield Path(key)
