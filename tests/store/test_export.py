"""Exporting a conversation to Markdown (no Qt, no model)."""

from __future__ import annotations

import errno
import os
import stat
import time

import pytest

from assistant.store import export
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
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]  # no temporary file left


def test_file_names_are_safe():
    assert export_filename('What is "clause 4/2"?') == "What is clause 4 2.md"
    assert export_filename("  ") == "conversation.md"
    assert export_filename(None) == "conversation.md"
    assert len(export_filename("x" * 300)) == 83


@pytest.fixture
def new_york():
    """The process's local time zone is New York for the test (time.tzset reads TZ)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_an_export_says_when_in_local_time_where_each_quote_is_and_why_an_answer_was_held_back(tmp_path, new_york):
    """The export showed the store's UTC time unmarked, 'lines 3-3' for one line, no quote of what the
    model read, and for an answer held back nothing but 'I could not find this': not why, and the
    passages the check read were listed as its sources."""
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Notice")
    store.db.conn.execute("UPDATE conversations SET created_at = '2024-01-15T20:30:00.000+00:00' WHERE id = ?", [cid])
    text = "Kündigung\n\nThe notice period is three\nmonths. Rent is due monthly."
    row = {"path": "/docs/Mietvertrag §5.txt", "line_start": 3, "line_end": 3, "in_prompt": True, "number": 1,
           "cited": True, "rank": 1, "text": text, "evidence": [[text.index("The"), text.index(" Rent")]]}
    store.add_message(cid, "user", "What is the notice period?")
    store.add_message(cid, "assistant", "Three months [1].", model="qwen", sources=[row],
                      details={"abstained": None, "prompt": "…"})
    store.add_message(cid, "user", "And in 1998?")
    store.add_message(cid, "assistant", "I could not find this in your documents.", model="qwen",
                      sources=[{**row, "in_prompt": False, "number": None, "cited": False, "evidence": []}],
                      details={"abstained": "retrieval", "abstain_reason": "The retrieved passages never mention 1998."})
    store.add_message(cid, "user", "And the rent?")
    store.add_message(cid, "assistant", "I could not find this in your documents.", model="qwen",
                      sources=[{**row, "cited": False}],
                      details={"abstained": "model", "abstain_reason": "Asked whether these passages answer the "
                               "question, the model said no (yes 0.12, threshold 0.30)."})

    out = conversation_markdown(store, cid)
    assert "Started 2024-01-15 15:30." in out
    assert "- [1] Mietvertrag §5.txt, line 3 (cited)\n  > The notice period is three months.\n" in out
    assert "_No answer. The retrieved passages never mention 1998._" in out
    held = out[out.index("And the rent?"):]
    assert "_No answer: the yes/no check held it back. Asked whether these passages answer the question, the " \
           "model said no (yes 0.12, threshold 0.30)._" in held
    assert "Passages the check read:\n\n- [1] Mietvertrag §5.txt, line 3\n" in held
    assert "Sources:" not in held


def test_a_failed_write_leaves_the_earlier_file_whole_and_no_partial_file(tmp_path, monkeypatch):
    """The export wrote a '.part' file and renamed it; a write that failed (a full disk) left that
    partial file behind, and every export of one name shared the one temporary name."""
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Lease")
    store.add_message(cid, "user", "What is the deposit?")
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "lease.md"
    target.write_text("the earlier export\n", encoding="utf-8")
    target.chmod(0o640)

    def disk_full(_fd):  # where a full disk shows at the latest: the data reaching the disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export.os, "fsync", disk_full)
    with pytest.raises(OSError) as failed:
        export_conversation(store, cid, target)
    assert failed.value.errno == errno.ENOSPC
    assert target.read_text(encoding="utf-8") == "the earlier export\n"
    assert [p.name for p in folder.iterdir()] == ["lease.md"]

    monkeypatch.undo()
    export_conversation(store, cid, target)
    assert target.read_text(encoding="utf-8").startswith("# Lease\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file keeps who may read it
    assert [p.name for p in folder.iterdir()] == ["lease.md"]
