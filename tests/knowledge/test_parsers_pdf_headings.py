"""PDF headings: told by size, weight and legal numbering; body text and lists stay paragraphs."""

from __future__ import annotations

from assistant.bench.synthetic_docs import assemble_pdf
from assistant.knowledge.chunker import chunk_document
from assistant.knowledge.parsers import parse_file
from tests.knowledge.corpus import assert_valid_document, pdf_bytes

# style -> (font resource, size): F1 Helvetica, F2 Helvetica-Bold
STYLES = {"title": (b"F2", 20), "h1": (b"F2", 15), "bold": (b"F2", 11), "p": (b"F1", 11), "note": (b"F1", 8)}


def _escape(text: str) -> bytes:
    return text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def page_content(items: list[tuple[str, str]]) -> bytes:
    """Each item a paragraph (lines split on \\n) in a style, a blank line's gap after it."""
    out, y = [], 760
    for style, text in items:
        font, size = STYLES[style]
        for line in text.split("\n"):
            out.append(b"BT /%s %d Tf 72 %d Td (%s) Tj ET" % (font, size, y, _escape(line)))
            y -= size + 3
        y -= 10
    return b"\n".join(out)


_FONTS = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"


def legal_pdf(pages: list[list[tuple[str, str]]]) -> bytes:
    """Pages in Helvetica (F1) and Helvetica-Bold (F2): object 5 + 2i is page i's content, 6 + 2i the page."""
    streams = [page_content(items) for items in pages]
    kids = b" ".join(b"%d 0 R" % (6 + 2 * i) for i in range(len(streams)))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(streams)),
        3: _FONTS % b"Helvetica",
        4: _FONTS % b"Helvetica-Bold",
    }
    for i, stream in enumerate(streams):
        objects[5 + 2 * i] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        objects[6 + 2 * i] = _PAGE % (5 + 2 * i)
    return assemble_pdf(objects, b"/Root 1 0 R")


def parse(tmp_path, pages):
    path = tmp_path / "lease.pdf"
    path.write_bytes(legal_pdf(pages))
    doc = parse_file(path)
    assert_valid_document(doc)
    return doc


def headings(doc) -> list[tuple[str, int, tuple[str, ...], int]]:
    return [(doc.block_text(b), b.level, b.heading_path, b.page) for b in doc.blocks if b.kind == "heading"]


CLAUSE = "4.2 The Tenant may terminate this lease at any time by giving the Landlord three\nmonths' notice in writing."
LEASE = [
    [
        ("title", "Lease Agreement"),
        ("p", "This lease is made between the Landlord and the Tenant named below.\nIt covers the flat."),
        ("h1", "Article 4"),
        ("bold", "4.1 Term"),
        ("p", "The lease runs for two years from the first of May."),
        ("bold", "4.2 Early Termination"),
        ("p", CLAUSE),
    ],
    [
        ("h1", "Article 5"),
        ("p", "The rent is due on the first day of each month."),
        ("note", "1 Footnote text set small at the foot of the page"),
    ],
]


def test_headings_by_size_and_weight_nest_by_size(tmp_path):
    doc = parse(tmp_path, LEASE)
    assert headings(doc) == [
        ("Lease Agreement", 1, ("Lease Agreement",), 1),
        ("Article 4", 2, ("Lease Agreement", "Article 4"), 1),
        ("4.1 Term", 3, ("Lease Agreement", "Article 4", "4.1 Term"), 1),
        ("4.2 Early Termination", 3, ("Lease Agreement", "Article 4", "4.2 Early Termination"), 1),
        ("Article 5", 2, ("Lease Agreement", "Article 5"), 2),
    ]
    paragraphs = [
        (doc.block_text(b), b.heading_path[-1], b.page) for b in doc.blocks if b.kind == "paragraph"
    ]
    assert paragraphs == [
        (LEASE[0][1][1], "Lease Agreement", 1),
        ("The lease runs for two years from the first of May.", "4.1 Term", 1),
        (CLAUSE, "4.2 Early Termination", 1),
        ("The rent is due on the first day of each month.", "Article 5", 2),
        ("1 Footnote text set small at the foot of the page", "Article 5", 2),
    ]


def test_numbered_headings_in_the_body_font(tmp_path):
    page = [
        ("p", "ARTICLE III"),
        (
            "p",
            "The parties agree on the terms that follow in this article,\nwhich bind them and their heirs for the whole\nterm of the lease and of any renewal of it.",
        ),
        ("p", "Section 4"),
        ("p", "4.2 Early Termination"),
        ("p", CLAUSE),
        (
            "p",
            "4.3 The deposit is returned within thirty days of the end\nof the lease, less the cost of repairs.",
        ),
        ("p", "Article 3 applies to all tenants of the building who\nrent a flat."),
        ("p", "Items of the inventory:\n1. Kitchen table\n2. Four chairs\n3. Wardrobe"),
    ]
    doc = parse(tmp_path, [page])
    assert [(text, level) for text, level, _, _ in headings(doc)] == [
        ("ARTICLE III", 1),
        ("Section 4", 2),
        ("4.2 Early Termination", 3),
    ]
    texts = [doc.block_text(b) for b in doc.blocks if b.kind == "paragraph"]
    assert CLAUSE in texts and any(t.startswith("4.3 The deposit") for t in texts)
    assert any(t.startswith("Article 3 applies") for t in texts)
    assert "1. Kitchen table" in texts and "3. Wardrobe" in texts


def test_heading_offsets_and_pages_point_at_their_text(tmp_path):
    doc = parse(tmp_path, LEASE)
    for block in doc.blocks:
        text = doc.block_text(block)
        assert text == text.strip() and text
    starts = {doc.block_text(b): (b.start, b.page) for b in doc.blocks}
    assert doc.text[starts["Article 5"][0] :].startswith("Article 5\n\nThe rent is due")
    assert starts["Article 5"][1] == 2 and starts["Article 4"][1] == 1


def test_a_heading_starting_a_page_starts_a_chunk_of_that_page(tmp_path):
    body = "The {} clause binds both parties for the whole term of the lease."
    pages = [
        [("h1", f"Article {n}"), ("p", body.format(word)), ("p", "Notices go to the address on page one.")]
        for n, word in enumerate(["first", "second", "third", "fourth"], 1)
    ]
    doc = parse(tmp_path, pages)
    chunks = chunk_document(doc)
    assert [(c.page, c.page_end, c.heading) for c in chunks] == [(n, n, f"Article {n}") for n in range(1, 5)]
    assert all(c.text.startswith(f"Article {c.page}\n\n") for c in chunks)


def test_a_bold_running_header_is_not_a_heading(tmp_path):
    pages = [
        [("bold", "Confidential draft"), ("p", f"Page {n} of the lease text goes here.")] for n in range(1, 5)
    ]
    doc = parse(tmp_path, pages)
    assert headings(doc) == []


def test_a_bold_document_has_no_bold_headings(tmp_path):
    pages = [[("bold", "Short bold line"), ("bold", "Another bold paragraph of the contract text.")]]
    doc = parse(tmp_path, pages)
    assert headings(doc) == []


def test_a_wrapped_heading_is_one_heading_and_sentence_case_titles_count(tmp_path):
    page = [
        ("title", "Lease of the Flat at\nMain Street 5, Springfield"),
        ("p", "This lease is made between the Landlord and the Tenant named below,\nfor the flat."),
        ("p", "7.1 Early termination"),
        (
            "p",
            "Either party may end the lease with three months' notice\ngiven in writing to the other party.",
        ),
    ]
    doc = parse(tmp_path, [page])
    assert [(text, level) for text, level, _, _ in headings(doc)] == [
        ("Lease of the Flat at Main Street 5, Springfield", 1),
        ("7.1 Early termination", 2),
    ]


def test_a_line_running_on_in_lower_case_is_not_a_heading(tmp_path):
    page = [
        ("h1", "Article 2"),
        ("p", "Section 5\nof the Act applies to this lease as if it were set out here."),
    ]
    doc = parse(tmp_path, [page])
    assert [text for text, *_ in headings(doc)] == ["Article 2"]


def test_sizes_set_by_the_text_matrix_count(tmp_path):
    # macOS writes every font at 1 pt and scales it with the text matrix.
    lines = ["The rent is due on the first day of each month and is paid", "by bank transfer to the account"]
    lines += ["of the Landlord named on page one.", "Late payment costs interest."]
    body = b" ".join(
        b"12 0 0 12 72 %d Tm (%s) Tj" % (700 - 14 * n, line.encode()) for n, line in enumerate(lines)
    )
    stream = b"BT /F1 1 Tf 20 0 0 20 72 740 Tm (Payment of the Rent) Tj " + body + b" ET"
    path = tmp_path / "mac.pdf"
    path.write_bytes(pdf_bytes(contents=[stream]))
    doc = parse_file(path)
    assert [(b.kind, doc.block_text(b)) for b in doc.blocks] == [
        ("heading", "Payment of the Rent"),
        ("paragraph", "\n".join(lines)),
    ]


def test_body_size_numbered_lines_are_headings_only_when_they_read_as_one():
    from assistant.knowledge.parsers.pdf_layout import Body, Line, _style

    body = Body(10.0, False)

    def heading(text: str) -> bool:
        return _style(Line(text, 0, 0, 10.0, False), body) is not None

    assert not any(heading(t) for t in ("221 Baker Street", "1. Acme Corporation", "100 EUR"))
    # A word that starts with a numbering word is not one with a letter for its number ("Part y").
    assert not any(heading(t) for t in ("Party", "Parties", "Titles", "Annexe", "Books"))
    assert all(heading(t) for t in ("Part A", "PART II", "§5 Miete", "Schedule B – Fees", "Annexe A"))
    assert all(heading(t) for t in ("1. DEFINITIONS", "4.2 Early Termination", "Article 3", "Section 4 Rent"))


def test_a_clause_opening_with_its_number_and_title_is_headed_by_them(tmp_path):
    page = [
        ("h1", "Lease Agreement"),
        ("p", "Article 5 Rent. The Tenant pays 1,250 euros a month on the first\nworking day of each month."),
        ("p", "Article 6 Security Deposit. The Tenant shall pay a deposit of two\nmonths' rent before moving in."),
        ("p", "Section 7. The Landlord returns the deposit within thirty days of\nthe end of the lease."),
        ("p", "1. Open the file. Then read the clause that applies to you and\nsign the last page."),
        ("p", "221 Baker Street. The flat is on the first floor of the building\nand has two rooms."),
    ]
    doc = parse(tmp_path, [page])
    assert [(text, path) for text, _, path, _ in headings(doc)] == [
        ("Lease Agreement", ("Lease Agreement",)),
        ("Article 5 Rent", ("Lease Agreement", "Article 5 Rent")),
        ("Article 6 Security Deposit", ("Lease Agreement", "Article 6 Security Deposit")),
        ("Section 7", ("Lease Agreement", "Article 6 Security Deposit", "Section 7")),  # ranked as numbered
    ]
    paragraphs = {doc.block_text(b): b.heading_path for b in doc.blocks if b.kind == "paragraph"}
    deposit = "The Tenant shall pay a deposit of two\nmonths' rent before moving in."
    assert paragraphs[deposit] == ("Lease Agreement", "Article 6 Security Deposit")
    # A numbered step and an address stay whole, under the clause before them.
    assert paragraphs["1. Open the file. Then read the clause that applies to you and\nsign the last page."][-1] == "Section 7"
    assert any(t.startswith("221 Baker Street. The flat") for t in paragraphs)
    chunks = chunk_document(doc)
    held = next(c for c in chunks if "deposit of two" in c.text)
    assert held.heading == "Lease Agreement > Article 6 Security Deposit" and held.page == 1


def test_list_items_are_not_run_in_headings_and_run_in_ones_rank_below_headings_on_their_own_line(tmp_path):
    page = [
        ("bold", "Parties"),
        ("p", "1. Landlord: John Smith, 5 Main Street, Springfield, who lets\nthe flat to the tenant."),
        ("p", "2. Tenant: Jane Doe, who rents the flat from the first of May\nthis year onwards."),
        ("bold", "Payment"),
        ("p", "Article 4 Rent. The Tenant pays 1,250 euros a month on the first\nworking day of the month."),
        ("bold", "Repairs"),
        ("p", "The Landlord repairs the roof and the heating whenever they fail\nto work as they should."),
    ]
    doc = parse(tmp_path, [page])
    assert [(text, path) for text, _, path, _ in headings(doc)] == [
        ("Parties", ("Parties",)),
        ("Payment", ("Payment",)),
        ("Article 4 Rent", ("Payment", "Article 4 Rent")),
        ("Repairs", ("Repairs",)),
    ]
    paragraphs = {doc.block_text(b).split("\n")[0]: b.heading_path for b in doc.blocks if b.kind == "paragraph"}
    assert paragraphs["2. Tenant: Jane Doe, who rents the flat from the first of May"] == ("Parties",)
