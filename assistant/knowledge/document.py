"""What a parser hands to the chunker: the extracted text and where each part came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import UserFacingError


class UnreadableFile(UserFacingError):
    """A file that cannot be indexed; the message is the reason the user sees."""


@dataclass(slots=True)  # a large CSV makes millions of these
class Block:
    """One paragraph, heading, table row or CSV row of the extracted text.

    `start`/`end` are character offsets into ParsedDocument.text, so the UI
    can highlight exactly this passage.
    """

    start: int
    end: int
    kind: str = "paragraph"  # paragraph | heading | table_row | csv_row | code
    page: int | None = None  # 1-based, for paged formats (PDF)
    line_start: int | None = None  # 1-based, for line-based formats
    line_end: int | None = None
    heading_path: tuple[str, ...] = ()
    level: int | None = None  # heading level, for kind == "heading"


@dataclass
class ParsedDocument:
    path: Path
    text: str
    blocks: list[Block]
    format: str  # pdf | docx | text | markdown | rst | html | csv
    pages: int | None = None
    encoding: str | None = None
    header: str | None = None  # CSV: the header row, repeated at the top of every chunk
    metadata: dict = field(default_factory=dict)

    def block_text(self, block: Block) -> str:
        return self.text[block.start:block.end]
