"""Which files a collection's folders hold: hidden files, Office's owner files, build folders and user globs
left out."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

IGNORED_DIRS = {
    "node_modules", "__pycache__", "venv", ".venv", "site-packages", "$RECYCLE.BIN", "System Volume Information",
}
# Names a build tool writes its output under, but also words an office uses ("Target" companies of a
# merger, a "build" contract): left out only beside a project file that says a build tool is there.
BUILD_OUTPUT_DIRS = {"build", "dist", "target", "out"}
PROJECT_FILES = {"pyproject.toml", "setup.py", "package.json", "Cargo.toml", "pom.xml", "build.gradle",
                 "build.gradle.kts", "CMakeLists.txt", "Makefile", "meson.build"}

# Word, Excel and PowerPoint write "~$name.docx" beside a document while it is open: a few bytes
# naming who has it open, not a document, so it would only ever be reported as damaged.
OFFICE_OWNER_FILE = "~$"


def is_build_output(name: str, siblings: list[str]) -> bool:
    return name in BUILD_OUTPUT_DIRS and not PROJECT_FILES.isdisjoint(siblings)


def leads_above(folder: Path, source: Path) -> bool:
    """A link to a folder that holds `source` (a link to the home folder or to "/"): following
    it would walk far more than the user chose."""
    if not folder.is_symlink():
        return False
    try:
        return source.resolve().is_relative_to(folder.resolve())
    except OSError:
        return True


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
    are followed once each (by the folder they lead to), so a link loop cannot
    trap the walk and a folder linked twice is read once. A folder that cannot
    be listed is added to `unreadable` with the reason, so the user learns why
    its files are missing.
    """

    def cannot_list(exc: OSError) -> None:
        if unreadable is not None:
            unreadable.append((str(exc.filename), f"The folder cannot be read ({exc.strerror or exc}), so its "
                                                  "files were not indexed."))

    seen: set[str] = set()
    walked: set[tuple[int, int]] = set()  # (device, inode) of every folder entered
    globs = list(globs)

    def first_visit(folder: Path) -> bool:
        try:
            st = folder.stat()
        except OSError:
            return False
        key = (st.st_dev, st.st_ino)
        if key in walked:
            return False
        walked.add(key)
        return True

    for source in sources:
        source = Path(source)
        if not source.is_dir():
            key = os.path.abspath(source)
            if key not in seen:
                seen.add(key)
                yield Path(key)
            continue
        if not first_visit(source):
            continue
        for dirpath, dirnames, filenames in os.walk(source, onerror=cannot_list, followlinks=True):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in IGNORED_DIRS
                                 and not is_build_output(d, filenames)
                                 and not is_ignored(here / d, source, globs)
                                 and not leads_above(here / d, source) and first_visit(here / d))
            for name in sorted(filenames):
                path = here / name
                if name.startswith((".", OFFICE_OWNER_FILE)) or path.suffix.lower() not in suffixes:
                    continue
                if is_ignored(path, source, globs):
                    continue
                key = os.path.abspath(path)
                if key not in seen:
                    seen.add(key)
                    yield Path(key)
