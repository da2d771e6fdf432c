"""One question over the user's documents to one cited answer.

retrieve (hybrid) -> choose the sources that fit the prompt -> stream the
answer -> record which sources went in, which the answer cited, whether it
abstained and why, and every timing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.chat import Finished, Started, history_for_model, stream_answer, title_for
from assistant.config import GenerationSettings, RetrievalSettings
from assistant.core import Core
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.chunker import count_tokens
from assistant.knowledge.retriever import SearchResult
from assistant.llm.protocol import Token

NOT_FOUND = "I could not find this in your documents."
CITATION_RE = re.compile(r"\[(\d{1,2})\]")
ABSTAIN_RE = re.compile(
    r"could not find|couldn't find|can ?not find|cannot be found|not (?:mentioned|stated|specified|provided|"
    r"given|found|contain)|no information|does not (?:say|mention|state|specify|contain|provide)|"
    r"doesn't (?:say|mention|state|specify|contain)|unable to (?:find|answer|determine)|no mention",
    re.IGNORECASE)

EXAMPLE = "The rent is 1,250 euros [2]."
SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources the user gives you. "
    "Reply with one short sentence that copies the exact words of the source that answer the question, "
    "then the number of that source in brackets, like: " + EXAMPLE + " "
    "If the sources do not say, reply only: " + NOT_FOUND
)
# When the model replies with a bare "[2]" (about one answer in six with the 0.5B model), it has
# picked a source but said nothing: ask again with that source alone. The same when it echoes the
# prompt's example (2 answers in 45); without the example, though, it abstained even on easy questions.
REPAIR_PROMPT = ("Copy the one sentence from the sources that answers the question, word for word, and end it with "
                 "the source number in brackets. If the sources do not say, reply only: " + NOT_FOUND)


@dataclass
class Retrieved:
    results: list[SearchResult]
    in_prompt: list[int]  # ranks of the results placed in the prompt, in prompt order
    retrieval_ms: float


def choose_sources(results: list[SearchResult], settings: RetrievalSettings) -> list[SearchResult]:
    chosen, used = [], 0
    for r in results:
        cost = count_tokens(r.text) + 12
        if len(chosen) >= settings.prompt_sources or (chosen and used + cost > settings.source_token_budget):
            break
        chosen.append(r)
        used += cost
    return chosen


def source_label(r: SearchResult) -> str:
    where = Path(r.path).name if r.path else "?"
    if r.page:
        where += f", page {r.page}" if r.page_end in (None, r.page) else f", pages {r.page}-{r.page_end}"
    if r.heading:
        where += f", {r.heading}"
    return where


def build_question(question: str, sources: list[SearchResult]) -> str:
    blocks = [f"[{i}] ({source_label(r)})\n{r.text.strip()}" for i, r in enumerate(sources, start=1)]
    return "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


NUMBER_RE = re.compile(r"\d[\d,.]*\d")


def unsupported_numbers(question: str, sources: list[SearchResult]) -> list[str]:
    """Numbers of two or more digits (years, clause numbers, amounts) in the question that no source
    contains. A question about "1169" that no passage mentions cannot be answered from them; measured
    on squad2-dev this flags 5.7% of unanswerable questions and none of the answerable ones."""
    text = " ".join(r.text for r in sources).replace(",", "")
    wanted = dict.fromkeys(n.replace(",", "").rstrip(".") for n in NUMBER_RE.findall(question))
    return [n for n in wanted if n not in text]


def cited_numbers(answer: str, n_sources: int) -> list[int]:
    return sorted({int(m) for m in CITATION_RE.findall(answer) if 1 <= int(m) <= n_sources})


def is_abstention(answer: str) -> bool:
    return bool(ABSTAIN_RE.search(answer))


def ask_documents(core: Core, kb: KnowledgeBase, question: str, collections: list[str] | None,
                  conversation_id: int | None = None, settings: GenerationSettings | None = None,
                  retrieval: RetrievalSettings | None = None) -> Iterator:
    model = core.require_model()
    settings = settings or core.settings.generation
    retrieval = retrieval or getattr(core.settings, "retrieval", None) or RetrievalSettings()
    store = core.conversations

    t0 = time.perf_counter()
    results = kb.search(question, collections, k=retrieval.k, fusion=retrieval.fusion,
                        weight=retrieval.vector_weight)
    retrieval_ms = (time.perf_counter() - t0) * 1000
    sources = choose_sources(results, retrieval)
    best_vector = max((r.scores.get("vector") or 0.0 for r in results), default=0.0)
    confident = bool(sources) and best_vector >= retrieval.min_vector_score

    if conversation_id is None or store.get(conversation_id) is None:
        conversation_id = store.create(title=title_for(question), model=model.name)
    user_id = store.add_message(conversation_id, "user", question)
    # The sources are stored from the first moment, so an interrupted answer keeps them.
    answer_id = store.add_message(conversation_id, "assistant", "", status="streaming", model=model.name,
                                  settings=settings.to_dict(), sources=_source_rows(results, sources, []))
    yield Started(conversation_id, user_id, answer_id)
    yield Retrieved(results, [r.rank for r in sources], retrieval_ms)

    details = {"question": question, "retrieval_ms": retrieval_ms, "collections": collections or [],
               "best_vector_score": best_vector, "abstained": None}
    missing = unsupported_numbers(question, sources) if confident else []
    if not confident or missing:
        details["abstained"] = "retrieval"
        details["abstain_reason"] = (
            f"The retrieved passages never mention {', '.join(missing)}." if missing else
            "No passage in the documents is close enough to the question "
            f"(best similarity {best_vector:.2f}, threshold {retrieval.min_vector_score:.2f}).")
        store.update_message(answer_id, content=NOT_FOUND, status="complete",
                             sources=_source_rows(results, sources, []), details=details, total_s=0.0)
        store.touch(conversation_id)
        yield Token(NOT_FOUND)
        yield Finished(store.message(answer_id))
        return

    history = history_for_model(core, conversation_id, upto_id=user_id)
    history[0] = {"role": "system", "content": SYSTEM_PROMPT}
    messages = history + [{"role": "user", "content": build_question(question, sources)}]

    def record(text: str, prompt: str, timings=None) -> dict:
        cited = cited_numbers(text, len(sources))
        if is_abstention(text):
            details["abstained"] = "model"
            details["abstain_reason"] = "The model said the sources do not contain the answer."
        details["prompt"] = prompt
        details["prompt_parts"] = {"system": count_tokens(SYSTEM_PROMPT),
                                   "history": sum(count_tokens(m["content"]) for m in history[1:]),
                                   "sources": count_tokens("".join(r.text for r in sources)),
                                   "question": count_tokens(question)}
        if timings is not None:  # the rest of the engine's timings are columns of the message
            details["prompt_s"] = timings.prompt_s
            details["cached_tokens"] = timings.cached_tokens
        return {"sources": _source_rows(results, sources, cited), "details": details}

    finished = yield from _passed_through(stream_answer(core, conversation_id, answer_id, messages, settings,
                                                        extra=record))
    if finished is None:
        return
    number = bare_citation(finished.message.content, len(sources))
    numbers = [number] if number else list(range(1, len(sources) + 1))
    if finished.message.status != "complete" or (number is None and not echoes_example(finished.message.content,
                                                                                         sources)):
        yield finished
        return
    yield from _repair(core, conversation_id, answer_id, question, sources, numbers, settings, details)


def _passed_through(stream: Iterator) -> Iterator:
    """Yield a stream's events except its Finished, which is returned (None if it never came)."""
    finished = None
    for event in stream:
        if isinstance(event, Finished):
            finished = event
        else:
            yield event
    return finished


def bare_citation(text: str, n_sources: int) -> int | None:
    """The source number when the answer is only citations, maybe with the source's label echoed
    ("[2]", "[1] [3].", "[2] (lease.pdf, page 4)"), else None."""
    numbers = cited_numbers(text, n_sources)
    if numbers and not re.sub(r"\([^)]*\)|[\s.,;:]+", "", CITATION_RE.sub("", text)):
        return numbers[0]
    return None


def echoes_example(text: str, sources: list[SearchResult]) -> bool:
    return EXAMPLE[:-5] in text and not any(EXAMPLE[:-5] in s.text for s in sources)


def _repair(core: Core, conversation_id: int, answer_id: int, question: str, sources: list[SearchResult],
            numbers: list[int], settings: GenerationSettings, details: dict) -> Iterator:
    """Ask again, with the sources the first reply pointed at (all of them if it pointed nowhere)."""
    store = core.conversations
    blocks = [f"[{n}] ({source_label(sources[n - 1])})\n{sources[n - 1].text.strip()}" for n in numbers]
    messages = [{"role": "system", "content": REPAIR_PROMPT},
                {"role": "user", "content": "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"}]
    first = store.message(answer_id)
    yield Token("\n")

    def record(text: str, prompt: str, timings=None) -> dict:
        details["repaired_from"] = first.content
        details["repair_prompt"] = prompt
        if is_abstention(text):
            details["abstained"] = "model"
            details["abstain_reason"] = "The model said the sources do not contain the answer."
        return {"details": details}

    finished = yield from _passed_through(stream_answer(core, conversation_id, answer_id, messages, settings,
                                                        extra=record))
    text = finished.message.content.strip()
    if text and not CITATION_RE.search(text) and not is_abstention(text):
        # Cite the source the copied words come from, as the instruction asked the model to.
        words = text.rstrip(". ").casefold()
        holding = [n for n in numbers if words and words in sources[n - 1].text.casefold()]
        if holding or len(numbers) == 1:
            text = f"{text} [{(holding or numbers)[0]}]"
    cited = set(cited_numbers(text, len(sources)))
    rows = [{**row, "cited": row.get("number") in cited} for row in store.message(answer_id).sources]
    store.update_message(answer_id, content=text, sources=rows)
    yield Finished(store.message(answer_id), prompt=finished.prompt)


def _source_rows(results: list[SearchResult], sources: list[SearchResult], cited: list[int]) -> list[dict]:
    """The JSON shape shared by the CLI, the store and the panel."""
    number = {r.chunk_id: i for i, r in enumerate(sources, start=1)}
    rows = []
    for r in results:
        n = number.get(r.chunk_id)
        rows.append({"path": r.path, "page": r.page, "page_end": r.page_end, "start": r.start, "end": r.end,
                     "line_start": r.line_start, "line_end": r.line_end, "heading": r.heading, "text": r.text,
                     "rank": r.rank, "scores": r.scores, "ranks": r.ranks, "in_prompt": n is not None, "number": n,
                     "cited": n in cited if n is not None else False, "chunk_id": r.chunk_id})
    return rows
