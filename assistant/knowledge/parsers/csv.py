"""CSV and TSV: the first row is the header (kept apart); every other row is one block."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import BLANK, Builder, ParseLimits, one_line
from assistant.knowledge.parsers.text import decode_text

EMPTY_CELLS = "The CSV file has only empty cells (separators, no values)."
_SNIFF_CHARS = 8192  # the sniffer's regexes are superlinear; a few lines are enough
_DELIMITERS = ",;\t|"
# Excel writes (and reads) a first line "sep=;" naming the delimiter; it is not the header.
_SEP_LINE = re.compile(r"sep=([^\r\n\"])[ \t]*(?:\r\n|\r|\n)", re.I)


class _Excel(csv.excel):
    """Excel's quoting ('"', a quote inside a quoted cell doubled) with another delimiter: the one a
    "sep=" line names, or the one the sniffer found."""

    def __init__(self, delimiter: str, skipinitialspace: bool = False):
        super().__init__()
        self.delimiter = delimiter
        self.skipinitialspace = skipinitialspace


def _dialect(text: str, tsv: bool) -> type[csv.Dialect] | csv.Dialect:
    fallback = csv.excel_tab if tsv else csv.excel
    sample = text[:_SNIFF_CHARS]
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0:
        sample = sample[:cut]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="\t" if tsv else _DELIMITERS)
    except csv.Error:
        return fallback
    # Only its delimiter is trusted: it guesses doublequote=False for a quoted cell holding both ""
    # and the delimiter ("payment of ""48,250"" due"), which is what every spreadsheet writes, and
    # the cell was then split at its comma. Its quote character can be an apostrophe in the text.
    return _Excel(sniffed.delimiter, sniffed.skipinitialspace)


def _allow_fields_up_to(size: int) -> None:
    # Process-wide, but only ever raised: one cell may legitimately be the whole file.
    if csv.field_size_limit() < size:
        csv.field_size_limit(size)


def parse_csv(path: Path, data: bytes, limits: ParseLimits, *, tsv: bool = False) -> ParsedDocument:
    text, encoding = decode_text(data)
    if not text.strip():
        raise UnreadableFile(BLANK)
    _allow_fields_up_to(len(text) + 1)
    sep = _SEP_LINE.match(text)
    if sep:
        dialect: type[csv.Dialect] | csv.Dialect = _Excel(sep.group(1))
        text = text[sep.end() :]
        if not text.strip():
            raise UnreadableFile("The CSV file has only its 'sep=' line naming the separator, no rows.")
    else:
        dialect = _dialect(text, tsv)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    builder = Builder(path, "csv", limits)
    header = None
    skipped = 1 if sep else 0  # line numbers stay the file's
    line_end = skipped
    try:
        for row in reader:
            line_start, line_end = line_end + 1, skipped + reader.line_num
            cells = [one_line(cell) for cell in row]
            if not any(cells):
                continue
            if header is None:
                header = " | ".join(cells)
            else:
                builder.add(" | ".join(cells), "csv_row", line_start=line_start, line_end=line_end)
    except csv.Error as exc:
        raise UnreadableFile(
            f"The CSV file could not be read: {exc} (line {skipped + reader.line_num})."
        ) from exc
    if header is None:
        raise UnreadableFile(EMPTY_CELLS)
    if not builder.blocks:
        raise UnreadableFile("The CSV file has a header row but no data rows.")
    return builder.build(encoding=encoding, header=header, metadata={"delimiter": dialect.delimiter})
