"""Exporting a conversation to Markdown and JSON (no Qt, no model)."""

from __future__ import annotations

import errno
import json
import os
import stat
import time
from pathlib import Path

import pytest

from assistant.store import export
from assistant.store.conversations import Conversations
from assistant.store.db import open_database
from assistant.store.export import conversation_markdown, export_conversation, export_filename, export_target
from assistant.store.export_audit import LEGEND


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
    assert "_qwen · 21.5 tokens/s_" in text
    assert "- [1] lease.pdf, page 2 (cited)" in text
    assert "- [2] notes.md, lines 4-9 (Money)" in text
    # Retrieved but never given to the model: listed apart, unnumbered, so the reader sees what was passed over.
    assert text.index("Retrieved but not shown to the model:\n\n- other.md\n  - not in the prompt · rank 3\n") \
        > text.index("- [2] notes.md")
    assert "_smol · stopped_" in text
    assert text.endswith("\n") and not text.endswith("\n\n")

    target = export_conversation(store, cid, tmp_path / "out.md")
    assert target.read_text(encoding="utf-8") == text
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]  # no temporary file left


def test_markdown_names_models_as_the_app_does_and_an_unknown_one_by_its_id(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Names")
    for model in ("qwen2.5-0.5b-instruct-q4_k_m", "since-deleted"):
        store.add_message(cid, "user", "Hello?")
        store.add_message(cid, "assistant", "Hello.", model=model, tokens_per_s=30.0)
    names = {"qwen2.5-0.5b-instruct-q4_k_m": "Qwen2.5 0.5B Instruct (Q4_K_M)"}
    text = conversation_markdown(store, cid, names)
    assert "_Qwen2.5 0.5B Instruct (Q4_K_M) · 30.0 tokens/s_" in text
    assert "qwen2.5-0.5b-instruct-q4_k_m" not in text
    assert "_since-deleted · 30.0 tokens/s_" in text
    written = export_conversation(store, cid, tmp_path / "names.md", model_names=names).read_text(encoding="utf-8")
    assert written == text
    # JSON is for programs: it keeps the id, which names the model exactly.
    data = json.loads(export_conversation(store, cid, tmp_path / "names.json", model_names=names).read_text())
    assert data["messages"][1]["model"] == "qwen2.5-0.5b-instruct-q4_k_m"


def test_file_names_are_safe():
    assert export_filename('What is "clause 4/2"?') == "What is clause 4 2.md"
    assert export_filename("  ") == "conversation.md"
    assert export_filename(None) == "conversation.md"
    assert len(export_filename("x" * 300)) == 83
    assert export_filename("Lease", "json") == "Lease.json"


def test_the_format_follows_the_name_and_else_the_chosen_type():
    assert export_target("/x/a.json", "markdown") == (Path("/x/a.json"), "json")  # the name says what it holds
    assert export_target("/x/a.MD", "json") == (Path("/x/a.MD"), "markdown")
    assert export_target("/x/a", "json") == (Path("/x/a.json"), "json")
    assert export_target("/x/a", "markdown") == (Path("/x/a.md"), "markdown")
    assert export_target("/x/a.txt", "json") == (Path("/x/a.txt"), "json")
    assert export_target("/x/Budget v2.1", "json") == (Path("/x/Budget v2.1.json"), "json")  # a version, not a type


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


def audited_conversation(tmp_path) -> tuple[Conversations, int]:
    """A document answer recorded as assistant.answer records one: scores, ranks, prompt, timings."""
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Deposit")
    store.add_message(cid, "user", "What is the deposit?")
    text = "The deposit is 1,500 euros. It is paid before moving in."
    given = {"path": "/docs/lease.pdf", "page": 2, "page_end": 2, "text": text, "evidence": [[0, 27]],
             "rank": 1, "in_prompt": True, "number": 1, "cited": True, "chunk_id": "c1",
             "scores": {"keyword": 7.4312, "vector": 0.71234, "fused": 0.93127, "sentence": 0.6412,
                        "rerank": 0.6912},
             "ranks": {"keyword": 2, "vector": 1}}
    passed_over = {"path": "/docs/faq.md", "line_start": 10, "line_end": 12, "text": "Deposits are common.",
                   "evidence": [], "rank": 2, "in_prompt": False, "number": None, "cited": False, "chunk_id": "c2",
                   "scores": {"keyword": 9.05, "vector": None, "fused": 0.5, "sentence": 0.2, "rerank": 0.22},
                   "ranks": {"keyword": 1, "vector": None}}
    prompt = ("<|im_start|>user\nSources:\n[1] The deposit is 1,500 euros.\n"
              "Ignore this: ```\n## Not a heading\n``````\nQuestion: What is the deposit?<|im_end|>\n")
    store.add_message(cid, "assistant", "The deposit is 1,500 euros [1].", model="qwen", tokens_per_s=20.0,
                      ttft_s=0.4213, total_s=2.1049, prompt_tokens=812, sources=[given, passed_over],
                      details={"abstained": None, "prompt": prompt, "retrieval_ms": 45.2, "evidence_ms": 12.1,
                               "check_ms": 80.4, "cached_tokens": 600})
    return store, cid


def test_each_source_shows_its_scores_whether_it_was_given_and_cited_and_what_the_scores_mean(tmp_path):
    """The export listed a source's place and quotes, but not why it was chosen: an auditor could not
    see its keyword, vector and fused scores, nor its rank, nor whether a passage was passed over."""
    store, cid = audited_conversation(tmp_path)
    text = conversation_markdown(store, cid)
    assert ("- [1] lease.pdf, page 2 (cited)\n  > The deposit is 1,500 euros.\n"
            "  - in the prompt as [1] · cited · rank 1 · keyword 7.43 (#2) · vector 0.712 (#1) · fused 0.9313 · "
            "best sentence 0.641 · order 0.691\n") in text
    assert ("- faq.md, lines 10-12\n  - not in the prompt · rank 2 · keyword 9.05 (#1) · vector – · fused 0.5000 · "
            "best sentence 0.200 · order 0.220\n") in text
    assert "_Timings: retrieval 45 ms · sentences 12 ms · check 80 ms · first token 0.42 s · total 2.10 s · " \
           "prompt 812 tokens (600 reused)_" in text
    # What the numbers mean, said once, after the conversation.
    legend = text[text.index("## How to read the sources"):]
    assert text.count("## How to read the sources") == 1
    for term, _meaning in LEGEND:
        assert f"- **{term}**: " in legend
    assert "BM25" in legend and "cosine similarity" in legend and "no fixed scale" in legend


def test_the_prompt_is_quoted_whole_in_a_fence_its_backticks_cannot_close(tmp_path):
    store, cid = audited_conversation(tmp_path)
    prompt = store.messages(cid)[1].details["prompt"]
    text = conversation_markdown(store, cid)
    start = text.index("The prompt the model read")
    # The prompt holds a run of six backticks: the fence is seven, on lines of their own.
    assert f"\n\n```````text\n{prompt}```````\n" in text[start:]
    assert text.count("```````") == 2
    assert "## Not a heading" not in text.replace(prompt, "")  # only inside the fence


def test_a_chat_answer_without_sources_has_no_source_lists_and_no_prompt_block(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Tea")
    store.add_message(cid, "user", "Green tea?")
    store.add_message(cid, "assistant", "Use water at 80 degrees.", model="smol")
    text = conversation_markdown(store, cid)
    assert "Sources:" not in text and "Retrieved" not in text and "```" not in text
    assert "Timings" not in text and "How to read the sources" not in text
    timed = store.add_message(cid, "assistant", "Steep it for 2 minutes.", model="smol")
    store.update_message(timed, ttft_s=0.2, total_s=1.5)
    text = conversation_markdown(store, cid)
    assert "1.5" in text and "How to read the sources" not in text  # timings alone need no scores' legend


def test_json_holds_the_whole_record_and_reads_back(tmp_path):
    """Markdown was the only export: a program checking answers had to parse prose."""
    store, cid = audited_conversation(tmp_path)
    question, answer = store.messages(cid)
    target = export_conversation(store, cid, tmp_path / "deposit.json")
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["format"] == "assistant-conversation" and doc["version"] == 1
    assert doc["conversation"]["title"] == "Deposit" and doc["conversation"]["id"] == cid
    assert {"keyword", "vector", "fused", "rank", "timings"} <= set(doc["legend"])
    asked, answered = doc["messages"]
    assert asked == {"id": question.id, "role": "user", "text": "What is the deposit?", "time": question.created_at}
    assert answered["role"] == "assistant" and answered["text"] == "The deposit is 1,500 euros [1]."
    assert answered["model"] == "qwen" and answered["status"] == "complete" and answered["time"]
    assert answered["sources"] == answer.sources  # every field of every retrieved source, as stored
    assert answered["sources"][0]["scores"]["keyword"] == 7.4312
    assert answered["prompt"] == answer.details["prompt"]
    assert "prompt" not in answered["details"] and answered["details"]["check_ms"] == 80.4
    assert answered["timings"] == {"ttft_s": 0.4213, "total_s": 2.1049, "tokens_per_s": 20.0, "prompt_tokens": 812,
                                   "completion_tokens": None, "retrieval_ms": 45.2, "evidence_ms": 12.1,
                                   "check_ms": 80.4, "cached_tokens": 600}
    # The type can also be asked for whatever the name.
    assert json.loads(export_conversation(store, cid, tmp_path / "deposit.txt", "json").read_text())["messages"]
    assert export_conversation(store, cid, tmp_path / "deposit.md").read_text().startswith("# Deposit\n")
