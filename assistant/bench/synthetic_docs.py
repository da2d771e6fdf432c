"""A folder of real PDF, DOCX and Markdown files for the indexing benchmark.

The prose comes from a seed text (any Markdown/text folder the user points at,
or a built-in paragraph set), reshuffled per file with a file number mixed in,
so no two files share bytes and none is skipped as a duplicate.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

LINES_PER_PAGE = 46
LINE_CHARS = 95
WORDS_PER_PAGE = 500  # how a DOCX or Markdown file's "pages" are counted

_FALLBACK = [
    "The tenant shall pay the rent monthly in advance, no later than the third working day of each month, "
    "to the account the landlord names in writing.",
    "Either party may terminate this agreement with three months' notice, given in writing and received by "
    "the other party before the last day of a calendar month.",
    "The clinic keeps patient records for ten years after the last treatment, after which they are destroyed "
    "under supervision and a certificate of destruction is filed.",
    "Quarterly figures are reconciled against the bank statements before the board meeting, and any "
    "difference above five hundred euros is explained in a written note.",
]


def seed_paragraphs(folder: Path | None) -> list[str]:
    paragraphs: list[str] = []
    if folder is not None:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in (".md", ".txt") and path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                paragraphs += [p.strip() for p in text.split("\n\n") if len(p.strip()) > 80]
    return paragraphs or _FALLBACK


def _pdf_escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf_document(pages: list[list[str]]) -> bytes:
    """A plain PDF 1.4 with Helvetica text lines, one content stream per page."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
               3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
    kids, number = [], 4
    for lines in pages:
        body = b"\n".join([b"BT /F1 10 Tf 14 TL 60 770 Td"] + [b"(" + _pdf_escape(x) + b") Tj T*" for x in lines]
                          + [b"ET"])
        objects[number] = b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"
        objects[number + 1] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                               b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % number)
        kids.append(b"%d 0 R" % (number + 1))
        number += 2
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    return assemble_pdf(objects, b"/Root 1 0 R")


def assemble_pdf(objects: dict[int, bytes], trailer: bytes) -> bytes:
    """Numbered objects, the cross-reference table and the trailer: a file pdfium opens."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n" % n + objects[n] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        out += b"%010d 00000 n \n" % offsets[n]
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (size, trailer, xref)
    return bytes(out)


def _paginate(paragraphs: list[str]) -> list[list[str]]:
    pages, page = [], []
    for p in paragraphs:
        lines = textwrap.wrap(p, LINE_CHARS) + [""]
        if page and len(page) + len(lines) > LINES_PER_PAGE:
            pages.append(page)
            page = []
        page += lines
    if page:
        pages.append(page)
    return pages


def write_folder(out: Path, seed: list[str], *, pdfs: int = 60, docx: int = 30, markdown: int = 30,
                 pdf_pages: int = 3, words: int = 1000, rng_seed: int = 7) -> dict:
    """Write the files; returns counts and the number of pages (PDF pages counted exactly)."""
    import docx as python_docx

    rng = random.Random(rng_seed)
    out.mkdir(parents=True, exist_ok=True)

    def prose(n_words: int, tag: str) -> list[str]:
        chosen, count = [], 0
        while count < n_words:
            p = rng.choice(seed)
            chosen.append(f"{p} (Ref. {tag}-{len(chosen) + 1}.)")
            count += len(p.split())
        return chosen

    pages = 0
    for i in range(pdfs):
        paged = _paginate(prose(pdf_pages * 420, f"P{i}"))[:pdf_pages]
        (out / f"report-{i:03d}.pdf").write_bytes(pdf_document(paged))
        pages += len(paged)
    for i in range(docx):
        document = python_docx.Document()
        document.add_heading(f"Memorandum {i}", level=1)
        for j, p in enumerate(prose(words, f"D{i}")):
            if j % 4 == 0:
                document.add_heading(f"Section {j // 4 + 1}", level=2)
            document.add_paragraph(p)
        document.save(out / f"memo-{i:03d}.docx")
        pages += max(1, round(words / WORDS_PER_PAGE))
    for i in range(markdown):
        body = [f"# Notes {i}"]
        for j, p in enumerate(prose(words, f"M{i}")):
            if j % 4 == 0:
                body.append(f"## Topic {j // 4 + 1}")
            body.append(p)
        (out / f"notes-{i:03d}.md").write_text("\n\n".join(body) + "\n", encoding="utf-8")
        pages += max(1, round(words / WORDS_PER_PAGE))
    return {"pdf": pdfs, "docx": docx, "md": markdown, "pages": pages}
