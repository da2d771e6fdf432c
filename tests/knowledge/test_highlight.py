"""Question terms, their spans in a passage, and finding a passage again (no Qt)."""

from __future__ import annotations

from assistant.knowledge.highlight import question_terms, term_spans
from assistant.knowledge.indexer import chunk_id, file_hash
from assistant.knowledge.passages import (
    CHANGED,
    CHANGED_NOT_FOUND,
    find_passage,
    indexed_hash,
    passage_on_pages,
    reopen,
)


def marked(text: str, question: str) -> list[str]:
    return [text[a:b] for a, b in term_spans(text, question_terms(question))]


def test_question_terms_drop_stopwords_and_repeats():
    assert question_terms("What is the monthly RENT, and when is the rent due?") == ["monthly", "rent", "due"]
    assert question_terms("Is the deposit 1,500 euros?") == ["deposit", "1,500", "euros"]
    assert question_terms("How much is the security deposit?") == ["security", "deposit"]
    assert question_terms("What is it?") == []


def test_terms_match_whole_words_case_insensitively_with_common_endings():
    text = "Rent, rents and RENTAL income; the parent and current torrent are not rent-related? Renting is."
    assert marked(text, "renting") == ["Rent", "rents", "RENTAL", "rent", "Renting"]
    # Numbers match exactly, with their separators.
    assert marked("Deposit: 1,500 euros (not 11,500 or 1,5000).", "deposit of 1,500?") == ["Deposit", "1,500"]
    assert marked("Notice periods and a noticed notice.", "notices") == ["Notice", "noticed", "notice"]
    assert term_spans("nothing here", []) == []


def test_find_passage_ignores_spacing_punctuation_and_case():
    page = "Money matters\r\nThe security deposit is 1,500 euros. It is\r\nreturned within thirty days."
    start, end = find_passage(page, "the security deposit is 1,500 euros. It is returned")
    assert page[start:end] == "The security deposit is 1,500 euros. It is\r\nreturned"
    assert find_passage(page, "a passage that is not there") is None
    assert find_passage(page, "...") is None


def test_passage_across_pages_and_after_an_unrelated_page():
    pages = ["Cover page, nothing to see.", "Intro.\r\nThe deposit is 1,500 euros and it is", "returned in"
             " thirty days.\r\nHouse rules follow."]
    spans = passage_on_pages(pages, "The deposit is 1,500 euros and it is returned in thirty days.")
    assert [(i, pages[i][a:b]) for i, a, b in spans] == [
        (1, "The deposit is 1,500 euros and it is"), (2, "returned in thirty days")]
    assert passage_on_pages(pages, "Not in this document at all, anywhere.") == []


def test_in_a_changed_file_only_the_first_words_left_of_a_passage_are_not_the_passage():
    passage = "The deposit is 1,500 euros and it is returned in thirty days after the keys are handed back."
    pages = ["Cover.", "The deposit is 1,500 euros. Damage is deducted from it at cost."]  # rewritten since
    assert [(i, pages[i][a:b]) for i, a, b in passage_on_pages(pages, passage)] == [(1, "The deposit is 1,500 euros")]
    assert passage_on_pages(pages, passage, min_share=0.5) == []
    kept = ["Cover.", "The deposit is 1,500 euros and it is returned in thirty days; damage is deducted."]
    assert [i for i, _, _ in passage_on_pages(kept, passage, min_share=0.5)] == [1]  # most of it is still there


def test_reopen_a_text_file_finds_the_recorded_span_or_says_what_happened(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Intro line.\n\nThe rent is 1,250 euros.\n", encoding="utf-8")
    text = "The rent is 1,250 euros."
    from assistant.knowledge.parsers import parse_file

    doc = parse_file(path)
    start = doc.text.index(text)
    row = {"path": str(path), "start": start, "end": start + len(text), "text": text,
           "chunk_id": chunk_id(file_hash(path), 0)}
    assert indexed_hash(row["chunk_id"]) == file_hash(path)[:32]

    same = reopen(row)
    assert (same.problem, same.changed, same.note) == (None, False, None)
    assert same.text[same.start:same.end] == text

    path.write_text("A new first paragraph.\n\nIntro line.\n\nThe rent is 1,250 euros.\n", encoding="utf-8")
    moved = reopen(row)
    assert moved.changed and moved.note == CHANGED
    assert moved.text[moved.start:moved.end] == text and moved.start > start

    path.write_text("Everything was rewritten.\n", encoding="utf-8")
    rewritten = reopen(row)
    assert rewritten.changed and rewritten.start is None and rewritten.note == CHANGED_NOT_FOUND

    path.unlink()
    gone = reopen(row)
    assert gone.problem and str(path) in gone.problem and "deleted" in gone.problem
