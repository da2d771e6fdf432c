"""Shared pieces of the parsers: limits, the text/block builder, the heading outline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.knowledge.document import Block, ParsedDocument, UnreadableFile

MB = 1_000_000

EMPTY = "The file is empty."
BLANK = "The file has no text, only blank space (spaces, tabs or empty lines)."
BINARY = "The file is binary or its text encoding cannot be recognised."


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep one hostile or huge file from taking the indexer down."""

    max_file_bytes: int = 100 * MB
    max_uncompressed_bytes: int = 200 * MB  # DOCX: the zip's total expanded size
    max_compression_ratio: float = 100.0  # DOCX: expanded/packed, once it expands past 10 MB
    max_pages: int = 5000  # PDF
    max_blocks: int = 500_000  # paragraphs + rows of one file


def human_size(n: float) -> str:
    """100000000 -> '100 MB' (SI units, as desktop file managers show them)."""
    if n >= MB:
        return f"{n / MB:.3g} MB"
    if n >= 1000:
        return f"{n / 1000:.3g} KB"
    return f"{int(n)} bytes"


# Control characters are dropped (tab and newline stay; form/vertical feeds become
# newlines); lone surrogates, which SQLite and JSON cannot store, become U+FFFD.
_CONTROLS = {c: None for c in [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)]}
_CONTROLS.update({0x0B: "\n", 0x0C: "\n", 0x0D: None})
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    text = text.translate(_CONTROLS)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def one_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) into one space."""
    return " ".join(clean(text).split())


class Outline:
    """The stack of enclosing headings: a heading pops every heading of its level or deeper."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> tuple[str, ...]:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._stack)


class Builder:
    """Appends blocks to the document text, separated by a blank line, recording offsets."""

    def __init__(self, path: Path, fmt: str, limits: ParseLimits):
        self.path = path
        self.format = fmt
        self.limits = limits
        self.blocks: list[Block] = []
        self.outline = Outline()
        self._parts: list[str] = []
        self._length = 0

    def add(self, text: str, kind: str = "paragraph", **fields) -> Block | None:
        """Add one block (stripped); blank text adds nothing. Defaults heading_path to the outline."""
        text = clean(text).strip()
        if not text:
            return None
        if len(self.blocks) >= self.limits.max_blocks:
            raise UnreadableFile(
                f"The file has more than {self.limits.max_blocks:,} paragraphs or rows; "
                "split it into smaller files."
            )
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        fields.setdefault("heading_path", self.outline.path)
        block = Block(start, self._length, kind, **fields)
        self.blocks.append(block)
        return block

    def heading(self, level: int, title: str, **fields) -> Block | None:
        """A heading block; its text is the title on one line, the last part of its heading_path."""
        title = one_line(title)
        if not title:
            return None
        path = self.outline.enter(level, title)
        return self.add(title, "heading", level=level, heading_path=path, **fields)

    def build(self, **doc_fields) -> ParsedDocument:
        if not self.blocks:
            raise UnreadableFile(EMPTY)
        text = "".join(self._parts)
        return ParsedDocument(path=self.path, text=text, blocks=self.blocks, format=self.format, **doc_fields)
