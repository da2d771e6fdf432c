"""What keeps hybrid search fast on large indexes, checked for its effect on results."""

from __future__ import annotations

import pytest

from assistant.knowledge import retriever as retriever_module
from assistant.knowledge.base import KnowledgeBase


@pytest.fixture
def kb(core, tmp_path):
    big, small = tmp_path / "big", tmp_path / "small"
    big.mkdir()
    small.mkdir()
    for i in range(40):
        extra = " The zebra clause covers striped animals." if i == 17 else ""
        (big / f"memo-{i:02d}.md").write_text(
            f"# Memo {i}\n\nA common usual frequent note about routine office matters number {i}.{extra}\n")
    (small / "lease.md").write_text("# Lease\n\nA common usual frequent note: the zebra crossing is outside.\n")
    kb = KnowledgeBase(core)
    kb.collections.add_source("big", big)
    kb.collections.add_source("small", small)
    kb.index("big")
    kb.index("small")
    return kb


def test_common_terms_are_dropped_only_on_large_indexes(kb, monkeypatch):
    terms = ["common", "usual", "frequent", "zebra"]
    assert kb.retriever._too_common(terms) == terms  # 41 chunks: far below the threshold
    monkeypatch.setattr(retriever_module, "PRUNE_FROM_CHUNKS", 10)
    kept = kb.retriever._too_common(terms)
    assert "zebra" in kept and len(kept) == 2  # the two rarest survive
    hits = kb.retriever.keyword("common usual frequent zebra")
    texts = [kb.db.execute("select text from chunks where id = ?", [cid]).fetchone()[0] for cid, _ in hits[:2]]
    assert all("zebra" in t for t in texts)


def test_collection_filter_keeps_only_that_collection(kb):
    # Few hits survive the filter in the wide unfiltered pass, so the exact filter is used.
    small = kb.search("office note about a zebra", ["small"], k=5)
    assert [r.path.rsplit("/", 1)[1] for r in small] == ["lease.md"]
    big = kb.search("office note about a zebra", ["big"], k=5)
    assert len(big) == 5 and all("memo-" in r.path for r in big)
    assert kb.retriever.vector("zebra", kb.collection_ids(["small"]), n=3)[0][0] == small[0].chunk_id
