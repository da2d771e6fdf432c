"""What the documents page says about collections, as plain functions (no Qt, so tests need no window).

Name checks, the health of a source folder, a one-line status, and a sentence
for a run that failed: the page shows these as they are.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from assistant.errors import UserFacingError
from assistant.knowledge.collections import MAX_NAME, Collections, CollectionStatus

log = logging.getLogger("assistant.knowledge")


def unique_name(collections: Collections, wanted: str) -> str:
    """`wanted`, or `wanted 2`, `wanted 3`...: the first one free (for folders dropped with no collection)."""
    base = wanted.strip()[:MAX_NAME - 4] or "Documents"
    candidate, n = base, 1
    while collections.name_problem(candidate) is not None:
        n += 1
        candidate = f"{base} {n}"
    return candidate


def source_problem(path: Path | str) -> str | None:
    """What is wrong with a collection's folder or file as it is now; None when it can be read."""
    path = Path(path)
    if not path.exists():
        kind = "file or folder" if not path.is_symlink() else "link's target"
        return (f"This {kind} no longer exists (a drive unplugged?). What was indexed from a folder is kept "
                "until it is back or you remove it.")
    if path.is_dir():
        try:
            with os.scandir(path) as entries:
                next(entries, None)
        except PermissionError:
            return "This folder cannot be opened (permission denied)."
        except OSError as exc:
            return f"This folder cannot be read ({exc.strerror or exc})."
    elif not os.access(path, os.R_OK):
        return "This file cannot be read (permission denied)."
    return None


def shown_path(path: str, sources: list[str]) -> str:
    """`path` relative to the source folder that holds it (the part the user does not know yet)."""
    best = ""
    for source in sources:
        prefix = source.rstrip(os.sep) + os.sep
        if path.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return path[len(best):] if best else path


def describe_error(exc: BaseException) -> str:
    """What the page says when an action (create, add, rename, remove) failed."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}."
    log.error("documents: unexpected error", exc_info=exc)
    return "Something went wrong; the details are in the log. The app is still running."


def describe_failure(exc: BaseException) -> str:
    """The sentence shown when an indexing run stopped on an error (the index stays resumable)."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or (
            isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)):
        return ("Indexing stopped: the disk is full. Free some space, then choose Re-index; "
                "what was indexed so far is kept.")
    if isinstance(exc, PermissionError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"Indexing stopped: permission denied{where}."
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"Indexing stopped: {exc.strerror or exc}{where}. Choose Re-index to try again."
    log.error("indexing failed", exc_info=exc)
    return "Indexing stopped because something went wrong; the details are in the log. Re-index to try again."


def when(iso: str | None, now: datetime | None = None) -> str:
    """An ISO time stamp as the user reads it, in local time: "today 14:03", "3 May 2025 09:12"."""
    if not iso:
        return "never"
    try:
        stamp = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    now = now or datetime.now().astimezone()
    if stamp.date() == now.date():
        return f"today {stamp:%H:%M}"
    return f"{stamp.day} {stamp:%b %Y %H:%M}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def status_line(status: CollectionStatus) -> str:
    """One line: files, chunks, problems and when it was last brought up to date."""
    if status.last_indexed_at is None and not status.files:
        return "Not indexed yet."
    parts = [f"{plural(status.files, 'file')}: {status.indexed:,} indexed",
             plural(status.chunks, "chunk"),
             plural(len(status.skipped), "file") + " skipped" if status.skipped else "no errors",
             f"last updated {when(status.last_indexed_at)}"]
    if status.partial:
        parts.insert(3, f"{len(status.partial):,} partly read")
    return "  ·  ".join(parts)
