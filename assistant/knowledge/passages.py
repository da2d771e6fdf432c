"""Finding a retrieved passage again: in its file as it is now, and in a PDF page's text.

A source row records the chunk's character offsets into the text the parser
extracted at indexing time, and its chunk id starts with the file's content
hash. So reopening a file first checks the hash: unchanged bytes parse to the
same text and the offsets hold; changed bytes mean the passage is searched for
instead, and the user is told the file changed.

An answer's sources also say whether their files are still as indexed (see
`check_file`), so a citation of a file deleted or edited since is flagged where
it is cited, before anyone opens it.

PDF viewers number their own characters (pdfium adds line breaks, drops
hyphens), so a passage is matched there on letters and digits only.
"""

from __future__ import annotations

import os
import re
import stat as statmod
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.knowledge.document import UnreadableFile
from assistant.knowledge.indexer import file_hash

GONE = "The file is no longer at {path}. It was moved or deleted after it was indexed."
CHANGED = "The file changed after it was indexed; the passage is shown where it is found now."
CHANGED_NOT_FOUND = ("The file changed after it was indexed and the passage is no longer in it. "
                     "Re-index the collection to update the sources.")
MIN_SPILL = 12  # letters a page must share with a passage's start to count as holding part of it
# In a file that changed since it was indexed, a passage counts as still there only if at least this
# share of its letters is found: its first few words alone (a heading it shared with other text) are
# not the passage, and marking them as "where it is found now" pointed at the wrong place.
CHANGED_MIN_SHARE = 0.5
_HASH_RE = re.compile(r"^([0-9a-f]{32})-")
_NON_ALNUM_START = re.compile(r"^[\W_]+")
_NON_ALNUM_END = re.compile(r"[\W_]+$")


@dataclass
class Reopened:
    path: Path
    kind: str  # pdf | text
    problem: str | None = None  # why the passage cannot be shown at all (a sentence)
    changed: bool = False  # the file's bytes differ from the indexed ones
    note: str | None = None  # something to say while still showing the passage
    text: str = ""  # non-PDF: the extracted text now
    start: int | None = None  # the passage's span in `text`, when found
    end: int | None = None


def indexed_hash(chunk_id: str | None) -> str | None:
    """The prefix of the file's SHA-256 that the chunk id was built from (see indexer.chunk_id)."""
    match = _HASH_RE.match(chunk_id or "")
    return match.group(1) if match else None


def reopen(row: dict) -> Reopened:
    """Check and (for non-PDF files) re-extract the file a source row came from. Never raises
    for a problem the user can have: a missing, unreadable or changed file is described."""
    from assistant.knowledge.parsers import parse_file

    path = Path(row.get("path") or "")
    kind = "pdf" if path.suffix.lower() == ".pdf" else "text"
    out = Reopened(path=path, kind=kind)
    if not row.get("path") or not path.is_file():
        out.problem = GONE.format(path=path)
        return out
    try:
        expected = indexed_hash(row.get("chunk_id"))
        out.changed = expected is not None and not file_hash(path).startswith(expected)
    except OSError as exc:
        out.problem = f"The file cannot be read: {exc.strerror or exc}."
        return out
    if out.changed:
        out.note = CHANGED
    if kind == "pdf":
        return out  # the viewer reads the pages itself
    try:
        doc = parse_file(path)
    except UnreadableFile as exc:
        out.problem = str(exc)
        return out
    out.text = doc.text
    span = _recorded_span(doc.text, row) if not out.changed else None
    if span is None:
        span = find_passage(doc.text, _body(row))
    if span is None:
        out.note = CHANGED_NOT_FOUND
    else:
        out.start, out.end = span
    return out


def _body(row: dict) -> str:
    return row.get("text") or ""


def _recorded_span(text: str, row: dict) -> tuple[int, int] | None:
    start, end = row.get("start"), row.get("end")
    if start is None or end is None or not 0 <= start < end <= len(text):
        return None
    # A CSV chunk's text is its header line plus the span, so compare the end.
    return (start, end) if _body(row).endswith(text[start:end]) else None


def _letters(text: str) -> tuple[str, list[int]]:
    """`text` reduced to lowercase letters and digits, with each one's index in `text`."""
    keep = [(c, i) for i, c in enumerate(text.lower()) if c.isalnum()]
    return "".join(c for c, _ in keep), [i for _, i in keep]


def find_passage(haystack: str, passage: str) -> tuple[int, int] | None:
    """The (start, end) span of `passage` in `haystack`, ignoring spacing, punctuation and case."""
    hay, where = _letters(haystack)
    needle, _ = _letters(passage)
    if not needle:
        return None
    at = hay.find(needle)
    if at < 0:
        return None
    start, end = where[at], where[at + len(needle) - 1] + 1
    # Take back the passage's own leading and trailing punctuation where the text has it too.
    lead = passage[:len(passage) - len(_NON_ALNUM_START.sub("", passage))]
    trail = passage[len(_NON_ALNUM_END.sub("", passage)):]
    if lead and haystack[max(start - len(lead), 0):start] == lead:
        start -= len(lead)
    if trail and haystack[end:end + len(trail)] == trail:
        end += len(trail)
    return start, end


def passage_on_pages(pages: list[str], passage: str, min_share: float = 0.0) -> list[tuple[int, int, int]]:
    """Where a passage lies on consecutive pages: (index into `pages`, start, end) per page.

    The passage may run on from its first page to the next ones (a chunk that
    straddles a page break). Its first words can also stand on an earlier page
    ("Rent increases are limited..." above a passage "Rent increases require..."),
    so every page is tried as the first: the one that places most of the passage
    wins, and of those the one that needs the fewest pages. Nothing is returned when that places
    less than `min_share` of the passage's letters."""
    needle, _ = _letters(passage)
    if not needle:
        return []
    letters = [_letters(page) for page in pages]
    best: list[tuple[int, int, int]] = []
    best_key = (0, 0)
    for first in range(len(pages)):
        spans, covered = _spans_from(letters, first, needle)
        if spans and (covered, -len(spans)) > best_key:
            best, best_key = spans, (covered, -len(spans))
            if covered == len(needle) and len(spans) == 1:
                break  # all of it on one page: nothing can do better
    return best if best_key[0] >= min_share * len(needle) else []


def _spans_from(letters: list[tuple[str, list[int]]], first: int,
                needle: str) -> tuple[list[tuple[int, int, int]], int]:
    """The passage's spans when it starts on page `first`, and how many of its letters they hold."""
    spans: list[tuple[int, int, int]] = []
    covered = 0
    for index in range(first, len(letters)):
        hay, where = letters[index]
        rest = needle[covered:]
        length = _longest_prefix_in(rest, hay)
        if length < min(len(rest), MIN_SPILL):
            break  # the passage stopped part-way: what was found is what there is
        at = hay.find(rest[:length])
        spans.append((index, where[at], where[at + length - 1] + 1))
        covered += length
        if covered == len(needle):
            break
    return spans, covered


def _longest_prefix_in(needle: str, hay: str) -> int:
    """Length of the longest prefix of `needle` found in `hay` (prefix presence is monotone)."""
    lo, hi = 0, len(needle)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if needle[:mid] in hay:
            lo = mid
        else:
            hi = mid - 1
    return lo


# What a source's file is now, against the bytes its passage was indexed from (a source row's
# "file_state"). None: not known (a row without a path or a content hash to compare).
FILE_UNCHANGED, FILE_CHANGED, FILE_GONE, FILE_UNREADABLE = "unchanged", "changed", "gone", "unreadable"
FILE_WARNINGS = {
    FILE_GONE: "The file is no longer there: it was moved or deleted after it was indexed.",
    FILE_CHANGED: "The file changed after it was indexed: it may no longer hold this passage as quoted.",
    FILE_UNREADABLE: "The file cannot be read now, so whether it changed since it was indexed is not known.",
}
Stamp = tuple[int, int, int]  # size, mtime_ns, ctime_ns: what the documents table records of a file


def file_warning(state: str | None) -> str | None:
    """The sentence to show beside a source whose file is not as it was indexed (None: nothing)."""
    return FILE_WARNINGS.get(state or "")


class KnownHashes:
    """The SHA-256 of files as they were at a stamp. A file whose stamp has not moved holds the same
    bytes (the indexer's own rule: a copy restored from a backup keeps the size and mtime, never the
    ctime), so a check costs one stat, and a file is read only when its stamp moved. Learned from
    the documents table (what indexing hashed) and from files hashed here; bounded, since a long
    session meets many files. Shared by threads: answers are recorded off the UI thread."""

    def __init__(self, limit: int = 4096):
        self._limit = limit
        self._digests: OrderedDict[tuple[str, Stamp], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str, stamp: Stamp) -> str | None:
        with self._lock:
            digest = self._digests.get((path, stamp))
            if digest is not None:
                self._digests.move_to_end((path, stamp))
            return digest

    def learn(self, path: str, stamp: Stamp, digest: str) -> None:
        with self._lock:
            self._digests[(path, stamp)] = digest
            self._digests.move_to_end((path, stamp))
            while len(self._digests) > self._limit:
                self._digests.popitem(last=False)

    def learn_indexed(self, db, paths: Iterable[str]) -> None:
        """What indexing recorded of these files (in any collection), so checking them reads none."""
        wanted = sorted(set(paths))
        for i in range(0, len(wanted), 500):  # under SQLite's limit of bound parameters
            part = wanted[i:i + 500]
            marks = ", ".join("?" * len(part))
            for path, size, mtime, ctime, digest in db.execute(
                    "select path, size_bytes, mtime_ns, ctime_ns, content_hash from documents where status = "
                    f"'indexed' and content_hash is not null and path in ({marks})", part):
                if None not in (size, mtime, ctime):  # rows from before ctime was recorded: not proof
                    self.learn(path, (size, mtime, ctime), digest)


KNOWN = KnownHashes()  # one per process: the window's answers and panel share what was read


@dataclass(frozen=True)
class FileCheck:
    state: str | None
    stamp: Stamp | None = None  # the file's when checked: a later check with the same one needs no read


def check_file(path: str | None, chunk_id: str | None, known: KnownHashes = KNOWN,
               seen: tuple[Stamp | None, str | None] | None = None, *, read: bool = True) -> FileCheck | None:
    """Whether the file at `path` still holds the bytes the chunk was indexed from. `seen`: an
    earlier check's (stamp, state), which still holds while the stamp does. Without `read`, None
    when only hashing the file could tell (for a caller that hashes elsewhere, off the UI thread)."""
    if not path:
        return FileCheck(None)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return FileCheck(FILE_GONE)
    except OSError:
        return FileCheck(FILE_UNREADABLE)
    if not statmod.S_ISREG(info.st_mode):  # a folder or a device where the file was
        return FileCheck(FILE_GONE)
    stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    expected = indexed_hash(chunk_id)
    if expected is None:
        return FileCheck(None, stamp)
    if seen is not None and seen[0] is not None and tuple(seen[0]) == stamp and seen[1]:
        return FileCheck(seen[1], stamp)
    digest = known.get(path, stamp)
    if digest is None:
        if not read:
            return None
        try:
            digest = file_hash(Path(path))
            after = os.stat(path)
        except OSError:
            return FileCheck(FILE_UNREADABLE, stamp)
        if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != stamp:
            # Written to while it was read: the digest is of no one stamp, so it is not kept.
            return FileCheck(FILE_UNCHANGED if digest.startswith(expected) else FILE_CHANGED)
        known.learn(path, stamp, digest)
    return FileCheck(FILE_UNCHANGED if digest.startswith(expected) else FILE_CHANGED, stamp)


def check_row(row: dict, known: KnownHashes = KNOWN, *, read: bool = True) -> FileCheck | None:
    """`check_file` for a stored source row: the state it records holds while the stamp it
    records does, so reopening an old answer reads no file that was left alone."""
    seen = (row.get("file_stamp"), row.get("file_state"))
    return check_file(row.get("path"), row.get("chunk_id"), known, seen, read=read)
