"""Markdown and reStructuredText: headings (with their path), fenced code, paragraphs.

Both are read line by line; neither needs a full parser to find what the
chunker and the citations need: where each section starts and what it is called.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import BLANK, Builder, ParseLimits
from assistant.knowledge.parsers.text import decode_text, split_lines

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
# An RST adornment line: one punctuation character repeated (trailing blanks allowed).
_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+[ \t]*$")


class _Paragraph:
    """Consecutive text lines waiting to become one block."""

    def __init__(self, builder: Builder, lines: list[str]):
        self.builder = builder
        self.lines = lines
        self.first: int | None = None
        self.last = 0

    def __bool__(self) -> bool:
        return self.first is not None

    def push(self, i: int) -> None:
        if self.first is None:
            self.first = i
        self.last = i

    def take(self) -> tuple[int, int] | None:
        span = None if self.first is None else (self.first, self.last)
        self.first = None
        return span

    def flush(self) -> None:
        span = self.take()
        if span:
            first, last = span
            text = "\n".join(self.lines[first : last + 1])
            self.builder.add(text, line_start=first + 1, line_end=last + 1)


def _read(path: Path, data: bytes, fmt: str, limits: ParseLimits) -> tuple[Builder, list[str], str]:
    text, encoding = decode_text(data)
    if not text.strip():
        raise UnreadableFile(BLANK)
    return Builder(path, fmt, limits), split_lines(text), encoding


def _fence_end(lines: list[str], i: int, fence: str) -> int:
    """Index of the line closing the fence opened on line i (the last line if never closed)."""
    closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    for j in range(i + 1, len(lines)):
        if closing.match(lines[j]):
            return j
    return len(lines) - 1


def _front_matter_end(lines: list[str]) -> int | None:
    if lines[0].strip() != "---":
        return None
    for j in range(1, min(len(lines), 200)):
        if lines[j].strip() in ("---", "..."):
            return j
    return None


def parse_markdown(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    builder, lines, encoding = _read(path, data, "markdown", limits)
    para = _Paragraph(builder, lines)
    i = 0
    end = _front_matter_end(lines)
    if end is not None:
        # YAML front matter: its fields kept as one plain block (a title or an author can be asked
        # about), without the --- lines, which a sentence shown to the model would quote.
        if any(line.strip() for line in lines[1:end]):
            builder.add("\n".join(lines[1:end]), line_start=2, line_end=end)
        i = end + 1
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            para.flush()
            end = _fence_end(lines, i, fence.group(1))
            builder.add("\n".join(lines[i : end + 1]), "code", line_start=i + 1, line_end=end + 1)
            i = end + 1
            continue
        atx = _ATX.match(line)
        if atx:
            para.flush()
            builder.heading(len(atx.group(1)), atx.group(2) or "", line_start=i + 1, line_end=i + 1)
            i += 1
            continue
        setext = _SETEXT.match(line)
        if setext and para and not _LIST_ITEM.match(lines[para.first]):
            first, _ = para.take()
            title = " ".join(lines[first:i])
            level = 1 if setext.group(1)[0] == "=" else 2
            builder.heading(level, title, line_start=first + 1, line_end=i + 1)
        elif not line.strip():
            para.flush()
        elif _THEMATIC.match(line):
            para.flush()  # a horizontal rule: no text
        else:
            para.push(i)
        i += 1
    para.flush()
    return builder.build(encoding=encoding)


def _rst_title(lines: list[str], i: int) -> tuple[str, tuple[str, bool], int] | None:
    """(title, adornment style, lines used) if a section title starts at line i."""
    line = lines[i].rstrip()
    over = _ADORNMENT.match(line)
    if over and i + 2 < len(lines):
        title = lines[i + 1].strip()
        under = lines[i + 2].rstrip()
        if title and not _ADORNMENT.match(title) and under == line and len(line) >= len(title):
            return title, (line[0], True), 3
    if over or not line or line[0].isspace() or i + 1 >= len(lines):
        return None
    under = lines[i + 1].rstrip()
    title = line.strip()
    # docutils accepts a short underline from 4 characters on (with a warning).
    if _ADORNMENT.match(under) and (len(under) >= len(title) or len(under) >= 4):
        return title, (under[0], False), 2
    return None


def parse_rst(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Section levels follow the order in which adornment styles first appear, as in docutils."""
    builder, lines, encoding = _read(path, data, "rst", limits)
    para = _Paragraph(builder, lines)
    levels: dict[tuple[str, bool], int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        title = None if para else _rst_title(lines, i)
        if title:
            text, style, used = title
            level = levels.setdefault(style, len(levels) + 1)
            builder.heading(level, text, line_start=i + 1, line_end=i + used)
            i += used
            continue
        if not line.strip():
            para.flush()
        elif not para and _ADORNMENT.match(line) and (i + 1 == len(lines) or not lines[i + 1].strip()):
            pass  # a transition (horizontal rule): no text
        else:
            para.push(i)
        i += 1
    para.flush()
    return builder.build(encoding=encoding)
