"""PDF (pypdfium2): the text layer page by page, split into headings and paragraphs (pdf_layout)."""

from __future__ import annotations

import ctypes
import math
import re
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import Builder, ParseLimits, one_line
from assistant.knowledge.parsers.pdf_layout import Line, Segment, lay_out

PROTECTED = "The PDF is password-protected."
DAMAGED = "The PDF is damaged or not really a PDF."
NO_TEXT = "The PDF has no text layer (a scan?); OCR is not supported."

# pdfium is not thread-safe; one document at a time, whichever thread parses it.
_PDFIUM_LOCK = threading.Lock()
_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_PASSWORD: PROTECTED,
    pdfium_c.FPDF_ERR_SECURITY: "The PDF uses an encryption that is not supported.",
}
# A font is bold by its weight where the PDF gives one, else by its name ("Helvetica-Bold",
# "ABCDEF+Arial-BoldMT") or the ForceBold flag of its descriptor.
_BOLD_WEIGHT = 600
_BOLD_NAME = re.compile(rb"bold|black|heavy", re.IGNORECASE)
_FORCE_BOLD = 1 << 18


def _char(code: int) -> str:
    if code == 0x02:  # pdfium marks a hyphen it kept at a line break this way
        return "-"
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return "\ufffd"
    return chr(code)


def _bold(textpage, index: int, name: ctypes.Array) -> bool:
    if pdfium_c.FPDFText_GetFontWeight(textpage, index) >= _BOLD_WEIGHT:
        return True
    flags = ctypes.c_int()
    length = pdfium_c.FPDFText_GetFontInfo(textpage, index, name, len(name), ctypes.byref(flags))
    return bool(flags.value & _FORCE_BOLD) or bool(length and _BOLD_NAME.search(name.value))


def _font_size(textpage, index: int, matrix: pdfium_c.FS_MATRIX) -> float:
    """The size the text is set at: the Tf size scaled by the text and page matrices. macOS writes
    every font at 1 pt ("/TT1 1 Tf") and sets the size in the matrix."""
    size = pdfium_c.FPDFText_GetFontSize(textpage, index)
    if pdfium_c.FPDFText_GetMatrix(textpage, index, ctypes.byref(matrix)):
        size *= math.hypot(matrix.c, matrix.d)
    return size


def _page_lines(textpage) -> list[Line]:
    """The page's lines in pdfium's reading order, with where each line starts and its look."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    lines: list[Line] = []
    chars: list[str] = []
    line = Line("")
    x, y = ctypes.c_double(), ctypes.c_double()
    name = ctypes.create_string_buffer(128)
    matrix = pdfium_c.FS_MATRIX()
    for i in range(max(count, 0)):
        ch = _char(pdfium_c.FPDFText_GetUnicode(textpage, i))
        if ch == "\n":  # pdfium ends every line with a generated \r\n
            line.text = "".join(chars)
            lines.append(line)
            chars, line = [], Line("")
            continue
        if ch == "\r":
            continue
        if not ch.isspace():
            if line.y is None and pdfium_c.FPDFText_GetCharOrigin(textpage, i, x, y):
                line.x, line.y = x.value, y.value
                line.size = _font_size(textpage, i, matrix)
                line.bold = _bold(textpage, i, name)
            elif line.bold:  # only a line that starts bold pays for checking every character
                line.bold = _bold(textpage, i, name)
        chars.append(ch)
    line.text = "".join(chars)
    lines.append(line)
    return lines


def _read_page(pdf: pdfium.PdfDocument, index: int) -> list[Line] | None:
    """The page's lines, or None when pdfium cannot read the page."""
    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        return None
    try:
        textpage = page.get_textpage()
        try:
            return _page_lines(textpage)
        finally:
            textpage.close()
    except pdfium.PdfiumError:
        return None
    finally:
        page.close()


def _extract(pdf: pdfium.PdfDocument, path: Path, limits: ParseLimits) -> ParsedDocument:
    pages = len(pdf)
    if pages > limits.max_pages:
        raise UnreadableFile(f"The PDF has {pages:,} pages; the limit is {limits.max_pages:,}.")
    read = [_read_page(pdf, index) for index in range(pages)]
    unreadable = [n for n, lines in enumerate(read, 1) if lines is None]
    builder = Builder(path, "pdf", limits)
    blank = []
    for number, page in enumerate(lay_out(read), 1):
        if number not in unreadable and not any([_add(builder, s, number) for s in page]):
            blank.append(number)
    if len(unreadable) == pages:
        raise UnreadableFile(DAMAGED)
    if not builder.blocks:
        raise UnreadableFile(NO_TEXT)
    metadata: dict = {}
    title = one_line(pdf.get_metadata_dict(skip_empty=True).get("Title", ""))
    if title:
        metadata["title"] = title
    if unreadable:
        metadata["unreadable_pages"] = unreadable
    if blank:
        metadata["pages_without_text"] = blank
    return builder.build(pages=pages, metadata=metadata)


def _add(builder: Builder, segment: Segment, page: int) -> bool:
    if segment.level is None:
        return builder.add(segment.text, page=page) is not None
    return builder.heading(segment.level, segment.text, page=page) is not None


def _open(data: bytes) -> pdfium.PdfDocument:
    # The raw call, not PdfDocument(data): pypdfium2 reports a stale error code (and leaks
    # the handle) for a PDF that loads but has no pages.
    raw = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
    if not raw:
        code = pdfium_c.FPDF_GetLastError()
        raise UnreadableFile(_LOAD_ERRORS.get(code, DAMAGED))
    pdf = pdfium.PdfDocument(raw)
    if len(pdf) < 1:
        pdf.close()
        raise UnreadableFile("The PDF has no pages.")
    return pdf


def parse_pdf(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    if b"%PDF-" not in data[:1024]:  # readers accept the header anywhere in the first 1 KB
        raise UnreadableFile(DAMAGED)
    with _PDFIUM_LOCK:
        pdf = _open(data)  # pdfium reads from `data` in place: it stays referenced until closed
        try:
            return _extract(pdf, path, limits)
        finally:
            pdf.close()
