"""A passage that runs over a page break: where each page starts in it is indexed, and a citation
names the page of the sentence the answer drew on, not the passage's whole page range."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from assistant.answer import _source_rows
from assistant.cli_documents import where
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.evidence import Evidence
from assistant.store.source_rows import evidence_lines, page_at, source_place
from tests.conftest import QWEN
from tests.knowledge.corpus import pdf_bytes
from tests.knowledge.helpers import stopped_answer

FIRST = "The landlord keeps the security deposit of 2,400 euros in a separate savings account."
SECOND = "The deposit is paid back within six weeks after the keys are returned."


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 80))


def _lease(core, tmp_path) -> KnowledgeBase:
    folder = tmp_path / "lease"
    folder.mkdir()
    (folder / "lease.pdf").write_bytes(pdf_bytes([["Deposit", _wrap(FIRST)], [_wrap(SECOND), "Signatures"]]))
    kb = KnowledgeBase(core)
    kb.collections.add_source("lease", folder)
    kb.index("lease")
    return kb


def test_a_passage_over_a_page_break_cites_the_page_of_its_sentence(core, tmp_path):
    kb = _lease(core, tmp_path)
    result = next(r for r in kb.search("When is the deposit paid back?", ["lease"], k=3) if SECOND[:20] in r.text)
    assert (result.page, result.page_end) == (1, 2)
    (first_at, first_page), (break_at, break_page) = result.page_breaks
    assert (first_at, first_page, break_page) == (0, 1, 2)
    assert result.text[break_at:].startswith("The deposit is paid back")
    assert FIRST[:30] in " ".join(result.text[:break_at].split())

    first, second = result.text.index("The landlord"), result.text.index("The deposit is paid back")
    shown = [Evidence(0, first, first + 40, FIRST, 0.8), Evidence(0, second, second + len(SECOND), SECOND, 0.3)]
    row = _source_rows([result], [result], [1], shown, {1: shown[1]})[0]  # the answer drew on page 2's
    assert row["cited"] and row["cited_page"] == 2 and row["page_breaks"] == result.page_breaks
    assert source_place(row) == "page 2 (passage: pages 1–2)"
    assert where(row).endswith("lease.pdf, page 2 (passage: pages 1-2)")
    # Each sentence shown to the model is listed after its page (the panel and the export).
    assert evidence_lines(row) == [f"(page 1) {FIRST[:40].strip()}", f"(page 2) {SECOND}"]

    # No sentence matched to the answer, or an index from before pages were recorded within a passage:
    # the passage's range, not a guess.
    for unplaced in (_source_rows([result], [result], [1], shown, {})[0],
                     _source_rows([replace(result, page_breaks=[])], [result], [1], shown, {1: shown[1]})[0]):
        assert unplaced["cited"] and unplaced["cited_page"] is None and source_place(unplaced) == "pages 1–2"
    # Not cited: the range too.
    row = _source_rows([result], [result], [], shown, {1: shown[1]})[0]
    assert row["cited_page"] is None and source_place(row) == "pages 1–2"


def test_a_stopped_answer_cites_the_page_of_the_sentence_its_words_so_far_come_from(core, tmp_path):
    kb = _lease(core, tmp_path)
    core.load_model(QWEN)
    # Asked to, the small model writes the marker first, so the answer can be stopped after its first words.
    text, answer = stopped_answer(core, kb, "Start your answer with [1]. When is the deposit paid back?", "lease",
                                  lambda text: bool(re.search(r"\[\d+\]", text)) and "week" in text)
    assert re.search(r"\[\d+\]", text) and "week" in text, f"the model never wrote the cited words: {text!r}"
    assert answer.status == "stopped"
    (row,) = [s for s in answer.sources if s["cited"]]
    assert (row["page"], row["page_end"], row["cited_page"]) == (1, 2, 2), text


def test_the_page_of_an_offset():
    row = {"page": 4, "page_end": 5, "page_breaks": [[0, 3], [120, 4], [900, 5]]}
    assert [page_at(row, n) for n in (0, 119, 120, 899, 900, 5000)] == [3, 3, 4, 4, 5, 5]
    assert page_at({"page": 7, "page_breaks": []}, 50) == 7  # all on one page
    assert page_at({"page": None}, 0) is None  # a file without pages
    assert source_place({"page": 3, "page_end": 3, "cited_page": 3}) == "page 3"
    one_page = {"page": 3, "text": "Rent is due. Pay on time.", "evidence": [[0, 12]]}
    assert evidence_lines(one_page) == ["Rent is due."]  # no page before each sentence
