"""PDF (pypdfium2): the text layer page by page, split into paragraphs by line geometry."""

from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import Builder, ParseLimits, one_line

PROTECTED = "The PDF is password-protected."
DAMAGED = "The PDF is damaged or not really a PDF."
NO_TEXT = "The PDF has no text layer (a scan?); OCR is not supported."

# pdfium is not thread-safe; one document at a time, whichever thread parses it.
_PDFIUM_LOCK = threading.Lock()
_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_PASSWORD: PROTECTED,
    pdfium_c.FPDF_ERR_SECURITY: "The PDF uses an encryption that is not supported.",
}
_SENTENCE_END = tuple('.!?:;"”’)')
_BULLET = re.compile(r"^(?:[•◦▪‣●○■□–—*-]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")


@dataclass
class _Line:
    text: str
    x: float | None = None  # origin of the first visible character, in PDF points
    y: float | None = None
    size: float = 0.0


def _char(code: int) -> str:
    if code == 0x02:  # pdfium marks a hyphen it kept at a line break this way
        return "-"
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return "\ufffd"
    return chr(code)


def _page_lines(textpage) -> list[_Line]:
    """The page's lines in pdfium's reading order, with where each line starts."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    lines: list[_Line] = []
    chars: list[str] = []
    line = _Line("")
    x, y = ctypes.c_double(), ctypes.c_double()
    for i in range(max(count, 0)):
        ch = _char(pdfium_c.FPDFText_GetUnicode(textpage, i))
        if ch == "\n":  # pdfium ends every line with a generated \r\n
            line.text = "".join(chars)
            lines.append(line)
            chars, line = [], _Line("")
            continue
        if ch == "\r":
            continue
        if line.y is None and not ch.isspace() and pdfium_c.FPDFText_GetCharOrigin(textpage, i, x, y):
            line.x, line.y = x.value, y.value
            line.size = pdfium_c.FPDFText_GetFontSize(textpage, i)
        chars.append(ch)
    line.text = "".join(chars)
    lines.append(line)
    return lines


def _breaks(prev: _Line, line: _Line, step: float | None, longest: int) -> bool:
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


def _paragraphs(lines: list[_Line]) -> list[str]:
    placed = [line.y for line in lines if line.y is not None and line.text.strip()]
    gaps = sorted(a - b for a, b in zip(placed, placed[1:], strict=False) if a - b > 0.5)
    # The lower median of the gaps is the line spacing, once there are enough lines to tell.
    step = gaps[(len(gaps) - 1) // 2] if len(gaps) >= 3 else None
    longest = max((len(line.text.strip()) for line in lines), default=0)
    paragraphs: list[list[str]] = []
    prev = None
    for line in lines:
        if not line.text.strip():
            prev = None  # a blank line always ends the paragraph
            continue
        if prev is None or _breaks(prev, line, step, longest):
            paragraphs.append([])
        paragraphs[-1].append(line.text.strip())
        prev = line
    return ["\n".join(p) for p in paragraphs]


def _extract(pdf: pdfium.PdfDocument, path: Path, limits: ParseLimits) -> ParsedDocument:
    pages = len(pdf)
    if pages > limits.max_pages:
        raise UnreadableFile(f"The PDF has {pages:,} pages; the limit is {limits.max_pages:,}.")
    builder = Builder(path, "pdf", limits)
    unreadable, blank = [], []
    for index in range(pages):
        try:
            page = pdf[index]
        except pdfium.PdfiumError:
            unreadable.append(index + 1)
            continue
        try:
            textpage = page.get_textpage()
            try:
                lines = _page_lines(textpage)
            finally:
                textpage.close()
        except pdfium.PdfiumError:
            unreadable.append(index + 1)
            continue
        finally:
            page.close()
        added = [builder.add(p, page=index + 1) for p in _paragraphs(lines)]
        if not any(added):
            blank.append(index + 1)
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
