"""Builders for parser test files, written by code (no binary fixtures in the repository).

`good_files(folder)` and `bad_files(folder)` return [(path, expected_reason_or_None)]:
None means the file must parse; a string is a substring of the UnreadableFile reason.
The indexing tests reuse them; `CASES` lists the bad files one by one, for parametrizing.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part

from assistant.bench.synthetic_docs import assemble_pdf
from assistant.knowledge.document import ParsedDocument

# ---------------------------------------------------------------- PDF, written by hand

# Standard security handler (PDF 1.4, algorithms 3.2-3.4): revision 2, 40-bit RC4.
_PASSWORD_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_FILE_ID = bytes.fromhex("0123456789abcdef0123456789abcdef")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PASSWORD_PAD)[:32]


def _security(user_password: str, owner_password: str) -> tuple[bytes, bytes, bytes]:
    """(encryption key, /O, /U) for revision 2 with all permissions (/P -4)."""
    owner = _rc4(hashlib.md5(_padded(owner_password)).digest()[:5], _padded(user_password))
    key = hashlib.md5(_padded(user_password) + owner + struct.pack("<i", -4) + _FILE_ID).digest()[:5]
    return key, owner, _rc4(key, _PASSWORD_PAD)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")  # WinAnsiEncoding: é, ü and € all have a byte
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_content(paragraphs: list[str], size: int = 12) -> bytes:
    """A content stream: lines 14 pt apart, an empty line between paragraphs."""
    out = [b"BT /F1 %d Tf %d TL 72 760 Td" % (size, size + 2)]
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            out.append(b"(" + _escape(line) + b") Tj T*")
        out.append(b"T*")
    out.append(b"ET")
    return b"\n".join(out)


DRAWING_ONLY = b"0 0 1 rg 100 100 200 200 re f"  # a page with ink but no text


def pdf_bytes(
    pages: list[list[str]] | None = None,
    *,
    contents: list[bytes] | None = None,
    user_password: str | None = None,
    owner_password: str = "owner",
    title: str | None = None,
) -> bytes:
    """A valid PDF with one Helvetica text page per entry of `pages` (paragraphs per page).

    With `user_password` the PDF is really encrypted (RC4, revision 2): pdfium
    opens it only with that password (or none, when the password is "").
    """
    if contents is None:
        contents = [text_content(p) for p in (pages or [])]
    security = None if user_password is None else _security(user_password, owner_password)
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    kids = []
    number = 4
    for stream in contents:
        if security:
            key = security[0]
            object_key = hashlib.md5(key + number.to_bytes(3, "little") + b"\0\0").digest()[:10]
            stream = _rc4(object_key, stream)
        objects[number] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        objects[number + 1] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % number
        )
        kids.append(b"%d 0 R" % (number + 1))
        number += 2
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    trailer = b"/Root 1 0 R /ID [<%s> <%s>]" % (_FILE_ID.hex().encode(), _FILE_ID.hex().encode())
    if security:
        _, owner, user = security
        objects[number] = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (
            owner.hex().encode(),
            user.hex().encode(),
        )
        trailer += b" /Encrypt %d 0 R" % number
        number += 1
    if title is not None and not security:
        objects[number] = b"<< /Title (" + _escape(title) + b") >>"
        trailer += b" /Info %d 0 R" % number
    return assemble_pdf(objects, trailer)


PDF_PAGES = [
    ["Lease agreement", "The tenant rents the flat on the first floor.\nThe rent is due monthly."],
    ["Page two is about the deposit of 1500 €.", "Café, Müller and naïve stay intact."],
    ["The last page: termination and notice periods."],
]

# ---------------------------------------------------------------- DOCX

DOCX_TABLE = [["Name", "Room", "Rent"], ["Anna", "Kitchen", "400 €"], ["Jürgen", "Attic", "350 €"]]


def docx_bytes() -> bytes:
    """Title, headings on two levels, paragraphs and a table between paragraphs."""
    document = docx.Document()
    document.core_properties.title = "Lease"
    document.add_heading("Lease", level=0)
    document.add_paragraph("This lease is made between the landlord and the tenant.")
    document.add_heading("14. Subletting", level=1)
    document.add_paragraph("The tenant may not sublet without written consent.")
    table = document.add_table(rows=len(DOCX_TABLE), cols=3)
    for row, values in zip(table.rows, DOCX_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("After the table.")
    document.add_heading("14.1 Exceptions", level=2)
    document.add_paragraph("Guests may stay for up to 14 days: é ü €.")
    document.add_heading("15. Termination", level=1)
    document.add_paragraph("Either party may end the lease with three months' notice.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_NOTES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    "<w:{kind}s {ns}>"
    '<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
    '<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:{kind}>'
    '<w:{kind} w:type="continuationNotice" w:id="1"><w:p><w:r><w:t>(continued)</w:t></w:r></w:p></w:{kind}>'
    '<w:{kind} w:id="2"><w:p><w:r><w:{kind}Ref/></w:r><w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:{kind}>'
    "</w:{kind}s>"
)


def _append(paragraph, xml: str) -> None:
    """Raw WordprocessingML (runs and their wrappers) at the end of a paragraph."""
    paragraph._p.extend(list(docx.oxml.parse_xml(f"<w:p {_W}>{xml}</w:p>")))


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _text_box(*paragraphs: str, legacy_copy: bool = True) -> str:
    """A run holding a text box as Word writes it: a DrawingML box and, as mc:Fallback, its VML copy."""
    content = "<w:txbxContent>" + "".join(f"<w:p>{_run(text)}</w:p>" for text in paragraphs) + "</w:txbxContent>"
    vml = f'<w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>{content}</v:textbox></v:shape></w:pict>'
    if not legacy_copy:
        return f"<w:r>{vml}</w:r>"
    drawing = (
        '<w:drawing><wp:anchor xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData>'
        '<wps:wsp xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:txbx>{content}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
    )
    return (
        '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        f'<mc:Choice Requires="wps">{drawing}</mc:Choice><mc:Fallback>{vml}</mc:Fallback>'
        "</mc:AlternateContent></w:r>"
    )


def _notes_part(document, kind: str, text: str) -> None:
    """A footnotes or endnotes part (python-docx cannot make one), related as Word relates it."""
    blob = _NOTES_XML.format(kind=kind, ns=_W, text=text).encode()
    content_type = getattr(CONTENT_TYPE, f"WML_{kind.upper()}S")
    part = Part(PackURI(f"/word/{kind}s.xml"), content_type, blob, document.part.package)
    document.part.relate_to(part, getattr(RELATIONSHIP_TYPE, f"{kind.upper()}S"))
    _append(document.paragraphs[-1], f'<w:r><w:{kind}Reference w:id="2"/></w:r>')


def docx_with_wrapped_text() -> bytes:
    """Text in content controls, fields, revisions, smart tags and text boxes; notes, headers and footers."""
    document = docx.Document()
    heading = document.add_heading("Schedule ", level=1)
    _append(heading, f'<w:ins w:id="9" w:author="A">{_run("B")}</w:ins>')
    _append(
        document.add_paragraph(),
        _run("This Agreement is made between ")
        + f'<w:sdt><w:sdtPr><w:alias w:val="Party"/></w:sdtPr><w:sdtContent>{_run("Cobblepot Industries")}'
        "</w:sdtContent></w:sdt>" + _run(" and the Client."),
    )
    _append(
        document.add_paragraph(),
        _run("Signed on ")
        + f'<w:fldSimple w:instr=" DATE ">{_run("1 March 2024")}</w:fldSimple>'
        + _run("."),
    )
    _append(
        document.add_paragraph(),
        _run("The rent is ")
        + '<w:del w:id="1" w:author="A"><w:r><w:delText>400</w:delText></w:r></w:del>'
        + f'<w:ins w:id="2" w:author="A">{_run("450")}</w:ins>'
        + _run(" euros.")
        + f'<w:moveFrom w:id="3" w:author="A">{_run(" Moved-away words.")}</w:moveFrom>',
    )
    _append(
        document.add_paragraph(),
        _run("Notify ") + f'<w:smartTag w:element="PersonName">{_run("Oswald Cobblepot")}</w:smartTag>'
        + _text_box("Deadline: 30 June", "Fee: 2% of the price"),
    )
    _append(document.add_paragraph(), _text_box("An old-style box.", legacy_copy=False))
    _append(
        document.add_paragraph(),
        "<w:r><w:t>Ref</w:t><w:tab/><w:t>A</w:t><w:noBreakHyphen/><w:t>12</w:t><w:br/><w:t>Line two</w:t></w:r>",
    )
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Sealed", "Yes"
    _append(table.rows[0].cells[1].paragraphs[0], _text_box("(witnessed)"))
    block = docx.oxml.parse_xml(f"<w:sdt {_W}><w:sdtPr/><w:sdtContent/></w:sdt>")
    table._tbl.addprevious(block)
    content = block[1]
    content.append(docx.oxml.parse_xml(f"<w:p {_W}>{_run('A whole paragraph in a content control.')}</w:p>"))
    content.append(table._tbl)
    _notes_part(document, "footnote", "See the Companies Act 2006, s. 172.")
    _notes_part(document, "endnote", "Drafted by the firm's commercial team.")
    document.sections[0].header.paragraphs[0].text = "Cobblepot & Partners: confidential"
    document.sections[0].footer.paragraphs[0].text = "Client copy"
    document.add_section()  # linked to the first section's header and footer
    document.add_section()
    document.sections[2].header.is_linked_to_previous = False  # its own copy of the same header
    document.sections[2].header.paragraphs[0].text = "Cobblepot & Partners: confidential"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_CLAUSES_XML = (
    f"<w:numbering {_W}>"
    # Clauses: "1." on Heading 1, "1.1" on Heading 2, "(a)" below; a lawyer's outline.
    '<w:abstractNum w:abstractNumId="10">'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading1"/>'
    '<w:lvlText w:val="%1."/></w:lvl>'
    '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading2"/>'
    '<w:lvlText w:val="%1.%2"/></w:lvl>'
    '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>'
    "</w:abstractNum>"
    # Schedules: "Schedule II", then items "iii." that a second list restarts at 1.
    '<w:abstractNum w:abstractNumId="11">'
    '<w:lvl w:ilvl="0"><w:start w:val="2"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="Schedule %1"/></w:lvl>'
    '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerRoman"/><w:lvlText w:val="%2."/></w:lvl>'
    "</w:abstractNum>"
    '<w:abstractNum w:abstractNumId="12">'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="\uf0b7"/></w:lvl>'
    "</w:abstractNum>"
    '<w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>'
    '<w:num w:numId="2"><w:abstractNumId w:val="11"/></w:num>'
    '<w:num w:numId="3"><w:abstractNumId w:val="11"/>'
    '<w:lvlOverride w:ilvl="1"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
    '<w:num w:numId="4"><w:abstractNumId w:val="12"/></w:num>'
    "</w:numbering>"
)


def docx_with_numbered_clauses() -> bytes:
    """Word's automatic list numbers: tied to heading styles, nested, restarted, and bullets."""
    document = docx.Document()
    numbering = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype == RELATIONSHIP_TYPE.NUMBERING
    )
    numbering._element = docx.oxml.parse_xml(_CLAUSES_XML)
    for style_id in ("Heading1", "Heading2"):
        ppr = document.styles.element.get_by_id(style_id).get_or_add_pPr()
        ppr.append(docx.oxml.parse_xml(f'<w:numPr {_W}><w:numId w:val="1"/></w:numPr>'))

    def listed(text: str, num_id: int, ilvl: int, style: str | None = None) -> None:
        paragraph = document.add_paragraph(text, style=style)
        paragraph._p.get_or_add_pPr().append(
            docx.oxml.parse_xml(
                f'<w:numPr {_W}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
            )
        )

    document.add_heading("Definitions", level=1)
    document.add_heading("Interpretation", level=2)
    listed("the Premises;", 1, 2)
    listed("the Term.", 1, 2)
    document.add_heading("Rent", level=1)
    document.add_heading("Payment", level=2)
    listed("monthly in advance;", 1, 2)
    document.add_heading("Review", level=2)
    listed("Fixtures", 2, 0)
    listed("carpets", 2, 1)
    listed("blinds", 2, 1)
    listed("", 2, 1)  # an empty item still takes its number
    listed("lamps", 2, 1)
    listed("curtains", 3, 1)
    listed("A bullet point.", 4, 0)
    table = document.add_table(rows=1, cols=2)
    listed_cell = table.rows[0].cells[0].paragraphs[0]
    listed_cell.text = "payable on demand"
    listed_cell._p.get_or_add_pPr().append(
        docx.oxml.parse_xml(f'<w:numPr {_W}><w:ilvl w:val="2"/><w:numId w:val="1"/></w:numPr>')
    )
    table.rows[0].cells[1].text = "Interest"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes], *, level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb_docx(path: Path, megabytes: int) -> Path:
    """A real DOCX plus `megabytes` MB of zeros as a media part: it packs into a few hundred KB."""
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as stream:
            chunk = bytes(1_000_000)
            for _ in range(megabytes):
                stream.write(chunk)
    return path


# ---------------------------------------------------------------- text formats

MARKDOWN = """\
# Guide

Intro paragraph with é ü €.

## Install

Run the installer.
It takes a minute.

```sh
make setup

make run
```

Setext title
------------

Under the setext heading.

# Reference

### Deep

Last words.
"""

RST = """\
=====
Guide
=====

Intro paragraph.

Install
=======

Run the installer.

Options
-------

Some options.

Usage
=====

Use it.
"""

HTML = """\
<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>Handbook</title>
<style>p {{ color: red }}</style><script>var hidden = "script text";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/x">Menu entry</a></nav>
<h1>Handbook</h1>
<p>First paragraph with é ü €.</p>
<div>Loose text in a div.</div>
<h2>Rooms</h2>
<table><tr><th>Room</th><th>Size</th></tr><tr><td>Kitchen</td><td>12 m²</td></tr></table>
<ul><li>One item</li><li>Two items</li></ul>
<pre>line 1
    indented line 2</pre>
<noscript>Enable JavaScript</noscript>
<p hidden>Hidden paragraph</p>
<h3>Details</h3>
<p>Deep <b>bold</b> text.<br>After a break.</p>
<h2>Contact</h2>
<blockquote>Quoted text.</blockquote>
<!-- a comment -->
</body></html>
"""

CSV = 'name;city;note\nAnna;Köln;Café\nJürgen;Zürich;100 €\n\nLena;Wien;"two\nlines"\n'


def _random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def good_files(folder: Path) -> list[tuple[Path, None]]:
    """One valid file per supported suffix (and a few encodings)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "report.pdf": pdf_bytes(PDF_PAGES, title="Report"),
        "lease.docx": docx_bytes(),
        "notes.txt": "Hello\n\nGrüße € ü é\n".encode("cp1252"),
        "notes-utf16.txt": "Hello\n\nGrüße € ü é\n".encode("utf-16"),
        "guide.md": MARKDOWN.encode("utf-8-sig"),
        "guide.markdown": MARKDOWN.encode(),
        "guide.rst": RST.encode(),
        "page.html": HTML.format(charset="utf-8").encode(),
        "page.htm": HTML.format(charset="windows-1252").encode("cp1252"),
        "table.csv": CSV.encode(),
        "table.tsv": CSV.replace(";", "\t").encode("utf-16"),
    }
    out = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out.append((folder / name, None))
    return out


# ---------------------------------------------------------------- bad (and odd) files


@dataclass(frozen=True)
class Case:
    """One file for parse_file: `make(path)` creates it; `reason` is what it must say (None: parses)."""

    name: str
    reason: str | None
    make: Callable[[Path], object]
    unavailable: Callable[[], str | None] = lambda: None  # why this case cannot be built here


def _write(data: Callable[[], bytes]) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data())


def _sparse(path: Path) -> None:
    with open(path, "wb") as stream:
        stream.truncate(1 << 30)  # 1 GB of hole: no disk space used


def _huge_field_csv(path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        stream.write("id,text,extra\n1,short,x\n2,ragged\n3,a,b,c,d,e\n")
        stream.write('4,"' + "word " * 2_000_000 + '",end\n')  # one 10 MB field
        stream.write("5,after the huge field,y\n")


def _symlink_loop(path: Path) -> None:
    other = path.with_name(path.name + ".other")
    path.symlink_to(other)
    other.symlink_to(path)


def _locked(path: Path) -> None:
    path.write_bytes(b"secret notes")
    path.chmod(0)


def _spreadsheet_in_disguise() -> bytes:
    content_types = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="xml" ContentType="application/xml"/></Types>'
    )
    return zip_bytes({"[Content_Types].xml": content_types, "xl/workbook.xml": b"<workbook/>"})


def _docx_with_blank_paragraphs() -> bytes:
    document = docx.Document()
    for _ in range(3):
        document.add_paragraph("   ")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _unless(condition: bool, reason: str) -> Callable[[], str | None]:
    return lambda: reason if condition else None


DAMAGED_PDF = "damaged or not really a PDF"
NOT_DOCX = "not really a Word document"
BINARY = "binary or its text encoding cannot be recognised"
EMPTY = "The file is empty."
BLANK = "only blank space"
DOCX_NO_TEXT = "The DOCX holds no text."
ODD_NAME = "Zeile eins\nÜber € – ñ.md"
SUFFIXES = [".pdf", ".docx", ".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".csv", ".tsv"]

CASES: list[Case] = [
    Case("corrupt.pdf", DAMAGED_PDF, _write(lambda: b"%PDF-1.7\n" + _random_bytes(3000, 1))),
    Case("truncated.pdf", DAMAGED_PDF, _write(lambda: pdf_bytes(PDF_PAGES)[:700])),
    Case("random.pdf", DAMAGED_PDF, _write(lambda: _random_bytes(4096, 2))),
    Case("encrypted.pdf", "password-protected", _write(lambda: pdf_bytes(PDF_PAGES, user_password="secret"))),
    Case("scanned.pdf", "no text layer", _write(lambda: pdf_bytes(contents=[DRAWING_ONLY, DRAWING_ONLY]))),
    Case("no-pages.pdf", "no pages", _write(lambda: pdf_bytes([]))),
    Case("random.docx", NOT_DOCX, _write(lambda: _random_bytes(4096, 3))),
    Case("plain-text.docx", NOT_DOCX, _write(lambda: b"Just some text, saved with the wrong name.\n")),
    Case("other-zip.docx", NOT_DOCX, _write(lambda: zip_bytes({"hello.txt": b"hello"}))),
    Case("spreadsheet.docx", NOT_DOCX, _write(_spreadsheet_in_disguise)),
    Case("legacy.docx", "old .doc format", _write(lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))),
    Case("blank-paragraphs.docx", DOCX_NO_TEXT, _write(_docx_with_blank_paragraphs)),
    Case("bomb-size.docx", "zip bomb", lambda path: zip_bomb_docx(path, 201)),
    Case("bomb-ratio.docx", "zip bomb", lambda path: zip_bomb_docx(path, 30)),
    *[Case(f"empty{suffix}", EMPTY, _write(lambda: b"")) for suffix in SUFFIXES],
    Case("whitespace.md", BLANK, _write(lambda: b"  \n\n\t \r\n   \n")),
    Case("whitespace.html", BLANK, _write(lambda: b"\r\n \t\n")),
    Case("whitespace.csv", BLANK, _write(lambda: b"\n \n\t\n")),
    Case("separators-only.csv", "only empty cells", _write(lambda: b"\n\n ,  , \n")),
    Case("sep-line-only.csv", "only its 'sep=' line", _write(lambda: b"sep=;\r\n\r\n")),
    Case("random.txt", BINARY, _write(lambda: _random_bytes(4096, 4))),
    Case("nuls.txt", BINARY, _write(lambda: b"text\x00\x00\x00with\x00\x00nul\x00bytes\x00\x00" * 50)),
    Case("random.md", BINARY, _write(lambda: _random_bytes(2048, 5))),
    Case("random.csv", BINARY, _write(lambda: _random_bytes(2048, 6))),
    Case("random.html", BINARY, _write(lambda: _random_bytes(2048, 7))),
    Case("program.exe", "(.exe) is not supported", _write(lambda: b"MZ\x90\x00" + _random_bytes(500, 8))),
    Case("blob.bin", "(.bin) is not supported", _write(lambda: _random_bytes(500, 9))),
    Case("archive.xyz", "(.xyz) is not supported", _write(lambda: b"hello")),
    Case("Makefile", "(no extension) is not supported", _write(lambda: b"all:\n\techo hi\n")),
    Case(
        "scripts-only.html",
        "no visible text",
        _write(lambda: b"<html><head><style>p{}</style></head><body><script>x=1</script></body></html>"),
    ),
    Case("header-only.csv", "header row but no data rows", _write(lambda: b"a,b,c\n")),
    Case("sparse-1GB.txt", "larger than the 100 MB limit", _sparse),
    Case(ODD_NAME, None, _write(lambda: "# Titel\n\nInhalt mit ü.\n".encode())),
    Case("huge-field.csv", None, _huge_field_csv),
    Case("loop.txt", "symlink loop", _symlink_loop),
    Case("dangling.pdf", "does not exist", lambda path: path.symlink_to(path.with_name("nowhere.pdf"))),
    Case("missing.txt", "does not exist", lambda path: None),
    Case("x.md", "folder, not a file", lambda path: path.mkdir()),
    Case(
        "x.txt",
        "not a regular file",
        lambda path: os.mkfifo(path),
        _unless(not hasattr(os, "mkfifo"), "no FIFOs on this system"),
    ),
    Case(
        "device.txt",
        "not a regular file",
        lambda path: path.symlink_to("/dev/zero"),
        _unless(not os.path.exists("/dev/zero"), "no /dev/zero on this system"),
    ),
    Case(
        "locked.txt",
        "Permission denied",
        _locked,
        _unless(
            hasattr(os, "geteuid") and os.geteuid() == 0,
            "running as root, which reads files whatever their mode (test_permission_denied emulates it)",
        ),
    ),
]


def bad_files(folder: Path) -> list[tuple[Path, str | None]]:
    """Broken, hostile and odd files, each paired with the reason parse_file must give.

    A few odd but valid files are included (reason None): they must parse.
    Cases that cannot be built here (no FIFOs, running as root) are left out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for case in CASES:
        if case.unavailable() is None:
            path = folder / case.name
            case.make(path)
            out.append((path, case.reason))
    return out


# ---------------------------------------------------------------- checks


def assert_valid_document(doc: ParsedDocument) -> None:
    """The contract of ParsedDocument: ordered, stripped, non-overlapping blocks joined by blank lines."""
    assert isinstance(doc, ParsedDocument)
    assert doc.blocks, "a parsed document has at least one block"
    assert doc.text.strip()
    doc.text.encode("utf-8")  # no lone surrogates: storable in SQLite and JSON
    assert doc.blocks[0].start == 0 and doc.blocks[-1].end == len(doc.text)
    previous = None
    for block in doc.blocks:
        text = doc.text[block.start : block.end]
        assert 0 <= block.start < block.end <= len(doc.text)
        assert text == text.strip() and text
        if previous is not None:
            assert doc.text[previous.end : block.start] == "\n\n"
        if block.kind == "heading":
            assert block.level is not None and block.heading_path and block.heading_path[-1] == text
        if block.page is not None:
            assert doc.pages is not None and 1 <= block.page <= doc.pages
            assert previous is None or previous.page is None or previous.page <= block.page
        if block.line_start is not None:
            assert 1 <= block.line_start <= block.line_end
            assert previous is None or previous.line_end is None or previous.line_end < block.line_start
        previous = block
