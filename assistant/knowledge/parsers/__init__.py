"""Turn a file on disk into a ParsedDocument, or say in one sentence why not.

    doc = parse_file(path)            # raises UnreadableFile(reason), never anything else

The format is chosen by the suffix and checked against the content where that is
cheap. The file is vetted with stat (regular file, size) and read once, through a
descriptor opened without blocking, so a FIFO or device can never hang the indexer.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import EMPTY, ParseLimits, human_size
from assistant.knowledge.parsers.csv import parse_csv
from assistant.knowledge.parsers.docx import parse_docx
from assistant.knowledge.parsers.html import parse_html
from assistant.knowledge.parsers.markdown import parse_markdown, parse_rst
from assistant.knowledge.parsers.pdf import parse_pdf
from assistant.knowledge.parsers.text import parse_text

__all__ = ["OTHER_DOCUMENT_SUFFIXES", "SUPPORTED_SUFFIXES", "ParseLimits", "ParsedDocument", "UnreadableFile", "parse_file"]

log = logging.getLogger(__name__)

Parser = Callable[[Path, bytes, ParseLimits], ParsedDocument]

# suffix -> (how the user calls it, parser)
_FORMATS: dict[str, tuple[str, Parser]] = {
    ".pdf": ("PDF", parse_pdf),
    ".docx": ("Word document", parse_docx),
    ".txt": ("text file", parse_text),
    ".md": ("Markdown file", parse_markdown),
    ".markdown": ("Markdown file", parse_markdown),
    ".rst": ("reStructuredText file", parse_rst),
    ".html": ("web page", parse_html),
    ".htm": ("web page", parse_html),
    ".csv": ("CSV file", parse_csv),
    ".tsv": ("TSV file", functools.partial(parse_csv, tsv=True)),
}
SUPPORTED_SUFFIXES = frozenset(_FORMATS)
# Files an office keeps beside its documents that this app cannot read: a folder's are listed as
# skipped with what to do, instead of being passed over without a word.
_OTHER_FORMATS: dict[str, tuple[str, str]] = {
    **dict.fromkeys((".doc", ".rtf", ".odt", ".pages", ".wpd"),
                    ("a word-processor file in an older or other format", "Save it as DOCX or PDF")),
    **dict.fromkeys((".xls", ".xlsx", ".xlsm", ".ods", ".numbers"),
                    ("a spreadsheet", "Save each sheet as CSV")),
    **dict.fromkeys((".ppt", ".pptx", ".odp", ".key"), ("a presentation", "Export it as PDF")),
    **dict.fromkeys((".eml", ".msg"), ("an e-mail", "Save it as PDF or as text")),
}
OTHER_DOCUMENT_SUFFIXES = frozenset(_OTHER_FORMATS)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_file(path: Path, limits: ParseLimits = ParseLimits()) -> ParsedDocument:  # noqa: B008 - frozen
    path = Path(path)
    suffix = path.suffix.lower()
    _vet(path, limits)
    if suffix in _OTHER_FORMATS:
        what, advice = _OTHER_FORMATS[suffix]
        raise UnreadableFile(f"This is {what} ({suffix}), which the app cannot read. {advice} to include it.")
    if suffix not in _FORMATS:
        shown = f"({suffix})" if suffix else "(no extension)"
        raise UnreadableFile(f"This file type {shown} is not supported.")
    label, parser = _FORMATS[suffix]
    data = _read(path, limits)
    try:
        return parser(path, data, limits)
    except UnreadableFile:
        raise
    except MemoryError as exc:
        raise UnreadableFile("The file is too large to read into memory.") from exc
    except RecursionError as exc:
        raise UnreadableFile(f"The {label} is nested too deeply to read.") from exc
    except Exception as exc:
        if _raised_here(exc):
            raise  # a bug in these parsers: let it surface
        log.warning("%s: %s failed inside a library", path, label, exc_info=True)
        raise UnreadableFile(f"The {label} could not be read: {_short(exc)}.") from exc


def _vet(path: Path, limits: ParseLimits) -> None:
    """Make sure the path is a regular file within the size limit, without opening it."""
    try:
        info = os.stat(path)  # follows symlinks
    except FileNotFoundError as exc:
        if os.path.islink(path):
            raise UnreadableFile("The link points to a file that does not exist.") from exc
        raise UnreadableFile("The file does not exist (any more).") from exc
    except PermissionError as exc:
        raise UnreadableFile("Permission denied: the file cannot be read.") from exc
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from exc
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise UnreadableFile("The file name is not valid.") from exc
    _check_kind(info.st_mode)
    if info.st_size > limits.max_file_bytes:
        raise UnreadableFile(f"The file is larger than the {human_size(limits.max_file_bytes)} limit.")
    if info.st_size == 0:
        raise UnreadableFile(EMPTY)


def _check_kind(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise UnreadableFile("This is a folder, not a file.")
    if not stat.S_ISREG(mode):
        raise UnreadableFile("This is not a regular file (a pipe, socket or device).")


def _read(path: Path, limits: ParseLimits) -> bytes:
    # O_NONBLOCK: if the path was swapped for a FIFO after the stat, open must not wait for a writer.
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    )
    try:
        fd = os.open(path, flags)
    except PermissionError as exc:
        raise UnreadableFile("Permission denied: the file cannot be read.") from exc
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from exc
    try:
        _check_kind(os.fstat(fd).st_mode)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from exc
    finally:
        os.close(fd)
    if len(data) > limits.max_file_bytes:  # it grew since the stat
        raise UnreadableFile(f"The file is larger than the {human_size(limits.max_file_bytes)} limit.")
    if not data:
        raise UnreadableFile(EMPTY)
    return data


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "The link points to itself (a symlink loop)."
    if exc.errno == errno.ENAMETOOLONG:
        return "The file name is too long."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "Permission denied: the file cannot be read."
    if exc.errno == errno.EISDIR:
        return "This is a folder, not a file."
    return f"The file could not be read: {exc.strerror or exc}."


def _raised_here(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is in this package (so: our bug)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    return os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == _PACKAGE_DIR


def _short(exc: BaseException) -> str:
    reason = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    return reason if len(reason) <= 120 else reason[:117] + "..."
