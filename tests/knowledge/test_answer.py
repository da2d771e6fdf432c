"""Answers over documents: sources in the prompt, citations, abstention, the CLI's JSON shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.answer import NOT_FOUND, Retrieved, ask_documents, cited_numbers, is_abstention
from assistant.chat import Finished
from assistant.config import GenerationSettings
from assistant.knowledge.base import KnowledgeBase
from tests.conftest import QWEN

LEASE = """# Lease agreement

## 14. Subletting

14.2 The tenant may not sublet the premises without the landlord's written consent.

## 15. Rent

15.1 The monthly rent is 1,250 euros, payable on the first day of each month.
"""


@pytest.fixture
def office(core, tmp_path):
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "lease.md").write_text(LEASE, encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("office", folder)
    kb.index("office")
    core.load_model(QWEN)
    return kb


SETTINGS = GenerationSettings(temperature=0.0, seed=0, max_tokens=60)


def run(core, kb, question):
    events = list(ask_documents(core, kb, question, ["office"], settings=SETTINGS))
    retrieved = next(e for e in events if isinstance(e, Retrieved))
    return retrieved, next(e for e in events if isinstance(e, Finished)).message


def test_a_cited_answer_from_the_documents(core, office):
    retrieved, message = run(core, office, "How much is the monthly rent?")
    assert "1,250" in message.content or "1250" in message.content
    assert retrieved.retrieval_ms > 0 and retrieved.in_prompt
    in_prompt = [s for s in message.sources if s["in_prompt"]]
    assert in_prompt and all(s["path"].endswith("lease.md") for s in in_prompt)
    rent = next(s for s in in_prompt if "1,250" in s["text"])
    assert rent["scores"]["fused"] > 0 and {"keyword", "vector", "fused"} <= set(rent["scores"])
    assert message.details["prompt"].count("[1]") >= 1 and "Question: How much" in message.details["prompt"]
    if cited_numbers(message.content, len(in_prompt)):
        assert any(s["cited"] for s in message.sources)
    # Re-opening the conversation shows the same sources.
    again = core.conversations.messages(message.conversation_id)[-1]
    assert again.sources == message.sources


def test_no_relevant_passage_means_an_abstention_with_a_reason(core, office):
    _, message = run(core, office, "What is the boiling point of liquid nitrogen in kelvin?")
    assert message.details["abstained"] in ("retrieval", "model")
    assert is_abstention(message.content) or message.content == NOT_FOUND
    assert message.details["abstain_reason"]


def test_cli_ask_with_a_collection_fills_sources(core, office):
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", "--collection", "office",
                             "--model", QWEN, "--seed", "0", "--temperature", "0", "Can the tenant sublet?"],
                            capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["sources"], out
    source = out["sources"][0]
    assert {"path", "page", "start", "end", "text", "rank", "scores", "in_prompt", "cited"} <= set(source)
    assert set(source["scores"]) == {"keyword", "vector", "fused"}
    assert source["rank"] == 1 and source["in_prompt"] is True
    assert "14.2" in " ".join(s["text"] for s in out["sources"] if s["in_prompt"])


def test_a_document_answer_left_mid_stream_keeps_its_text_and_sources(core, office):
    from assistant.llm.protocol import Token

    settings = GenerationSettings(temperature=0.8, seed=1, max_tokens=300)
    stream = ask_documents(core, office, "Explain the lease in detail, clause by clause.", ["office"],
                           settings=settings)
    for event in stream:
        if isinstance(event, Token):
            break
    stream.close()  # the window closed, or Ctrl-C
    (conversation,) = core.conversations.list()
    answer = core.conversations.messages(conversation["id"])[-1]
    assert answer.status == "stopped" and answer.content
    assert any(s["in_prompt"] for s in answer.sources)


def test_a_number_no_source_mentions_is_grounds_to_abstain(core, office):
    from assistant.answer import unsupported_numbers

    sources = office.search("rent lease", ["office"], k=3)
    assert unsupported_numbers("Is the rent 1,250 euros under clause 15.1?", sources) == []
    assert unsupported_numbers("What changed in the rent in 1998?", sources) == ["1998"]
    _, message = run(core, office, "What was the monthly rent in 1998?")
    assert message.details["abstained"] == "retrieval"
    assert "1998" in message.details["abstain_reason"] and message.content == NOT_FOUND


def test_bare_citation_is_recognised():
    from assistant.answer import bare_citation

    assert bare_citation("[2]", 3) == 2
    assert bare_citation("[1] (lease.md, Lease agreement > 15. Rent).", 3) == 1
    assert bare_citation("The rent is 1,250 euros [1].", 3) is None
    assert bare_citation("[7]", 3) is None  # not a source of this prompt
    assert bare_citation(NOT_FOUND, 3) is None


def test_an_answer_that_is_only_a_citation_is_asked_again_with_that_source(core, office):
    """The second pass the model gets when it names a source but says nothing."""
    from assistant.answer import RetrievalSettings, _repair, choose_sources

    question = "How much is the monthly rent?"
    sources = choose_sources(office.search(question, ["office"], k=8), RetrievalSettings())
    number = next(i for i, s in enumerate(sources, start=1) if "1,250" in s.text)
    store = core.conversations
    cid = store.create(title="t", model=QWEN)
    store.add_message(cid, "user", question)
    answer_id = store.add_message(cid, "assistant", f"[{number}]", status="complete", model=QWEN)
    details = {"question": question}
    events = list(_repair(core, cid, answer_id, question, sources, [number], SETTINGS, details))
    message = next(e for e in events if isinstance(e, Finished)).message
    assert "1,250" in message.content and f"[{number}]" in message.content
    assert message.details["repaired_from"] == f"[{number}]"
    assert f"[{number}] (lease.md" in message.details["repair_prompt"]
    assert store.message(answer_id).content == message.content
