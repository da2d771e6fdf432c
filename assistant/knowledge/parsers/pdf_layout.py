"""PDF page layout: paragraphs from line geometry, headings from type size, weight and numbering.

A PDF has no headings, only lines of text in fonts. A line is taken for a heading when it is
short and not a sentence, and either set clearly larger than the body text, or bold where the
body is not, or numbered as legal documents number their parts ("Article 3", "ARTICLE III",
"Section 4", "4.2 Early Termination"). A numbered clause ("4.2 The Tenant may terminate ...")
is body text: it reads as a sentence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_SENTENCE_END = tuple('.!?:;"”’)')
_BULLET = re.compile(r"^(?:[•◦▪‣●○■□–—*-]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")

_MAX_WORDS = 12
_MAX_CHARS = 100
_MAX_LINES = 3  # a heading wrapped over more lines than this is a paragraph in a large font
_LARGER = 1.12  # "clearly larger": 12 pt body, 13.5 pt headings and up
_NOT_A_HEADING_END = tuple(".,;!?")
# Numbering words, ranked as legal documents nest them; a plain number ranks by its depth.
_RANKS = {"part": 0, "title": 0, "book": 0, "chapter": 1, "article": 2, "schedule": 2, "annex": 2, "annexe": 2,
          "appendix": 2, "exhibit": 2, "section": 3, "§": 3}  # fmt: skip
_UNNUMBERED = 9
_PLAIN_NUMBER = 4  # the rank of an undotted number without a numbering word ("3 Rent", "1. Parties")
# A space after the word ("Part A", not "Party" read as part "y"); "§5" needs none.
_KEYWORD = re.compile(
    r"^(?:(" + "|".join(k for k in _RANKS if k != "§") + r")\s+|(§)\s*)"
    r"(\d{1,3}(?:\.\d{1,3})*|[IVXLCDM]{1,7}|[A-Z])(?=$|[\s.:–—-])\.?(?:\s*[-–—:.]?\s*)(.*)$",
    re.IGNORECASE,
)
# Sub-numbers have one or two digits, so an amount ("10.000 EUR") is not a clause number.
_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,2}){0,3})\.?\s+(.+)$")
# Words of a clause, not of a title: a numbered line holding one is a sentence.
_VERBS = frozenset(
    "shall may must will is are was were be been being has have had can cannot could should would "
    "agrees agree means does do did hereby".split()
)
_WORD = re.compile(r"[^\W\d_][\w’'-]*")


@dataclass
class Line:
    text: str
    x: float | None = None  # origin of the first visible character, in PDF points
    y: float | None = None
    size: float = 0.0
    bold: bool = False  # every visible character is in a bold font


@dataclass(frozen=True)
class Body:
    """The document's body text: its most common size, and whether it is itself bold."""

    size: float
    bold: bool


@dataclass
class Segment:
    text: str
    style: tuple[float, int, bool] | None = None  # a heading's (size, numbering rank, bold)
    level: int | None = None  # a heading's level, once the whole document is laid out


def lay_out(pages: list[list[Line] | None]) -> list[list[Segment]]:
    """Each page's headings and paragraphs (none for a page that could not be read).

    Headings are told from the body text of the whole document (a title page alone has no
    body), and ranked by their look across it.
    """
    body = body_style(lines for lines in pages if lines is not None)
    laid_out = [segments(lines, body) if lines is not None else [] for lines in pages]
    running = _running_lines(laid_out)
    headings = [s for page in laid_out for s in page if s.style is not None]
    for segment in headings:
        if segment.text in running:
            segment.style = None
    levels = heading_levels(s.style for s in headings if s.style is not None)
    for segment in headings:
        segment.level = None if segment.style is None else levels[segment.style]
    return laid_out


def body_style(pages: Iterable[list[Line]]) -> Body:
    sizes: Counter[float] = Counter()
    bold: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            n = len(line.text.strip())
            if n and line.size > 0:
                sizes[_bucket(line.size)] += n
                bold[_bucket(line.size)] += n if line.bold else 0
    if not sizes:
        return Body(0.0, False)
    size = sizes.most_common(1)[0][0]
    return Body(size, bold[size] > sizes[size] / 2)


def heading_levels(styles: Iterable[tuple[float, int, bool]]) -> dict[tuple[float, int, bool], int]:
    """Larger first, then by numbering rank ("Article" above "4.2"), then bold above regular."""
    ordered = sorted(set(styles), key=lambda s: (-s[0], s[1], not s[2]))
    return {style: min(i + 1, 9) for i, style in enumerate(ordered)}


def _running_lines(pages: list[list[Segment]]) -> set[str]:
    """Heading texts that open or close many pages: a running header or footer set in bold.

    Digits count: "Article 1" to "Article 4" opening four pages are four headings.
    """
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({s.text for s in page[:1] + page[-1:] if s.style is not None})
    threshold = max(3, len(pages) // 3)
    return {text for text, n in seen.items() if n >= threshold}


def _bucket(size: float) -> float:
    return round(size * 2) / 2


def _rank(text: str) -> tuple[int, str] | None:
    """(numbering rank, the title after the number), if the line starts as a numbered part."""
    match = _KEYWORD.match(text)
    if match and (text[0].isupper() or text[0] == "§"):
        return _RANKS[(match.group(1) or match.group(2)).lower()], match.group(4)
    match = _NUMBERED.match(text)
    if match:
        return 3 + match.group(1).count(".") + 1, match.group(2)
    return None


def _titled(rest: str) -> bool:
    """Whether the words after a number read as a title rather than a clause."""
    words = _WORD.findall(rest)
    if not words:
        return not rest.strip()  # "Article 3", or "Article 3." alone
    if not rest[0].isupper() or len(words) > 8:
        return False
    return not any(word.lower() in _VERBS for word in words)


def _style(line: Line, body: Body) -> tuple[tuple[float, int, bool], bool] | None:
    """A heading line's style and whether its look (size, weight) marks it; None for body text."""
    text = line.text.strip()
    words = text.split()
    if not words or len(words) > _MAX_WORDS or len(text) > _MAX_CHARS or not any(c.isalpha() for c in text):
        return None
    size = _bucket(line.size)
    larger = body.size > 0 and size >= body.size * _LARGER and size >= body.size + 1
    bold = line.bold and not body.bold and size >= body.size
    numbered = _rank(text)
    if numbered is not None and not _titled(numbered[1]):
        numbered = None
    if text.endswith(_NOT_A_HEADING_END) and not (numbered and not numbered[1]):
        return None
    if not (larger or bold) and (numbered is None or size < body.size - 0.5):  # a footnote is smaller
        return None
    if (not (larger or bold) and numbered[0] == _PLAIN_NUMBER
            and not (numbered[1].isupper() and sum(c.isalpha() for c in numbered[1]) > 3)):
        # "221 Baker Street", "1. Acme Corporation", "100 EUR": an address, a list item, an amount.
        # "1. DEFINITIONS" stays a heading: capitals are how a plain contract marks one.
        return None
    rank = numbered[0] if numbered else _UNNUMBERED
    return (size, rank, line.bold), larger or bold


def breaks(prev: Line, line: Line, step: float | None, longest: int) -> bool:
    """Whether `line` starts a new paragraph after `prev`."""
    ended = prev.text.rstrip().endswith(_SENTENCE_END)
    if _BULLET.match(line.text.lstrip()):
        return True
    if prev.y is None or line.y is None or prev.x is None or line.x is None:
        first = line.text.lstrip()[:1]
        return ended and first.isupper() and len(prev.text.strip()) < 0.7 * longest
    em = max(line.size, 6.0)
    drop = prev.y - line.y
    spacing = step if step is not None else 1.3 * em  # a page of few lines: assume single spacing
    return (
        drop < -em  # moved up: a new column or text box
        or drop > 1.5 * spacing  # a wider gap than between lines
        or abs(line.size - prev.size) > 1.0  # a heading, a footnote
        or (ended and line.x - prev.x > 0.8 * em)  # an indented first line
    )


class _Page:
    def __init__(self, lines: list[Line]):
        placed = [line.y for line in lines if line.y is not None and line.text.strip()]
        gaps = sorted(a - b for a, b in zip(placed, placed[1:], strict=False) if a - b > 0.5)
        # The lower median of the gaps is the line spacing, once there are enough lines to tell.
        self.step = gaps[(len(gaps) - 1) // 2] if len(gaps) >= 3 else None
        self.longest = max((len(line.text.strip()) for line in lines), default=0)
        self.lines = lines

    def joined(self, i: int) -> bool:
        """Whether line i continues the paragraph of line i - 1 (a blank line never does)."""
        if i == 0 or not self.lines[i - 1].text.strip() or not self.lines[i].text.strip():
            return False
        return not breaks(self.lines[i - 1], self.lines[i], self.step, self.longest)

    def heading_runs(self, body: Body) -> dict[int, tuple[int, tuple[float, int, bool]]]:
        """{first line: (line after the heading, style)} for each heading on the page."""
        styles = [_style(line, body) for line in self.lines]
        runs: dict[int, tuple[int, tuple[float, int, bool]]] = {}
        i = 0
        while i < len(self.lines):
            if styles[i] is None:
                i += 1
                continue
            style, marked = styles[i]
            end = i + 1
            # A heading set in its own look may wrap; the lines go on in that look.
            while (
                marked and end < len(self.lines) and end - i < _MAX_LINES and styles[end] is not None
                and styles[end][1] and styles[end][0][::2] == style[::2] and self.joined(end)
            ):  # fmt: skip
                end += 1
            if self._is_heading(i, end, marked, styles):
                runs[i] = (end, style)
            i = end
        return runs

    def _is_heading(self, first: int, end: int, marked: bool, styles: list) -> bool:
        if end < len(self.lines) and self.joined(end) and self.lines[end].text.lstrip()[:1].islower():
            return False  # the sentence goes on below
        if marked:
            return True
        text = self.lines[first].text.strip()
        if self.longest >= 40 and len(text) >= 0.8 * self.longest and self.joined(end):
            return False  # a full-width line running on: a clause wrapped after a few words
        # Three numbered lines in a row are a list or a table of contents.
        start = first
        while start > 0 and styles[start - 1] is not None and not styles[start - 1][1]:
            start -= 1
        stop = end
        while stop < len(styles) and styles[stop] is not None and not styles[stop][1]:
            stop += 1
        return stop - start < 3


# After a run-in title, the clause's first sentence: "Article 6 Security Deposit. The Tenant ..."
_TITLE_END = re.compile(r"[.:]\s+(?=[\"“(]?[A-Z])")
_MIN_RUN_ON_WORDS = 3
_RUN_IN_RANKS = _UNNUMBERED + 1  # run-in headings rank below every heading on a line of its own


def run_in_heading(paragraph: str) -> tuple[str, str, int] | None:
    """(heading, the rest, numbering rank) when a paragraph opens with its clause's number and
    title set in the body text, as many contracts do: "Article 6 Security Deposit. The Tenant
    shall ...", "4.2 Early Termination. Either party ...", "Section 3. This Agreement ...".

    The number is a numbering word's or a clause's ("4.2"), not a plain one, and the title must
    read as one (a few words in Title Case, no verb), with a sentence after it.
    """
    lines = paragraph.split("\n")
    if sum(_rank(other) is not None for other in lines) >= 3:
        return None  # numbered lines one under another: a list or a table of contents
    line = lines[0]
    numbered = _rank(line)
    if numbered is None:
        return None
    rank, rest = numbered
    number = line[: len(line) - len(rest)].rstrip()
    if rank == _PLAIN_NUMBER:
        # "1. Landlord: John Smith ...", "3. John Smith. He ...", "1. Click Settings. The ...": a
        # single number opens list items and steps as often as clauses, so only a numbering word
        # ("Article 6") or a clause number ("4.2") opens a run-in heading.
        return None
    tail = paragraph[len(line) - len(rest):]  # the title, then the clause, maybe on the next line
    end = _TITLE_END.search(tail, 0, len(rest) + 2)
    title = tail[: end.start()] if end else ""
    words = _WORD.findall(title)
    # In Title Case, unlike a numbered step ("1. Open the file. Then ..."), and not cut at an
    # abbreviation ("Section 5 U.S. Code ...").
    if title and _titled(title) and all(w[0].isupper() for w in words if len(w) > 3) and len(words[-1]) >= 3:
        heading, after = f"{number} {title}", tail[end.end():]
    elif rank <= 3 and number.endswith((".", ":")) and tail[:1].isupper():
        heading, after = number.rstrip(".:"), tail
    else:
        return None
    if len(_WORD.findall(after)) < _MIN_RUN_ON_WORDS:
        return None
    return heading, after, rank


def segments(lines: list[Line], body: Body) -> list[Segment]:
    """The page's headings and paragraphs, in reading order."""
    page = _Page(lines)
    runs = page.heading_runs(body)
    out: list[Segment] = []
    paragraph: list[str] = []
    opening: list[Line] = []  # the paragraph's first line, for the look of a run-in heading

    def flush() -> None:
        if not paragraph:
            return
        text = "\n".join(paragraph)
        found = run_in_heading(text)
        if found is not None:
            heading, text, rank = found
            first = opening[0]
            # Ranked after the headings set apart by their own line at the same size: a run-in
            # clause title must not take a bold section heading ("Payment") under it.
            out.append(Segment(heading, (_bucket(first.size), _RUN_IN_RANKS + rank, first.bold)))
        out.append(Segment(text))
        paragraph.clear()
        opening.clear()

    i = 0
    while i < len(lines):
        if i in runs:
            flush()
            end, style = runs[i]
            out.append(Segment(" ".join(line.text.strip() for line in lines[i:end]), style))
            i = end
            continue
        if not page.joined(i):  # a heading just before has flushed the paragraph already
            flush()
        if lines[i].text.strip():
            paragraph.append(lines[i].text.strip())
            if len(paragraph) == 1:
                opening.append(lines[i])
        i += 1
    flush()
    return out
