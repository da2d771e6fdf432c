"""CSV and TSV: the first row is the header (kept apart); every other row is one block."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import EMPTY, Builder, ParseLimits, one_line
from assistant.knowledge.parsers.text import decode_text

_SNIFF_CHARS = 8192  # the sniffer's regexes are superlinear; a few lines are enough
_DELIMITERS = ",;\t|"


def _dialect(text: str, tsv: bool) -> type[csv.Dialect] | csv.Dialect:
    fallback = csv.excel_tab if tsv else csv.excel
    sample = text[:_SNIFF_CHARS]
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0:
        sample = sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters="\t" if tsv else _DELIMITERS)
    except csv.Error:
        return fallback


def _allow_fields_up_to(size: int) -> None:
    # Process-wide, but only ever raised: one cell may legitimately be the whole file.
    if csv.field_size_limit() < size:
        csv.field_size_limit(size)


def parse_csv(path: Path, data: bytes, limits: ParseLimits, *, tsv: bool = False) -> ParsedDocument:
    text, encoding = decode_text(data)
    if not text.strip():
        raise UnreadableFile(EMPTY)
    _allow_fields_up_to(len(text) + 1)
    dialect = _dialect(text, tsv)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    builder = Builder(path, "csv", limits)
    header = None
    line_end = 0
    try:
        for row in reader:
            line_start, line_end = line_end + 1, reader.line_num
            cells = [one_line(cell) for cell in row]
            if not any(cells):
                continue
            if header is None:
                header = " | ".join(cells)
            else:
                builder.add(" | ".join(cells), "csv_row", line_start=line_start, line_end=line_end)
    except csv.Error as exc:
        raise UnreadableFile(f"The CSV file could not be read: {exc} (line {reader.line_num}).") from exc
    if header is None:
        raise UnreadableFile(EMPTY)
    if not builder.blocks:
        raise UnreadableFile("The CSV file has a header row but no data rows.")
    return builder.build(encoding=encoding, header=header, metadata={"delimiter": dialect.delimiter})
