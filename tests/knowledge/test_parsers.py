"""Parsers: what each format yields, every way a file can be bad, and fuzzing."""

from __future__ import annotations

import errno
import io
import os
import re
import zipfile

import docx
import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.knowledge.parsers import SUPPORTED_SUFFIXES, ParseLimits, UnreadableFile, parse_file
from assistant.knowledge.parsers import text as text_parser
from tests.knowledge import corpus
from tests.knowledge.corpus import (
    CASES,
    CSV,
    DOCX_TABLE,
    DRAWING_ONLY,
    HTML,
    MARKDOWN,
    PDF_PAGES,
    RST,
    assert_valid_document,
    docx_bytes,
    docx_with_wrapped_text,
    pdf_bytes,
    text_content,
    zip_bytes,
)


def parse_bytes(tmp_path, name: str, data: bytes, limits: ParseLimits = ParseLimits()):  # noqa: B008
    path = tmp_path / name
    path.write_bytes(data)
    doc = parse_file(path, limits)
    assert_valid_document(doc)
    return doc


def outline(doc) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(b.kind, doc.block_text(b), b.heading_path) for b in doc.blocks]


def reason(path, limits: ParseLimits = ParseLimits()) -> str:  # noqa: B008
    with pytest.raises(UnreadableFile) as info:
        parse_file(path, limits)
    return str(info.value)


# ---------------------------------------------------------------- PDF


def test_pdf_blocks_keep_their_page(tmp_path):
    doc = parse_bytes(tmp_path, "report.pdf", pdf_bytes(PDF_PAGES, title="Quarterly report"))
    assert doc.format == "pdf" and doc.pages == 3
    assert doc.metadata["title"] == "Quarterly report"
    assert [(b.page, doc.block_text(b)) for b in doc.blocks] == [
        (1, "Lease agreement"),
        (1, "The tenant rents the flat on the first floor.\nThe rent is due monthly."),
        (2, "Page two is about the deposit of 1500 €."),
        (2, "Café, Müller and naïve stay intact."),
        (3, "The last page: termination and notice periods."),
    ]


def test_pdf_paragraphs_follow_line_spacing_and_font_size(tmp_path):
    body = "\n".join(f"Line {n} of a long paragraph that keeps going" for n in range(1, 5))
    heading = b"BT /F1 20 Tf 72 780 Td (Big heading) Tj ET\n"
    page = heading + text_content([body, "A new paragraph after a gap.", "Third one."])
    doc = parse_bytes(tmp_path, "layout.pdf", pdf_bytes(contents=[page]))
    assert [doc.block_text(b) for b in doc.blocks] == [
        "Big heading",
        body,
        "A new paragraph after a gap.",
        "Third one.",
    ]


def test_pdf_pages_without_text_are_listed(tmp_path):
    contents = [text_content(["Only page one has text."]), DRAWING_ONLY]
    doc = parse_bytes(tmp_path, "half.pdf", pdf_bytes(contents=contents))
    assert doc.pages == 2 and doc.metadata["pages_without_text"] == [2]


def test_encrypted_pdf_is_really_encrypted(tmp_path):
    data = pdf_bytes(PDF_PAGES, user_password="secret")
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)
    with pdfium.PdfDocument(data, password="secret") as pdf:  # the builder wrote real RC4
        page = pdf[1]
        textpage = page.get_textpage()
        assert "1500 €" in textpage.get_text_range()
        textpage.close()
        page.close()
    path = tmp_path / "locked.pdf"
    path.write_bytes(data)
    assert reason(path) == "The PDF is password-protected."


def test_pdf_with_only_an_owner_password_parses(tmp_path):
    doc = parse_bytes(tmp_path, "owner.pdf", pdf_bytes(PDF_PAGES, user_password=""))
    assert "Café, Müller and naïve stay intact." in doc.text


def test_pdf_page_limit(tmp_path):
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf_bytes(PDF_PAGES))
    assert reason(path, ParseLimits(max_pages=2)) == "The PDF has 3 pages; the limit is 2."


# ---------------------------------------------------------------- DOCX


def test_docx_headings_paragraphs_and_table_in_order(tmp_path):
    doc = parse_bytes(tmp_path, "lease.docx", docx_bytes())
    lease, sub, exc = ("Lease",), ("Lease", "14. Subletting"), ("Lease", "14. Subletting", "14.1 Exceptions")
    rows = [("table_row", " | ".join(row), sub) for row in DOCX_TABLE]
    assert outline(doc) == [
        ("heading", "Lease", lease),
        ("paragraph", "This lease is made between the landlord and the tenant.", lease),
        ("heading", "14. Subletting", sub),
        ("paragraph", "The tenant may not sublet without written consent.", sub),
        *rows,
        ("paragraph", "After the table.", sub),
        ("heading", "14.1 Exceptions", exc),
        ("paragraph", "Guests may stay for up to 14 days: é ü €.", exc),
        ("heading", "15. Termination", ("Lease", "15. Termination")),
        (
            "paragraph",
            "Either party may end the lease with three months' notice.",
            ("Lease", "15. Termination"),
        ),
    ]
    assert [b.level for b in doc.blocks if b.kind == "heading"] == [0, 1, 2, 1]
    assert doc.metadata["title"] == "Lease"


def test_docx_expansion_limit_is_configurable(tmp_path):
    path = tmp_path / "lease.docx"
    path.write_bytes(docx_bytes())
    assert "expands to more than 1 KB (a zip bomb?)" in reason(path, ParseLimits(max_uncompressed_bytes=1000))


def test_docx_with_broken_xml(tmp_path):
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"][:300]
    path = tmp_path / "broken.docx"
    path.write_bytes(zip_bytes(parts))
    assert reason(path) == "The DOCX is damaged or not really a Word document."


def test_docx_text_in_wrappers_revisions_notes_and_headers(tmp_path):
    doc = parse_bytes(tmp_path, "agreement.docx", docx_with_wrapped_text())
    schedule = ("Schedule B",)
    assert outline(doc) == [
        ("heading", "Schedule B", schedule),  # a tracked insertion in the heading
        ("paragraph", "This Agreement is made between Cobblepot Industries and the Client.", schedule),
        ("paragraph", "Signed on 1 March 2024.", schedule),
        ("paragraph", "The rent is 450 euros.", schedule),
        ("paragraph", "Notify Oswald Cobblepot", schedule),
        ("paragraph", "Deadline: 30 June", schedule),  # a text box's paragraphs, once (not its VML copy)
        ("paragraph", "Fee: 2% of the price", schedule),
        ("paragraph", "An old-style box.", schedule),
        ("paragraph", "Ref\tA-12\nLine two", schedule),
        ("paragraph", "A whole paragraph in a content control.", schedule),
        ("table_row", "Sealed | Yes (witnessed)", schedule),
        ("heading", "Footnotes", ("Footnotes",)),
        ("paragraph", "See the Companies Act 2006, s. 172.", ("Footnotes",)),
        ("heading", "Endnotes", ("Endnotes",)),
        ("paragraph", "Drafted by the firm's commercial team.", ("Endnotes",)),
        ("heading", "Headers and footers", ("Headers and footers",)),
        ("paragraph", "Cobblepot & Partners: confidential", ("Headers and footers",)),
        ("paragraph", "Client copy", ("Headers and footers",)),
    ]
    assert "400" not in doc.text and "Moved-away" not in doc.text  # deleted and moved-from text
    assert "(continued)" not in doc.text  # the notes' continuation notice is not a note


def test_docx_automatic_list_numbers_are_text(tmp_path):
    # Word draws these numbers but never stores them: "what does clause 2.2 say?" found nothing.
    doc = parse_bytes(tmp_path, "lease.docx", corpus.docx_with_numbered_clauses())
    assert [(k, t) for k, t, _ in outline(doc)] == [
        ("heading", "1. Definitions"),
        ("heading", "1.1 Interpretation"),
        ("paragraph", "(a) the Premises;"),
        ("paragraph", "(b) the Term."),
        ("heading", "2. Rent"),
        ("heading", "2.1 Payment"),
        ("paragraph", "(a) monthly in advance;"),
        ("heading", "2.2 Review"),
        ("paragraph", "Schedule II Fixtures"),
        ("paragraph", "i. carpets"),
        ("paragraph", "ii. blinds"),
        ("paragraph", "iv. lamps"),  # the empty item took iii.
        ("paragraph", "i. curtains"),  # a list restarting the level
        ("paragraph", "A bullet point."),
        ("table_row", "(a) payable on demand | Interest"),
    ]
    assert doc.blocks[3].heading_path == ("1. Definitions", "1.1 Interpretation")


def test_docx_broken_notes_parts_keep_the_body(tmp_path):
    with zipfile.ZipFile(io.BytesIO(docx_with_wrapped_text())) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["word/footnotes.xml"] = parts["word/footnotes.xml"][:120]
    parts["word/endnotes.xml"] = b'<?xml version="1.0"?><notes><endnote><p>Odd.</p></endnote></notes>'
    rels = "word/_rels/document.xml.rels"  # the sections now point at headers that are not there
    parts[rels] = re.sub(rb"<Relationship [^>]*/header\"[^>]*/>", b"", parts[rels])
    doc = parse_bytes(tmp_path, "agreement.docx", zip_bytes(parts))
    headings = [doc.block_text(b) for b in doc.blocks if b.kind == "heading"]
    assert headings == ["Schedule B", "Headers and footers"]
    assert "Cobblepot Industries" in doc.text and "Client copy" in doc.text
    assert "confidential" not in doc.text


def test_docx_without_text_says_so(tmp_path):
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "  "
    document.add_paragraph()._p.append(
        docx.oxml.parse_xml(
            '<w:del xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:id="1" '
            'w:author="A"><w:r><w:delText>Struck out.</w:delText></w:r></w:del>'
        )
    )
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "blank.docx"
    path.write_bytes(buffer.getvalue())
    assert reason(path) == "The DOCX holds no text."


# ---------------------------------------------------------------- text formats


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "cp1252", "latin-1"]
)
def test_text_encodings(tmp_path, encoding):
    sample = "Grüße aus Köln: das Café kostet 5 € und die Crème brûlée ist très bien.\n\nZweiter Absatz: ü é."
    if encoding == "latin-1":
        sample = sample.replace("€", "EUR")
    data = sample.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    doc = parse_bytes(tmp_path, "notes.txt", data)
    assert doc.text == sample
    assert [(b.line_start, b.line_end) for b in doc.blocks] == [(1, 1), (3, 3)]
    expected = {"utf-16": "utf-16-le", "utf-32": "utf-32-le", "latin-1": "cp1252"}.get(encoding, encoding)
    assert doc.encoding == expected


@pytest.mark.parametrize(
    "note", ["Café", "Müller GmbH", "Total: 5 €", "naïve résumé", "Preis: 12,50 €\nMwSt 19 %"]
)
def test_short_windows_1252_notes(tmp_path, note):
    # A few words leave charset-normalizer guessing: it read these as UTF-16, Urdu or DOS codepages.
    doc = parse_bytes(tmp_path, "note.txt", note.encode("cp1252"))
    assert (doc.text, doc.encoding) == (note, "cp1252")


@pytest.mark.parametrize(
    ("note", "codec"), [("Příliš žluťoučký kůň", "cp1250"), ("東京都の契約書です", "shift_jis")]
)
def test_short_notes_in_other_codepages_are_not_taken_for_windows_1252(tmp_path, note, codec):
    assert parse_bytes(tmp_path, "note.txt", note.encode(codec)).text == note


def test_text_paragraphs_and_line_numbers(tmp_path):
    data = b"  first line\r\nsecond line  \r\n\r\n\r\n\tthird\rfourth\n\n\nlast"
    doc = parse_bytes(tmp_path, "t.txt", data)
    assert [(doc.block_text(b), b.line_start, b.line_end) for b in doc.blocks] == [
        ("first line\nsecond line", 1, 2),
        ("third\nfourth", 5, 6),
        ("last", 9, 9),
    ]


@pytest.mark.parametrize("name", ["report.txt", "report.md", "report.rst"])
def test_form_feeds_do_not_add_lines(tmp_path, name):
    # A printed report's page breaks (and a vertical tab) sit inside a line in every editor; read as
    # line breaks, a block held more lines than it spans and its chunks could not name their own lines.
    doc = parse_bytes(tmp_path, name, b"Page one ends here\n\x0cPage two starts\nmore\n\x0c\nLast\x0bline\n")
    assert [(doc.block_text(b), b.line_start, b.line_end) for b in doc.blocks] == [
        ("Page one ends here\n Page two starts\nmore", 1, 3),
        ("Last line", 5, 5),
    ]


def test_markdown_headings_code_and_lines(tmp_path):
    doc = parse_bytes(tmp_path, "guide.md", MARKDOWN.encode("utf-8-sig"))
    guide, install, setext = ("Guide",), ("Guide", "Install"), ("Guide", "Setext title")
    assert [(k, t, p) for k, t, p in outline(doc)] == [
        ("heading", "Guide", guide),
        ("paragraph", "Intro paragraph with é ü €.", guide),
        ("heading", "Install", install),
        ("paragraph", "Run the installer.\nIt takes a minute.", install),
        ("code", "```sh\nmake setup\n\nmake run\n```", install),
        ("heading", "Setext title", setext),
        ("paragraph", "Under the setext heading.", setext),
        ("heading", "Reference", ("Reference",)),
        ("heading", "Deep", ("Reference", "Deep")),
        ("paragraph", "Last words.", ("Reference", "Deep")),
    ]
    assert [(b.line_start, b.line_end) for b in doc.blocks][4:6] == [(10, 14), (16, 17)]
    assert [b.level for b in doc.blocks if b.kind == "heading"] == [1, 2, 2, 1, 3]
    assert doc.encoding == "utf-8-sig"


def test_markdown_edge_cases(tmp_path):
    source = (
        "---\ntitle: x\n---\n\nText\n\n***\n\n- one\n- two\n---\n\n"
        "#not a heading\n\n## Closed ##\n\n~~~\nunclosed fence\n\n# inside\n"
    )
    doc = parse_bytes(tmp_path, "edge.markdown", source.encode())
    assert [(k, t) for k, t, _ in outline(doc)] == [
        ("paragraph", "title: x"),  # the front matter's fields, without its --- lines
        ("paragraph", "Text"),
        ("paragraph", "- one\n- two"),
        ("paragraph", "#not a heading"),
        ("heading", "Closed"),
        ("code", "~~~\nunclosed fence\n\n# inside"),
    ]


def test_rst_levels_follow_first_appearance(tmp_path):
    doc = parse_bytes(tmp_path, "guide.rst", RST.encode())
    assert [(b.level, doc.block_text(b), b.heading_path) for b in doc.blocks if b.kind == "heading"] == [
        (1, "Guide", ("Guide",)),
        (2, "Install", ("Guide", "Install")),
        (3, "Options", ("Guide", "Install", "Options")),
        (2, "Usage", ("Guide", "Usage")),
    ]
    assert [(b.line_start, b.line_end) for b in doc.blocks][:3] == [(1, 3), (5, 5), (7, 8)]


def test_rst_transitions_and_short_underlines_are_text(tmp_path):
    source = "Title\n*****\n\nPara one.\n\n----------\n\nLong title text\n==\n\nEnd.\n"
    doc = parse_bytes(tmp_path, "t.rst", source.encode())
    assert [(k, t) for k, t, _ in outline(doc)] == [
        ("heading", "Title"),
        ("paragraph", "Para one."),
        ("paragraph", "Long title text\n=="),
        ("paragraph", "End."),
    ]


@pytest.mark.parametrize(
    ("charset", "codec"), [("utf-8", "utf-8"), ("windows-1252", "cp1252"), ("utf-16", "utf-16")]
)
def test_html_visible_text_headings_and_rows(tmp_path, charset, codec):
    doc = parse_bytes(tmp_path, "page.html", HTML.format(charset=charset).encode(codec))
    rooms = ("Handbook", "Rooms")
    assert outline(doc) == [
        ("heading", "Handbook", ("Handbook",)),
        ("paragraph", "First paragraph with é ü €.", ("Handbook",)),
        ("paragraph", "Loose text in a div.", ("Handbook",)),
        ("heading", "Rooms", rooms),
        ("table_row", "Room | Size", rooms),
        ("table_row", "Kitchen | 12 m²", rooms),
        ("paragraph", "One item", rooms),
        ("paragraph", "Two items", rooms),
        ("code", "line 1\n    indented line 2", rooms),
        ("heading", "Details", (*rooms, "Details")),
        ("paragraph", "Deep bold text.\nAfter a break.", (*rooms, "Details")),
        ("heading", "Contact", ("Handbook", "Contact")),
        ("paragraph", "Quoted text.", ("Handbook", "Contact")),
    ]
    assert doc.metadata["title"] == "Handbook"
    for hidden in ["script text", "Menu entry", "Enable JavaScript", "Hidden paragraph", "color", "comment"]:
        assert hidden not in doc.text


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # Saved on Windows: declares latin-1 but holds windows-1252's euro sign, dashes and quotes.
        ("<meta charset=iso-8859-1>", "Fee: 500 € – “net” …"),
        # Declares nothing: windows-1252, not windows-1250 ("Crčme brűlée ŕ la carte").
        ("", "Crème brûlée à la carte, España"),
        # Re-saved by an editor as windows-1252, its <meta> still says UTF-8.
        ('<meta charset="utf-8">', "Crème brûlée à la carte, España"),
    ],
)
def test_html_charset_as_browsers_read_it(tmp_path, head, expected):
    data = f"<html><head>{head}</head><body><p>{expected}</p></body></html>".encode("cp1252")
    doc = parse_bytes(tmp_path, "page.html", data)
    assert doc.text == expected
    assert doc.encoding == "cp1252"


def test_html_charset_label_with_a_nul_byte(tmp_path):
    # A damaged label (the fuzzer found it) must leave the decision to detection, not raise.
    text = "Café au lait, s'il vous plaît. " * 5
    data = b"<meta charset='utf\x00-8'><p>" + text.encode("cp1252") + b"</p>"
    assert parse_bytes(tmp_path, "page.html", data).text == text.strip()


def test_html_layout_tables_are_read_as_blocks(tmp_path):
    page = b"<table><tr><td><p>Column one</p><p>More</p></td><td><h2>Side</h2>Aside text</td></tr></table>"
    doc = parse_bytes(tmp_path, "layout.htm", page)
    assert [(k, t) for k, t, _ in outline(doc)] == [
        ("paragraph", "Column one"),
        ("paragraph", "More"),
        ("heading", "Side"),
        ("paragraph", "Aside text"),
    ]


def test_nearly_utf8_text_keeps_its_accents(tmp_path):
    data = "Grüße aus Köln, schön! ".encode() * 10 + b"cut \xe2\x82 short"  # a '€' missing its last byte
    doc = parse_bytes(tmp_path, "mostly.txt", data)
    assert doc.encoding == "utf-8" and doc.text.startswith("Grüße aus Köln") and "cut \ufffd short" in doc.text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # One word typed in windows-1252 among proper UTF-8: the stray byte is the letter it meant.
        ("Le café est naïve. ".encode() + b"Caf\xe9 noir.", "Le café est naïve. Café noir."),
        ("Müller’s “Vertrag” über 5 €. ".encode() + b"A Word quote: \x92ok\x92.", "A Word quote: ’ok’."),
        (b"\xff" + "Grüße, schön, Köln".encode(), "ÿGrüße, schön, Köln"),  # 0xFF is never UTF-8
    ],
)
def test_utf8_with_a_few_stray_windows_1252_bytes(tmp_path, data, expected):
    doc = parse_bytes(tmp_path, "mixed.txt", data)
    assert doc.encoding == "utf-8" and expected in doc.text and "Ã" not in doc.text


def test_windows_1252_with_one_accidental_utf8_pair_stays_windows_1252(tmp_path):
    # "É’" happens to be a valid UTF-8 pair; one pair against three stray bytes is not UTF-8.
    note = "CAFÉ’S menu: crème brûlée, naïve."
    doc = parse_bytes(tmp_path, "menu.txt", note.encode("cp1252"))
    assert (doc.text, doc.encoding) == (note, "cp1252")


@pytest.mark.parametrize("data", [b"   \t  ", b" \n\t\n\r\n  ", "\u00a0\u2003".encode()])
def test_text_of_only_blank_space_says_so(tmp_path, data):
    path = tmp_path / "blank.txt"
    path.write_bytes(data)
    assert reason(path) == "The file has no text, only blank space (spaces, tabs or empty lines)."


def test_csv_header_rows_and_lines(tmp_path):
    doc = parse_bytes(tmp_path, "people.csv", CSV.encode("cp1252"))
    assert doc.header == "name | city | note" and doc.metadata["delimiter"] == ";"
    assert [(b.kind, doc.block_text(b), b.line_start, b.line_end) for b in doc.blocks] == [
        ("csv_row", "Anna | Köln | Café", 2, 2),
        ("csv_row", "Jürgen | Zürich | 100 €", 3, 3),
        ("csv_row", "Lena | Wien | two lines", 5, 6),
    ]


def test_csv_excel_sep_line_names_the_delimiter(tmp_path):
    # Excel's "sep=" hint line was read as the header, and the real header as a data row.
    doc = parse_bytes(tmp_path, "export.csv", b"sep=;\r\nName;Note\r\nAnn;a, b\r\nBob;c\r\n")
    assert doc.header == "Name | Note"
    assert [(doc.block_text(b), b.line_start) for b in doc.blocks] == [("Ann | a, b", 3), ("Bob | c", 4)]


def test_csv_quoted_cells_keep_their_doubled_quotes_and_delimiters(tmp_path):
    # As a spreadsheet writes it: the sniffer took "" for the end of the cell and split it at its commas.
    data = ("\ufeffClient,Matter,Status,Amount\r\n"
            '"Acme, Inc.",Smith v. Acme,"Settled; payment of ""48,250"" due by March 3, 2025","48,250.00"\r\n'
            "Björk AB,Lease,Open,0\r\n").encode()
    doc = parse_bytes(tmp_path, "ledger.csv", data)
    assert doc.header == "Client | Matter | Status | Amount" and doc.metadata["delimiter"] == ","
    assert [doc.block_text(b) for b in doc.blocks] == [
        'Acme, Inc. | Smith v. Acme | Settled; payment of "48,250" due by March 3, 2025 | 48,250.00',
        "Björk AB | Lease | Open | 0"]
    # Apostrophes in the text are not quotes; a quoted cell keeps its delimiter.
    doc = parse_bytes(tmp_path, "notes.csv", b"Who;Said;Note\nO'Brien;'fine', he said;\"a \"\"b\"\";c\"\nAnn;ok;\"x;y\"\n")
    assert [doc.block_text(b) for b in doc.blocks] == ["O'Brien | 'fine', he said | a \"b\";c", "Ann | ok | x;y"]


def test_tsv_and_ragged_rows_with_a_huge_field(tmp_path):
    doc = parse_bytes(tmp_path, "t.tsv", b"a\tb\n1\t2\t3\n4\n")
    assert doc.header == "a | b" and [doc.block_text(b) for b in doc.blocks] == ["1 | 2 | 3", "4"]
    path = tmp_path / "huge.csv"
    next(c for c in CASES if c.name == "huge-field.csv").make(path)
    doc = parse_file(path)
    rows = [doc.block_text(b) for b in doc.blocks]
    assert rows[:3] == ["1 | short | x", "2 | ragged", "3 | a | b | c | d | e"]
    assert len(rows[3]) > 10_000_000 and rows[3].endswith("word | end")
    assert rows[4] == "5 | after the huge field | y"


# ---------------------------------------------------------------- bad files, limits, errors


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_and_odd_files(tmp_path, case):
    why_not = case.unavailable()
    if why_not:
        pytest.skip(why_not)
    path = tmp_path / case.name
    case.make(path)
    if case.reason is None:
        assert_valid_document(parse_file(path))
    else:
        assert case.reason in reason(path)


def test_bad_files_builder_for_other_tests(tmp_path):
    cases = corpus.bad_files(tmp_path / "bad") + corpus.good_files(tmp_path / "good")
    assert sum(1 for _, why in cases if why) >= 25
    assert {path.suffix for path, why in cases if why is None} >= SUPPORTED_SUFFIXES - {".markdown"}
    for path, why in cases:
        if why is None:
            assert_valid_document(parse_file(path))
        else:
            assert why in reason(path), path.name


def test_small_size_limit(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"x" * 2000)
    assert reason(path, ParseLimits(max_file_bytes=1000)) == "The file is larger than the 1 KB limit."


def test_block_limit(tmp_path):
    path = tmp_path / "many.txt"
    path.write_bytes(b"para\n\n" * 20)
    assert "more than 10 paragraphs or rows" in reason(path, ParseLimits(max_blocks=10))


def test_permission_denied(tmp_path, monkeypatch):
    """Emulated, because the tests may run as root, which chmod 000 does not stop."""
    path = tmp_path / "locked.md"
    path.write_bytes(b"# secret")
    real_open = os.open

    def refusing_open(target, *args, **kwargs):
        if os.fspath(target) == os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(target))
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    assert reason(path) == "Permission denied: the file cannot be read."


def test_library_failures_become_unreadable_file(tmp_path, monkeypatch):
    from assistant.knowledge.parsers import docx as docx_parser
    from assistant.knowledge.parsers import html as html_parser

    def exploding(*args, **kwargs):
        raise RuntimeError("unexpected\ninternal state.")

    page = tmp_path / "page.html"
    page.write_bytes(b"<p>hello</p>")
    lease = tmp_path / "lease.docx"
    lease.write_bytes(docx_bytes())
    monkeypatch.setattr(html_parser, "BeautifulSoup", exploding)
    monkeypatch.setattr(docx_parser.docx, "Document", exploding)
    assert reason(page) == "The web page could not be read: unexpected internal state."
    assert reason(lease) == "The DOCX is damaged or not really a Word document."


def test_bugs_in_the_parsers_are_not_hidden(tmp_path, monkeypatch):
    monkeypatch.setattr(text_parser, "decode_text", lambda data: (None, "utf-8"))
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    with pytest.raises(AttributeError):
        parse_file(path)


# ---------------------------------------------------------------- fuzzing

SEEDS = {
    ".pdf": pdf_bytes([["Fuzz page one.", "Second paragraph."], ["Page two."]]),
    ".docx": docx_bytes(),
    ".txt": "Plain text.\n\nGrüße €.\n".encode(),
    ".md": MARKDOWN.encode(),
    ".rst": RST.encode(),
    ".html": HTML.format(charset="utf-8").encode(),
    ".csv": CSV.encode(),
    ".tsv": CSV.replace(";", "\t").encode(),
}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def parse_or_refuse(folder, suffix: str, data: bytes) -> None:
    """The fuzz property: a valid document or UnreadableFile, nothing else."""
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        doc = parse_file(path)
    except UnreadableFile as exc:
        assert str(exc).strip()
    else:
        assert_valid_document(doc)


def _mutate(seed: bytes, edits) -> bytes:
    data = bytearray(seed)
    for op, position, blob in edits:
        at = position % (len(data) + 1)
        if op == "flip" and at < len(data):
            data[at] ^= blob[0] or 1
        elif op == "insert":
            data[at:at] = blob
        elif op == "delete":
            del data[at : at + 8 * len(blob)]
        elif op == "overwrite":
            data[at : at + len(blob)] = blob
        elif op == "truncate":
            del data[at:]
        elif op == "duplicate":
            data[at:at] = data[at : at + 16 * len(blob)]
    return bytes(data)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "overwrite", "truncate", "duplicate"]),
        st.integers(0, 1 << 20),
        st.binary(min_size=1, max_size=24),
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.parametrize("suffix", sorted(SEEDS))
@FUZZ
@given(data=st.binary(max_size=3000))
def test_fuzz_random_bytes(fuzz_dir, suffix, data):
    parse_or_refuse(fuzz_dir, suffix, data)


@pytest.mark.parametrize("suffix", sorted(SEEDS))
@FUZZ
@given(edits=EDITS)
def test_fuzz_mutated_valid_files(fuzz_dir, suffix, edits):
    parse_or_refuse(fuzz_dir, suffix, _mutate(SEEDS[suffix], edits))


with zipfile.ZipFile(io.BytesIO(SEEDS[".docx"])) as _seed:
    DOCX_PARTS = {name: _seed.read(name) for name in _seed.namelist()}
DOCX_XML_PARTS = sorted(name for name in DOCX_PARTS if name.endswith((".xml", ".rels")))


@FUZZ
@given(part=st.sampled_from(DOCX_XML_PARTS), edits=EDITS)
def test_fuzz_docx_xml_parts(fuzz_dir, part, edits):
    """Mutate the XML inside a well-formed zip, so that python-docx itself gets exercised."""
    parts = dict(DOCX_PARTS)
    parts[part] = _mutate(parts[part], edits)
    parse_or_refuse(fuzz_dir, ".docx", zip_bytes(parts))


MARKUP = st.text(
    alphabet=st.one_of(st.sampled_from(list("#=-~`*:.|,;\"' \t\r\n<>/ab1é€")), st.characters()),
    max_size=400,
)


@pytest.mark.parametrize("suffix", [".md", ".rst", ".txt", ".csv", ".tsv", ".html"])
@FUZZ
@given(text=MARKUP)
def test_fuzz_markup_text(fuzz_dir, suffix, text):
    parse_or_refuse(fuzz_dir, suffix, text.encode("utf-8", "surrogatepass"))
