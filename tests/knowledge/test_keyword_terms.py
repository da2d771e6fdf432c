"""Clause numbers and amounts in a query, and the weakest keyword match, with the real index."""

from __future__ import annotations

import pytest

from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.retriever import fuse, keyword_query

FILES = {
    "lease.md": "# Lease\n\n## 4.2 Early termination\n\nThe tenant may end the lease on the fifth anniversary.\n\n"
                "## Rent\n\nThe yearly rent is 48,250 euros.\n",
    "engagement.md": "# Engagement letter\n\nFees are governed by Section 9.4 and payable in 2 weeks; clause 4 "
                     "of the schedule covers expenses.\n",
    "budget.md": "# Budget\n\nThe insurance cover is 250,000 euros a year.\n",
}


@pytest.fixture
def kb(core, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("office", folder)
    kb.index("office")
    return kb


def test_numbers_written_with_separators_are_searched_as_one_phrase():
    assert keyword_query("What does section 4.2 require?") == '"4 2" OR "section" OR "require"'
    assert keyword_query("rent of 48,250 on 12/03/2024") == '"48 250" OR "12 03 2024" OR "rent"'
    # A number inside a code or version stays with its letters, as the index holds it.
    assert keyword_query("firmware v1.2 for x86-64") == '"firmware" OR "v1" OR "2" OR "x86" OR "64"'


def test_a_clause_number_finds_its_clause_and_an_amount_only_itself(kb):
    found = kb.retriever.keyword("section 4.2")
    top = kb.db.execute("select text, heading from chunks where id = ?", [found[0][0]]).fetchone()
    assert "4.2 Early termination" in top[1] + top[0]
    # "250,000" and "Section 9.4" share single numbers with the query, not the number itself.
    hits = [kb.db.execute("select text from chunks where id = ?", [cid]).fetchone()[0]
            for cid, _ in kb.retriever.keyword("48,250")]
    assert hits and all("48,250" in text for text in hits)


def test_the_weakest_keyword_match_still_counts_in_weighted_fusion():
    fused = dict(fuse([("a", 9.0), ("b", 3.0)], [("c", 0.50), ("a", 0.40), ("d", 0.30)], fusion="weighted"))
    assert fused["b"] > 0 and fused["b"] > fused["d"]
