"""Exporting a conversation to Markdown (no Qt, no model)."""

from __future__ import annotations

from assistant.store.conversations import Conversations
from assistant.store.db import open_database
from assistant.store.export import conversation_markdown, export_conversation, export_filename


def test_markdown_keeps_questions_answers_and_the_cited_sources(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Lease questions")
    store.add_message(cid, "user", "What is the deposit?")
    sources = [
        {"path": "/docs/lease.pdf", "page": 2, "page_end": 2, "in_prompt": True, "number": 1, "cited": True,
         "rank": 1},
        {"path": "/docs/notes.md", "line_start": 4, "line_end": 9, "heading": "Money", "in_prompt": True,
         "number": 2, "cited": False, "rank": 2},
        {"path": "/docs/other.md", "in_prompt": False, "number": None, "rank": 3},
    ]
    store.add_message(cid, "assistant", "The deposit is **1,500 euros** [1].\n\n```\ncode stays\n```",
                      model="qwen", tokens_per_s=21.5, sources=sources)
    store.add_message(cid, "user", "And the rent?")
    store.add_message(cid, "assistant", "The rent", status="stopped", model="smol")

    text = conversation_markdown(store, cid)
    assert text.startswith("# Lease questions\n")
    assert text.index("## You\n\nWhat is the deposit?") < text.index("The deposit is **1,500 euros** [1].")
    assert "```\ncode stays\n```" in text  # the answer's own Markdown is kept as it is
    assert "_qwen · 21.5 tok/s_" in text
    assert "- [1] lease.pdf, page 2 (cited)" in text
    assert "- [2] notes.md, lines 4-9 (Money)" in text
    assert "other.md" not in text  # retrieved but never given to the model
    assert "_smol · stopped_" in text
    assert text.endswith("\n") and not text.endswith("\n\n")

    target = export_conversation(store, cid, tmp_path / "out.md")
    assert target.read_text(encoding="utf-8") == text
    assert not list(tmp_path.glob("*.part"))


def test_file_names_are_safe():
    assert export_filename('What is "clause 4/2"?') == "What is clause 4 2.md"
    assert export_filename("  ") == "conversation.md"
    assert export_filename(None) == "conversation.md"
    assert len(export_filename("x" * 300)) == 83
