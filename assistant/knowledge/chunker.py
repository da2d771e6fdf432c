"""Cutting a parsed document into chunks for search and for the prompt.

A chunk is a contiguous span of the extracted text (so the UI can highlight it
exactly), of bounded size, that starts at a paragraph or heading boundary
where it can. A heading always opens a new chunk; a paragraph that is too long
on its own is cut at sentence ends. Consecutive chunks of one section overlap
by a sentence or two, so a fact that straddles a cut is whole in one of them.

Sizes are counted in word-piece-like tokens (words and punctuation marks),
close to what the MiniLM embedder sees; it reads at most 256 of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.knowledge.document import Block, ParsedDocument

# What the parsers and this chunker make of a file's bytes. Bump it when a change alters the chunks
# (their text, places or cuts): files read by an older version are then read again at the next
# run, instead of keeping old chunks until their bytes change.
#   2: DOCX list numbers and merged table cells, PDF headings, hard-wrapped lines' own ranges,
#      HTML and short single-byte text decoded as browsers and editors do.
#   3: where in a chunk each page starts (page_breaks), so a cited sentence gets its own page.
#   4: CSV cells quoted as spreadsheets write them ("" inside a cell holding the delimiter) kept whole.
#      The version is one for all formats, so every file is parsed again once; only chunks whose
#      text changed (these CSV rows) are embedded again.
#   5: a PDF clause opening with its number and title ("Article 6 Security Deposit. The Tenant
#      ...") is headed by them, instead of by the heading before it; a line "Party" is no longer
#      taken for the heading "Part y".
#   6: Markdown front matter without its --- lines.
#   7: HTML without the site's banner, footer, sidebars and cookie notice; text files in windows-1250,
#      Mac Roman and the other Latin codepages, and UTF-8 with a few single-byte lines, read right.
CHUNKER_VERSION = 7
TOKEN_RE = re.compile(r"\w+|[^\w\s]")
SENTENCE_END_RE = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+|\n+")


@dataclass(frozen=True)
class ChunkConfig:
    target_tokens: int = 160
    max_tokens: int = 220
    overlap_tokens: int = 32


@dataclass
class Chunk:
    ordinal: int
    text: str  # what is shown, embedded and keyword-indexed (CSV: header + rows)
    start: int  # character offsets of the span in ParsedDocument.text
    end: int
    page: int | None
    page_end: int | None
    line_start: int | None
    line_end: int | None
    heading_path: tuple[str, ...]
    # (offset in `text`, page) where each page the text runs on begins, the first at 0; empty when
    # the text is all on one page (or has none). `page`..`page_end` leave out the overlap carried
    # from the chunk before, so this may start a page earlier.
    page_breaks: tuple[tuple[int, int], ...] = ()

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


def count_tokens(text: str) -> int:
    return len(TOKEN_RE.findall(text))


@dataclass
class _Piece:
    """A block, or a sentence-sized part of one that was too long."""

    start: int
    end: int
    tokens: int
    block: Block


def _pieces(doc: ParsedDocument, block: Block, config: ChunkConfig) -> list[_Piece]:
    text = doc.text[block.start:block.end]
    tokens = count_tokens(text)
    if tokens <= config.max_tokens:
        return [_Piece(block.start, block.end, tokens, block)]
    pieces: list[_Piece] = []
    cursor = 0
    for match in SENTENCE_END_RE.finditer(text):
        if match.end() > cursor:
            pieces.extend(_split_long(block, text, cursor, match.end(), config))
            cursor = match.end()
    if cursor < len(text):
        pieces.extend(_split_long(block, text, cursor, len(text), config))
    return [p for p in pieces if p.tokens]


def _split_long(block: Block, text: str, start: int, end: int, config: ChunkConfig) -> list[_Piece]:
    """A sentence longer than max_tokens (a table, a run-on list) is cut at word boundaries."""
    span = text[start:end]
    tokens = list(TOKEN_RE.finditer(span))
    if len(tokens) <= config.max_tokens:
        return [_Piece(block.start + start, block.start + end, len(tokens), block)]
    out = []
    for i in range(0, len(tokens), config.target_tokens):
        group = tokens[i:i + config.target_tokens]
        a = start + group[0].start()
        b = start + (tokens[i + config.target_tokens].start() if i + config.target_tokens < len(tokens) else len(span))
        out.append(_Piece(block.start + a, block.start + b, len(group), block))
    return out


def chunk_document(doc: ParsedDocument, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    pieces = [p for block in doc.blocks for p in _pieces(doc, block, config)]
    chunks: list[Chunk] = []
    group: list[_Piece] = []
    overlap: list[_Piece] = []

    def flush() -> None:
        nonlocal group, overlap
        body = [p for p in group if p.block.kind != "heading"] or group
        if body:
            chunks.append(_make_chunk(doc, len(chunks), overlap + group, body))
        # Carry the last sentence(s) of this chunk into the next one of the same section.
        overlap = []
        budget = config.overlap_tokens
        for piece in reversed(body):
            if piece.tokens > budget or piece.block.kind in ("heading", "csv_row"):
                break
            overlap.insert(0, piece)
            budget -= piece.tokens
        group = []

    size = 0
    for piece in pieces:
        is_heading = piece.block.kind == "heading"
        # Headings stay with the paragraph that follows them.
        only_headings = all(p.block.kind == "heading" for p in group)
        if group and not only_headings and (is_heading or size + piece.tokens > config.target_tokens):
            flush()
            size = sum(p.tokens for p in overlap)
        if is_heading:
            overlap = []
            size = 0
        group.append(piece)
        size += piece.tokens
    if group:
        flush()
    return chunks


def _lines(doc: ParsedDocument, piece: _Piece) -> tuple[int, int]:
    """The source lines a piece spans. A block keeps its lines one per line of its text (a text or
    Markdown paragraph), so a sentence-sized piece of a long paragraph gets its own lines, not the
    whole paragraph's; a block whose text does not line up with its lines keeps its whole range."""
    block = piece.block
    first, last = block.line_start, block.line_end if block.line_end is not None else block.line_start
    if doc.text.count("\n", block.start, block.end) != last - first:
        return first, last
    top = first + doc.text.count("\n", block.start, piece.start)
    # A piece ends after its sentence's trailing space or line break: that break is not a line of it.
    end = len(doc.text[piece.start:piece.end].rstrip()) + piece.start
    return top, max(top, first + doc.text.count("\n", block.start, end))


def _make_chunk(doc: ParsedDocument, ordinal: int, span: list[_Piece], body: list[_Piece]) -> Chunk:
    start, end = span[0].start, span[-1].end
    pages = [p.block.page for p in body if p.block.page is not None]
    lines = [_lines(doc, p) for p in span if p.block.line_start is not None]
    text = doc.text[start:end]
    if doc.header and any(p.block.kind == "csv_row" for p in body):
        text = f"{doc.header}\n{text}"
    shift = len(text) - (end - start)  # a CSV header put before the rows
    breaks: list[tuple[int, int]] = []
    for piece in span:
        if piece.block.page is not None and (not breaks or breaks[-1][1] != piece.block.page):
            breaks.append((piece.start - start + shift if breaks else 0, piece.block.page))
    return Chunk(
        ordinal=ordinal,
        text=text,
        start=start,
        end=end,
        page=pages[0] if pages else None,
        page_end=pages[-1] if pages else None,
        line_start=min(first for first, _ in lines) if lines else None,
        line_end=max(last for _, last in lines) if lines else None,
        heading_path=body[0].block.heading_path,
        page_breaks=tuple(breaks) if len(breaks) > 1 else (),
    )
