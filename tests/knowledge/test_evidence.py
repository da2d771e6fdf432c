"""Where the sentences shown to the model begin and end (no model, no index)."""

from __future__ import annotations

from assistant.knowledge.evidence import content_terms, labelled_rows, sentence_spans, word_overlap


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_a_line_wrapped_where_the_page_was_full_does_not_end_the_sentence():
    # As a PDF's paragraph arrives: one line break per printed line.
    text = ("4.2 The Tenant may terminate this Lease early on the fifth anniversary by giving not less than one\n"
            "hundred eighty (180) days written notice to the Landlord, and the Tenant shall pay a fee of USD\n"
            "2,000,000 to the Landlord. The Tenant shall maintain public liability insurance of not less than\n"
            "USD 5,000,000 per claim.")
    assert sentences(text) == [text[:text.index(" The Tenant shall maintain")], text[text.index("The Tenant shall"):]]


def test_headings_list_items_table_rows_and_blank_lines_still_end_sentences():
    text = ("ARTICLE 4\nTermination by the tenant is allowed\n(a) on thirty days notice;\n(b) for cause\n"
            "- with reasons given\n4.3 The Landlord may not object\n\nname | role\nAnna Smith | Partner\n"
            "## Notices\nWritten notice suffices")
    assert sentences(text) == ["ARTICLE 4", "Termination by the tenant is allowed", "(a) on thirty days notice;",
                               "(b) for cause", "- with reasons given", "4.3 The Landlord may not object",
                               "name | role", "Anna Smith | Partner", "## Notices", "Written notice suffices"]


def test_abbreviations_initials_and_clause_labels_do_not_end_a_sentence():
    text = ("Paid in settlement of Case No. 2023-CV-4411 to Mr. Kulkarni, signed by J. Smith of Acme Inc. on "
            "Monday. Section 3. Rent is due monthly. The fee is set in Section 4. The Tenant pays it.")
    assert sentences(text) == [
        "Paid in settlement of Case No. 2023-CV-4411 to Mr. Kulkarni, signed by J. Smith of Acme Inc. on Monday.",
        "Section 3. Rent is due monthly.", "The fee is set in Section 4.", "The Tenant pays it."]


def test_label_lines_everyday_words_and_closing_quotes_end_where_they_should():
    assert sentences("Name: Anna Smith\nRole: Senior Partner\nPhone: 555 1234") == [
        "Name: Anna Smith", "Role: Senior Partner", "Phone: 555 1234"]
    assert sentences("The answer is no. The tenant pays. See Art. 5 and No. 7 here.") == [
        "The answer is no.", "The tenant pays.", "See Art. 5 and No. 7 here."]
    assert sentences('He said "this is final."\nThe next line starts here and goes on.') == [
        'He said "this is final."', "The next line starts here and goes on."]


def test_a_clause_title_run_into_its_clause_stays_with_it_and_a_page_break_inside_a_sentence_does_not_end_it():
    text = ("14.1 Security Deposit. The Tenant shall deposit EUR 48,250. It is returned later.\n"
            "12.3(b) Late payment. A fee of 4.75% applies.\nArticle 6 Rent: Paid monthly.\n"
            "8.4 Confidentiality period. The obligations survive for a period of\n\n"
            "seven (7) years after termination.\n\nThe next paragraph starts here.")
    assert sentences(text) == [
        "14.1 Security Deposit. The Tenant shall deposit EUR 48,250.", "It is returned later.",
        "12.3(b) Late payment. A fee of 4.75% applies.", "Article 6 Rent: Paid monthly.",
        "8.4 Confidentiality period. The obligations survive for a period of\n\nseven (7) years after termination.",
        "The next paragraph starts here."]
    # A numbered sentence is not a title: not joined to what follows.
    for numbered in ("9.1 The parties agree that this lease was negotiated at length. The Tenant pays.",
                     "3.2 Rent is due monthly. 3.3 Late fees apply.", "1.1 The parties agree. The term is one year.",
                     "Section 5 Payment is due. Section 6 Termination requires notice."):
        assert len(sentences(numbered)) == 2, numbered
    # Short lines after a blank one are separate items, whatever their case.
    assert sentences("Requirements\n\npython 3.11 or later\n\na C compiler") == [
        "Requirements", "python 3.11 or later", "a C compiler"]


def test_table_rows_are_told_by_their_column_names_and_the_header_row_is_not_a_sentence_alone():
    text = ("Dosing\n\nDrug | Starting dose | Max dose\n\nMetoprolol | 25 mg once daily | 200 mg\n\n"
            "Apixaban | 5 mg twice daily | 5 mg twice daily\n\nAfter the table.")
    assert [s for _a, _b, s in labelled_rows(text, sentence_spans(text))] == [
        "Dosing", "Drug: Metoprolol; Starting dose: 25 mg once daily; Max dose: 200 mg",
        "Drug: Apixaban; Starting dose: 5 mg twice daily; Max dose: 5 mg twice daily", "After the table."]
    row = text.index("Apixaban")
    assert (row, text.index("\n", row)) in [(a, b) for a, b, _s in labelled_rows(text, sentence_spans(text))]
    # A chunk that starts inside a table (its header in the chunk before): rows stay as they are.
    cut = "Metoprolol | 25 mg once daily | 200 mg\nApixaban | 5 mg twice daily | 5 mg"
    assert [s for _a, _b, s in labelled_rows(cut, sentence_spans(cut))][1] == "Apixaban | 5 mg twice daily | 5 mg"
    # Rows at a chunk's top cannot be told from a header, digits or not: left as they are.
    top = "Bob | Manager\nCarol | Director"
    assert [s for _a, _b, s in labelled_rows(top, sentence_spans(top))] == ["Bob | Manager", "Carol | Director"]
    # Markdown: the row above the |---| line is the header, wherever the table starts.
    markdown = "| Name | Role |\n|---|---|\n| Alice | Engineer |\n| Bob | Manager |"
    assert [s for _a, _b, s in labelled_rows(markdown, sentence_spans(markdown))] == [
        "Name: Alice; Role: Engineer", "Name: Bob; Role: Manager"]
    # A CSV chunk starts with the file's header, digits in it or not (the parser repeats it per chunk).
    csv_chunk = "Item | Price 2026 | Currency\nDesk lamp | 49.90 | EUR\nOffice chair | 189.00 | EUR"
    assert [s for _a, _b, s in labelled_rows(csv_chunk, sentence_spans(csv_chunk), headed=True)] == [
        "Item: Desk lamp; Price 2026: 49.90; Currency: EUR", "Item: Office chair; Price 2026: 189.00; Currency: EUR"]


def test_a_clause_number_in_the_question_is_matched_whole():
    question = content_terms("What late fee applies under clause 12.3(b)?")
    assert "#12.3(b)" in question and "#12.3(b)" not in content_terms("12.3(c) The late fee may be waived.")
    assert "#12.3(b)" in content_terms("12.3(b) Late payment. A late fee of 4.75% applies.")
    flat = lambda _term: 1.0  # noqa: E731
    assert (word_overlap(question, "12.3(b) Late payment. A fee of 4.75% applies.", flat)
            > word_overlap(question, "12.3(c) The late fee may be waived.", flat))
