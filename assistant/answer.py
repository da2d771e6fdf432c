"""One question over the user's documents to one cited answer.

retrieve (hybrid) -> choose the sources that fit the budget -> pick their
sentences that best match the question -> ask the model whether those answer
it (abstain if it doubts) -> stream the answer -> cite the sentence it used ->
record which sources went in, which the answer cited, whether it abstained and
why, and every timing.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from assistant.answer_check import checker_for
from assistant.chat import Finished, Restarted, Started, history_for_model, stream_answer, title_for
from assistant.citations import CITATION_RE, cited_numbers, drop_unknown_citations, separate_citations
from assistant.config import GenerationSettings, RetrievalSettings
from assistant.core import Core
from assistant.errors import EngineCancelled, EngineError
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.chunker import count_tokens
from assistant.knowledge.evidence import (
    Evidence,
    RememberingEncoder,
    attribute,
    best_sentence_scores,
    content_terms,
    rarity,
    word_overlap,
)
from assistant.knowledge.evidence import select as select_evidence
from assistant.knowledge.passages import KNOWN, check_file
from assistant.knowledge.retriever import SearchResult
from assistant.llm.client import EngineClient
from assistant.llm.protocol import Token
from assistant.store.source_rows import page_at

NOT_FOUND = "I could not find this in your documents."
ABSTAIN_RE = re.compile(
    r"could not find|couldn't find|can ?not find|cannot be found|not (?:mentioned|stated|specified|provided|"
    r"given|found|contain)|no information|does not (?:say|mention|state|specify|contain|provide)|"
    r"doesn't (?:say|mention|state|specify|contain)|unable to (?:find|answer|determine)|no mention",
    re.IGNORECASE)

# Measured on squad2-dev with the 0.5B model (see knowledge/evidence.py): the best sentences, each
# with its source's number, under a plain instruction that comes before them. A system prompt
# that also prescribed a reply for "not in the text" and showed an example got a bare "[2]" to
# one question in six, echoes of the example, and still almost no abstentions. So the model is
# only asked to answer and cite; whether the text answers at all is a separate yes/no question,
# and an answer that cites nothing cites the shown sentence its words come from.
SYSTEM_PROMPT = "You are a helpful assistant."
ANSWER_PROMPT = ("Read the numbered sources and answer the question with a short sentence. Cite the source you "
                 "used, like [1].\n\nSources:\n{text}\n\nQuestion: {question}\nAnswer:")
CHECK_PROMPT = "Text:\n{text}\n\nQuestion: {question}\n\nDoes the text answer this question? Answer yes or no."
# The small model sometimes answers by restating the question ("X is an example of what."). Told so in
# a second turn, it names the words that answer: on squad2-dev, 11 of the 17 answerable questions so
# answered were then right (3 before; the first wording tried), and accuracy went from 0.652 to 0.679.
RESTATED_PROMPT = ("That only repeats the question. Which words of the sources answer it? Reply with those words "
                   "and cite the source, like [1].")


@dataclass
class Retrieved:
    results: list[SearchResult]
    in_prompt: list[int]  # ranks of the results placed in the prompt, in prompt order
    retrieval_ms: float


WORDS_FOUND = 0.8  # this share of the question's words in one passage is evidence enough to ask the model


def choose_sources(results: list[SearchResult], settings: RetrievalSettings) -> list[SearchResult]:
    chosen, used = [], 0
    for r in results:
        cost = count_tokens(r.text) + 12
        if len(chosen) >= settings.prompt_sources or (chosen and used + cost > settings.source_token_budget):
            break
        chosen.append(r)
        used += cost
    return chosen


def evidence_text(evidence: list[Evidence]) -> str:
    return "\n".join(e.text for e in evidence)


def numbered_text(evidence: list[Evidence]) -> str:
    return "\n".join(f"[{e.source + 1}] {e.text}" for e in evidence)


def build_question(question: str, evidence: list[Evidence]) -> str:
    return ANSWER_PROMPT.format(text=numbered_text(evidence), question=question)


def check_messages(question: str, evidence: list[Evidence]) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": CHECK_PROMPT.format(text=evidence_text(evidence), question=question)}]


def answer_belief(engine: EngineClient, question: str, evidence: list[Evidence],
                  stop: threading.Event | None = None) -> float:
    """The model's probability that the shown sentences answer the question: P(yes) / (P(yes) + P(no))
    for the first word of its reply to CHECK_PROMPT."""
    logprobs = engine.first_token_logprobs(check_messages(question, evidence), ["Yes", "yes", "No", "no"], stop)
    p_yes, p_no = (sum(math.exp(x) for x in logprobs[:2]), sum(math.exp(x) for x in logprobs[2:]))
    return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5


def word_weight(kb: KnowledgeBase):
    return rarity(kb.retriever.document_frequency, kb.retriever.chunk_count())


@dataclass
class SentenceMatcher:
    """What matching one question's sentences needs, with each sentence embedded once."""

    question: str
    encode: RememberingEncoder
    query_vector: object
    weight: Callable[[str], float]

    @classmethod
    def of(cls, kb: KnowledgeBase, question: str) -> SentenceMatcher:
        embedder = kb.embedder()
        return cls(question, RememberingEncoder(embedder.encode), embedder.encode_query(question), word_weight(kb))


# A passage's fused score (as a share of the best one's) counts this much next to its best sentence's
# match: enough to order passages whose best sentences match about equally. Chosen on every 2nd
# answerable squad2-dev question (recall@3 unchanged there, @1 +1), then checked on the others
# (recall@3 +2 questions); larger shares traded questions between the halves.
FUSED_SHARE = 0.05


def rerank_by_sentence(results: list[SearchResult], matcher: SentenceMatcher) -> list[SearchResult]:
    """The retrieved passages ordered by their best sentence's match to the question, plus a little of
    their fused score (ties keep the fused order), each with that match as its `sentence` score, the
    sum it is ordered by as its `rerank` score, and its new rank. A passage's vector averages all its
    sentences, so one that answers in a single sentence among others on other things ranks low; on
    squad2-dev this lifts the top 3's recall from 0.969 to 0.986."""
    best = best_sentence_scores(matcher.question, [r.text for r in results], matcher.encode, matcher.query_vector,
                                matcher.weight, headed=[headed_table(r) for r in results])
    top = max((r.scores.get("fused") or 0.0 for r in results), default=0.0) or 1.0
    for r, score in zip(results, best, strict=True):
        r.scores["sentence"] = score
        r.scores["rerank"] = score + FUSED_SHARE * (r.scores.get("fused") or 0.0) / top
    ordered = sorted(results, key=lambda r: (-r.scores["rerank"], r.rank))
    for rank, r in enumerate(ordered, start=1):
        r.rank = rank
    return ordered


def gather_evidence(kb: KnowledgeBase, question: str, sources: list[SearchResult],
                    retrieval: RetrievalSettings, matcher: SentenceMatcher | None = None) -> list[Evidence]:
    m = matcher or SentenceMatcher.of(kb, question)
    return select_evidence(question, [r.text for r in sources], m.encode, m.query_vector, m.weight,
                           n=max(1, retrieval.evidence_sentences), margin=retrieval.evidence_margin,
                           headed=[headed_table(r) for r in sources])


def headed_table(result: SearchResult) -> bool:
    """Whether the passage starts with its table's header: a CSV or TSV chunk repeats the file's."""
    return (result.path or "").lower().endswith((".csv", ".tsv"))


NUMBER_RE = re.compile(r"\d[\d,.]*\d")


def unsupported_numbers(question: str, sources: list[SearchResult]) -> list[str]:
    """Numbers of two or more digits (years, clause numbers, amounts) in the question that no source
    contains. A question about "1169" that no passage mentions cannot be answered from them; measured
    on squad2-dev this flags 5.7% of unanswerable questions and none of the answerable ones."""
    text = " ".join(r.text for r in sources).replace(",", "")
    wanted = dict.fromkeys(n.replace(",", "").rstrip(".") for n in NUMBER_RE.findall(question))
    return [n for n in wanted if n not in text]


def is_abstention(answer: str) -> bool:
    return bool(ABSTAIN_RE.search(answer))


def only_restates(question: str, answer: str) -> bool:
    """The answer holds no content word the question does not: it says nothing new."""
    return not content_terms(CITATION_RE.sub(" ", answer)) - content_terms(question)


def ask_documents(core: Core, kb: KnowledgeBase, question: str, collections: list[str] | None,
                  conversation_id: int | None = None, settings: GenerationSettings | None = None,
                  retrieval: RetrievalSettings | None = None, stop: threading.Event | None = None,
                  replaces: int | None = None) -> Iterator:
    """Answer `question` from `collections`. Without `settings` the chat's are used at the retrieval
    settings' answer temperature; given ones (a Regenerate's, `ask --temperature`) keep theirs.
    `stop`, once set, ends the answer as 'stopped' at the next step: searching and the check are
    not cut short by the engine's cancel, which only reaches a request in flight."""
    model = core.require_model()
    stopped = stop.is_set if stop is not None else lambda: False
    retrieval = retrieval or getattr(core.settings, "retrieval", None) or RetrievalSettings()
    settings = replace(settings or replace(core.settings.generation, temperature=retrieval.answer_temperature),
                       repeat_penalty=retrieval.answer_repeat_penalty)
    store = core.conversations

    t0 = time.perf_counter()
    results = kb.search(question, collections, k=retrieval.k, fusion=retrieval.fusion,
                        weight=retrieval.vector_weight)
    matcher = SentenceMatcher.of(kb, question)
    if retrieval.rerank_by_sentence and results:
        results = rerank_by_sentence(results, matcher)
    retrieval_ms = (time.perf_counter() - t0) * 1000
    KNOWN.learn_indexed(kb.db, {r.path for r in results})  # so checking the sources' files reads none left alone
    sources = choose_sources(results, retrieval)
    best_vector = max((r.scores.get("vector") or 0.0 for r in results), default=0.0)
    # The question's (rarity-weighted) words found together in one passage: names and terms the
    # embedder knows little of ("Kessler Treuhand AG") can leave the similarity low on the very
    # passage that answers, in a large collection most of all.
    terms = content_terms(question)
    words_found = max((word_overlap(terms, r.text, matcher.weight) for r in sources), default=0.0)
    confident = bool(sources) and (best_vector >= retrieval.min_vector_score or words_found >= WORDS_FOUND)
    missing = unsupported_numbers(question, sources) if confident else []
    evidence: list[Evidence] = []
    t1 = time.perf_counter()
    if confident and not missing:
        evidence = gather_evidence(kb, question, sources, retrieval, matcher)
        # Number only the sources that lend a sentence, in retrieval order, as the prompt shows them.
        lending = sorted({e.source for e in evidence})
        for e in evidence:
            e.source = lending.index(e.source)
        sources = [sources[i] for i in lending]
    evidence_ms = (time.perf_counter() - t1) * 1000

    if conversation_id is None or store.get(conversation_id) is None:
        conversation_id = store.create(title=title_for(question), model=model.name)
    user_id = store.add_question(conversation_id, question, replaces)  # as chat.ask: an edit's old question goes now
    # The sources are stored from the first moment, so an interrupted answer keeps them.
    answer_id = store.add_message(conversation_id, "assistant", "", status="streaming", model=model.name,
                                  settings=settings.to_dict(), sources=_source_rows(results, sources, [], evidence))
    yield Started(conversation_id, user_id, answer_id)
    yield Retrieved(results, [r.rank for r in sources], retrieval_ms)

    details = {"question": question, "retrieval_ms": retrieval_ms, "collections": collections or [],
               "best_vector_score": best_vector, "words_found": words_found, "abstained": None}

    def abstain(kind: str, reason: str, shown: list[SearchResult]) -> Iterator:
        """`shown`: the sources a model read (the check's); none when no model was asked."""
        details["abstained"], details["abstain_reason"] = kind, reason
        store.update_message(answer_id, content=NOT_FOUND, status="complete",
                             sources=_source_rows(results, shown, [], evidence if shown else []), details=details,
                             total_s=0.0)
        store.touch(conversation_id)
        yield Token(NOT_FOUND)
        yield Finished(store.message(answer_id))

    def ended(status: str, error: str | None = None) -> Iterator:
        """Stopped, or failed, before the answer began: no model has read the sources in a prompt."""
        store.update_message(answer_id, content="", status=status, error=error, details=details,
                             sources=_source_rows(results, [], [], []))
        store.touch(conversation_id)
        yield Finished(store.message(answer_id))

    if stopped():  # pressed while the documents were searched
        yield from ended("stopped")
        return
    if not confident or missing:
        yield from abstain("retrieval", f"The retrieved passages never mention {', '.join(missing)}." if missing else
                           "No passage in the documents is close enough to the question "
                           f"(best similarity {best_vector:.2f}, threshold {retrieval.min_vector_score:.2f}; "
                           f"at most {words_found:.0%} of its words in one passage).", [])
        return
    details["evidence"] = [e.to_detail() for e in evidence]
    details["evidence_ms"] = evidence_ms
    if not evidence:
        yield from abstain("retrieval", "The retrieved passages hold no text.", [])
        return
    if stopped():
        yield from ended("stopped")
        return
    t1 = time.perf_counter()
    checker = checker_for(core, retrieval)
    details["check_model"], details["check_threshold"] = checker.model, checker.threshold
    if checker.problem:
        details["check_error"] = checker.problem
    try:
        belief = details["answer_belief"] = answer_belief(checker.engine, question, evidence, stop)
    except EngineCancelled:  # a stop, or Ctrl-C's engine cancel: never an answer without its check
        yield from ended("stopped")
        return
    except EngineError as exc:
        belief, details["check_error"] = None, str(exc)
        if core.engine.loaded is None:  # the answering model's engine died: why, not "no model is loaded"
            yield from ended("error", str(exc))
            return
    details["check_ms"] = (time.perf_counter() - t1) * 1000
    if stopped():
        yield from ended("stopped")
        return
    if belief is not None and belief < checker.threshold:
        who = "the model" if checker.model == model.name else checker.model
        yield from abstain("model", f"Asked whether these passages answer the question, {who} said no "
                           f"(yes {belief:.2f}, threshold {checker.threshold:.2f}).", sources)
        return

    # Up to this question, which comes last with its sources below: the turns before it end with the
    # last answer, which a history up to the question itself would drop as one being regenerated.
    history = history_for_model(core, conversation_id, upto_id=answer_id)
    history[0] = {"role": "system", "content": SYSTEM_PROMPT}
    if history[-1]["role"] == "user":  # this question (in place of any one left without an answer)
        history.pop()
    messages = history + [{"role": "user", "content": build_question(question, evidence)}]

    def record(text: str, prompt: str, timings=None) -> dict:
        if is_abstention(text):
            details["abstained"] = "model"
            details["abstain_reason"] = "The model said the passages do not contain the answer."
        details["prompt"] = prompt
        details["prompt_parts"] = {"system": count_tokens(SYSTEM_PROMPT),
                                   "history": sum(count_tokens(m["content"]) for m in history[1:]),
                                   "sources": count_tokens(numbered_text(evidence)),
                                   "question": count_tokens(question)}
        if timings is not None:  # the rest of the engine's timings are columns of the message
            details["prompt_s"] = timings.prompt_s
            details["cached_tokens"] = timings.cached_tokens
        # A stopped answer keeps the markers it wrote, so its panel badges those sources as cited, each
        # on the page of its sentence the words so far come from; a complete one's are settled below,
        # once unknown markers are dropped.
        marked = cited_numbers(text, len(sources))
        return {"sources": _source_rows(results, sources, marked, evidence,
                                        _drawn(text, marked, evidence, matcher.weight)),
                "details": details}

    finished = yield from _passed_through(stream_answer(core, conversation_id, answer_id, messages, settings,
                                                        extra=record, stop=stop))
    if finished is None:
        return
    text = finished.message.content
    if finished.message.status == "complete" and not details["abstained"] and only_restates(question, text):
        # The message's timings become the second answer's; the first one's time is kept beside them.
        details["restated"], details["restated_s"] = text, finished.message.total_s
        yield Restarted("The answer only repeated the question, so the model was asked which words of the "
                        "sources answer it.")
        messages += [{"role": "assistant", "content": text}, {"role": "user", "content": RESTATED_PROMPT}]
        finished = yield from _passed_through(stream_answer(core, conversation_id, answer_id, messages, settings,
                                                            extra=record, stop=stop))
        if finished is None:
            return
        text = finished.message.content
    if finished.message.status != "complete" or details["abstained"]:
        yield finished
        return
    text = drop_unknown_citations(separate_citations(text), len(sources), evidence_text(evidence))
    cited = cited_numbers(text, len(sources))
    said = attribute(text, [e for e in evidence if not cited or e.source + 1 in cited], matcher.weight)
    if said is not None:  # the sentence the panel points at
        details["cited_sentence"] = {"number": said.source + 1, "start": said.start, "end": said.end}
    citation = f" [{said.source + 1}]" if said is not None and not cited else ""
    cited = cited or ([said.source + 1] if said else [])
    store.update_message(answer_id, content=text.rstrip() + citation, details=details,
                         sources=_source_rows(results, sources, cited, evidence,
                                              _drawn(text, cited, evidence, matcher.weight)))
    if citation:
        yield Token(citation)
    yield Finished(store.message(answer_id), prompt=finished.prompt)


def _passed_through(stream: Iterator) -> Iterator:
    """Yield a stream's events except its Finished, which is returned (None if it never came)."""
    finished = None
    for event in stream:
        if isinstance(event, Finished):
            finished = event
        else:
            yield event
    return finished


def _drawn(text: str, cited: list[int], evidence: list[Evidence], weight) -> dict[int, Evidence]:
    """By source number, each cited source's shown sentence the answer's words come from: the page its
    citation names."""
    return {n: e for n in cited
            if (e := attribute(text, [x for x in evidence if x.source == n - 1], weight)) is not None}


def _source_rows(results: list[SearchResult], sources: list[SearchResult], cited: list[int],
                 evidence: list[Evidence] = (), drawn: dict[int, Evidence] | None = None) -> list[dict]:
    """The JSON shape shared by the CLI, the store and the panel. `evidence`: the sentences shown to
    the model, as [start, end] offsets in each source's text (Evidence.source indexes `sources`).
    `drawn`: by source number, the sentence of it the answer's words come from. A cited source's
    `cited_page` is that sentence's page, so a passage over a page break is cited on one page; None
    when no sentence was matched or the passage's pages within it are not known (an older index).
    `file_state`: the file now against the bytes indexed (see passages.check_file), with the
    `file_stamp` it was checked at, so a panel reopening the answer later re-reads nothing unchanged."""
    number = {r.chunk_id: i for i, r in enumerate(sources, start=1)}
    rows = []
    for r in results:
        check = check_file(r.path, r.chunk_id)  # a file read once is known by its stamp after
        n = number.get(r.chunk_id)
        shown = [[e.start, e.end] for e in evidence if n is not None and e.source == n - 1]
        row = {"path": r.path, "page": r.page, "page_end": r.page_end, "page_breaks": r.page_breaks,
               "start": r.start, "end": r.end, "line_start": r.line_start, "line_end": r.line_end,
               "heading": r.heading, "text": r.text, "rank": r.rank, "scores": r.scores, "ranks": r.ranks,
               "in_prompt": n is not None, "number": n, "cited": n in cited if n is not None else False,
               "chunk_id": r.chunk_id, "evidence": shown, "cited_page": None,
               "file_state": check.state, "file_stamp": list(check.stamp) if check.stamp else None}
        sentence = (drawn or {}).get(n) if row["cited"] else None
        if sentence is not None and r.page is not None and (r.page_breaks or r.page_end in (None, r.page)):
            row["cited_page"] = page_at(row, sentence.start)
        rows.append(row)
    return rows
