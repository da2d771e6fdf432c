"""Where the sentences shown to the model begin and end (no model, no index)."""

from __future__ import annotations

from assistant.knowledge.evidence import sentence_spans


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
