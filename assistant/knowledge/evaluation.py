"""`assistant eval FOLDER`: retrieval recall, answer accuracy, abstention and citation precision.

FOLDER holds docs/ (the documents) and questions.jsonl ({"question", "answers",
"answerable", ...} per line). Everything runs in a throw-away app home, so the
user's own collections and conversations are untouched.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import GenerationSettings, Paths
from assistant.core import Core
from assistant.knowledge.retriever import fuse

KS = (1, 3, 5)
MODES = {"keyword": ("keyword", "rrf"), "vector": ("vector", "rrf"), "hybrid-rrf": ("hybrid", "rrf"),
         "hybrid-weighted": ("hybrid", "weighted"), "hybrid+sentence": ("hybrid", "weighted")}
# hybrid+sentence: the weighted fusion's best (RetrievalSettings.k) re-ordered by their best sentence,
# as answers choose their sources (assistant.answer.rerank_by_sentence).


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def contains_gold(text: str, answers: list[str]) -> bool:
    hay = f" {normalise(text)} "
    return any(f" {normalise(a)} " in hay for a in answers if normalise(a))


def load_questions(folder: Path, limit: int | None) -> list[dict]:
    lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    return questions[:limit] if limit else questions


def _scratch_core(core: Core, root: Path) -> Core:
    paths = Paths(data=root / "data", config=root / "config", cache=root / "cache", logs=root / "logs").ensure()
    scratch = Core(paths, engine=core.engine)
    for model in core.registry.all():
        scratch.registry.register(model)
    scratch.settings = copy.deepcopy(core.settings)
    return scratch


def run_eval(core: Core, args) -> int:
    from assistant.knowledge.base import KnowledgeBase

    folder = Path(args.folder)
    questions = load_questions(folder, args.limit)[::max(1, getattr(args, "every", 1) or 1)]
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        scratch = _scratch_core(core, Path(tmp))
        if getattr(args, "backend", None):
            scratch.settings.embedding_backend = args.backend
        kb = KnowledgeBase(scratch)
        kb.collections.add_source("eval", folder / "docs")
        report = kb.index("eval")
        print(f"indexed {report.files} files into {report.chunks_total} chunks in {report.seconds:.1f}s",
              file=sys.stderr)
        results = {"questions": len(questions), "chunks": report.chunks_total,
                   "recall": retrieval_recall(kb, questions)}
        if not args.retrieval_only:
            scratch.load_model(args.model)
            results["model"] = scratch.model.name
            if getattr(args, "check_model", None):
                scratch.settings.retrieval.check_model = args.check_model
            results["answers"] = answer_quality(scratch, kb, questions, getattr(args, "details_path", None))
        scratch.close()
    print(format_report(results))
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(results, indent=2))
    return 0


def _answer_order(kb, question: str) -> list[str]:
    """The chunk ids in the order an answer chooses its sources from, under the app's settings."""
    from assistant.answer import SentenceMatcher, rerank_by_sentence

    retrieval = kb.core.settings.retrieval
    results = kb.search(question, None, k=retrieval.k, fusion=retrieval.fusion, weight=retrieval.vector_weight)
    return [r.chunk_id for r in rerank_by_sentence(results, SentenceMatcher.of(kb, question))]


def retrieval_recall(kb, questions: list[dict]) -> dict:
    answerable = [q for q in questions if q["answerable"]]
    hits = {mode: {k: 0 for k in KS} for mode in MODES}
    latency = []
    for q in answerable:
        vector = kb.embedder().encode_query(q["question"])
        for mode, (kind, fusion) in MODES.items():
            t0 = time.perf_counter()
            if mode == "hybrid+sentence":
                ranked = _answer_order(kb, q["question"])
            else:
                keyword = kb.retriever.keyword(q["question"]) if kind in ("hybrid", "keyword") else []
                vec = kb.retriever.vector(q["question"], vector=vector) if kind in ("hybrid", "vector") else []
                ranked = [cid for cid, _ in fuse(keyword, vec, fusion=fusion)][:max(KS)]
            if mode == "hybrid-rrf":
                latency.append((time.perf_counter() - t0) * 1000)
            texts = dict(kb.db.execute(
                f"select id, text from chunks where id in ({','.join('?' for _ in ranked)})", ranked).fetchall()
            ) if ranked else {}
            for k in KS:
                if any(contains_gold(texts.get(cid, ""), q["answers"]) for cid in ranked[:k]):
                    hits[mode][k] += 1
    n = max(len(answerable), 1)
    out = {mode: {f"@{k}": hits[mode][k] / n for k in KS} for mode in MODES}
    out["answerable"] = len(answerable)
    latency.sort()
    out["hybrid_ms_p50"] = latency[len(latency) // 2] if latency else None
    return out


def final_message(events):
    """The stored message an answer's event stream finishes with (None if it never finished)."""
    from assistant.chat import Finished

    message = None
    for event in events:  # to the end, so the answer's generator finishes its own work
        if isinstance(event, Finished):
            message = event.message
    return message


def answer_quality(core: Core, kb, questions: list[dict], details_path: str | None = None) -> dict:
    """Aggregates, and with details_path one JSON line per question (the answer, why it abstained, whether
    the gold string was in the prompt and in what was cited) to see where the answers go wrong."""
    from assistant.answer import ask_documents

    # Room for a quoted sentence: at 64 tokens one answer in twenty was cut off mid-sentence, which the
    # app (512 by default) never does, so the eval graded answers nobody would see.
    settings = GenerationSettings(temperature=0.0, seed=0, max_tokens=160, n_ctx=4096)
    retrieval = core.settings.retrieval
    unchecked = dataclasses.replace(retrieval, check_threshold=0.0)
    correct = abstained_wrongly = correct_unchecked = 0
    checked_by = collections.Counter()  # the model that did each check (the answering one if the chosen failed)
    abstain = {"model": 0, "retrieval": 0}
    cited_total = cited_good = 0
    answerable = unanswerable = 0
    started = time.perf_counter()
    with contextlib.ExitStack() as files:
        details = files.enter_context(open(details_path, "w", encoding="utf-8")) if details_path else None
        for i, q in enumerate(questions, start=1):
            message = final_message(ask_documents(core, kb, q["question"], ["eval"], settings=settings))
            recorded = message.details or {}
            reason, belief = recorded.get("abstained"), recorded.get("answer_belief")
            threshold = recorded.get("check_threshold")
            if recorded.get("check_model"):
                checked_by[recorded["check_model"]] += 1
            if q["answerable"] and reason == "model" and belief is not None and belief < threshold:
                # What the yes/no check cost: the answer it held back, asked for anyway.
                held_back = final_message(ask_documents(core, kb, q["question"], ["eval"], settings=settings,
                                                        retrieval=unchecked))
                correct_unchecked += contains_gold(held_back.content if held_back else "", q["answers"])
            if q["answerable"]:
                answerable += 1
                if contains_gold(message.content, q["answers"]):
                    correct += 1
                    correct_unchecked += 1
                if reason:
                    abstained_wrongly += 1
                for s in message.sources:
                    if s.get("cited"):
                        cited_total += 1
                        cited_good += contains_gold(s["text"], q["answers"])
            else:
                unanswerable += 1
                if reason:
                    abstain[reason] += 1
            if details:
                in_prompt = [s for s in message.sources if s.get("in_prompt")]
                details.write(json.dumps({
                    "id": q.get("id"), "question": q["question"], "answers": q["answers"], "answerable": q["answerable"],
                    "answer": message.content, "abstained": reason, "correct": contains_gold(message.content, q["answers"]),
                    "gold_in_prompt": [s["number"] for s in in_prompt if contains_gold(s["text"], q["answers"])],
                    "cited": [s["number"] for s in in_prompt if s.get("cited")],
                    "answer_belief": belief, "check_threshold": threshold}) + "\n")
            if i % 25 == 0:
                print(f"  {i}/{len(questions)} answered ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    return {
        "answerable": answerable,
        "unanswerable": unanswerable,
        "accuracy": correct / max(answerable, 1),
        "accuracy_without_check": correct_unchecked / max(answerable, 1),
        "checked_by": dict(checked_by),
        "abstention": (abstain["model"] + abstain["retrieval"]) / max(unanswerable, 1),
        "abstention_by_model": abstain["model"] / max(unanswerable, 1),
        "abstention_by_retrieval": abstain["retrieval"] / max(unanswerable, 1),
        "false_abstention": abstained_wrongly / max(answerable, 1),
        "citation_precision": cited_good / cited_total if cited_total else None,
        "seconds": time.perf_counter() - started,
    }


def format_report(results: dict) -> str:
    lines = [f"questions: {results['questions']}, chunks: {results['chunks']}", "",
             "retrieval: answer-in-context recall (answerable questions)",
             f"{'mode':<16}" + "".join(f"{'@' + str(k):>8}" for k in KS)]
    for mode in MODES:
        lines.append(f"{mode:<16}" + "".join(f"{results['recall'][mode]['@' + str(k)]:>8.3f}" for k in KS))
    if results["recall"].get("hybrid_ms_p50") is not None:
        lines.append(f"hybrid search p50: {results['recall']['hybrid_ms_p50']:.1f} ms (incl. fusion, excl. embedding)")
    a = results.get("answers")
    if a:
        others = {m: n for m, n in (a.get("checked_by") or {}).items() if m != results["model"]}
        lines += ["", f"answers with {results['model']}"
                  + (", checked by " + ", ".join(f"{m} ({n} questions)" for m, n in others.items()) + ":"
                     if others else ":"),
                  f"  accuracy (gold string in answer): {a['accuracy']:.3f} of {a['answerable']} "
                  f"(without the yes/no check: {a.get('accuracy_without_check', a['accuracy']):.3f})",
                  f"  abstention on unanswerable: {a['abstention']:.3f} of {a['unanswerable']} "
                  f"(model {a['abstention_by_model']:.3f}, retrieval {a['abstention_by_retrieval']:.3f})",
                  f"  false abstention on answerable: {a['false_abstention']:.3f}",
                  "  citation precision: " + (f"{a['citation_precision']:.3f}" if a["citation_precision"] is not None
                                              else "no citations"),
                  f"  time: {a['seconds']:.0f}s"]
    return "\n".join(lines)
