"""Time to the first answer token for a documents question, against the bare prompt processing.

App side: `ask_documents` as the window and the CLI call it (hybrid retrieval,
choosing 3 sources and their best sentences, storing the question, the yes/no
check, building the prompt, the engine child reading it), timed from the call to
the first Token. Bare side: the same two prompts (the check's and the answer's)
sent straight to the engine, timed inside the child (request received to first
token), which is prompt processing and nothing else.

Before each side the engine reads an unrelated short prompt, so neither finds
the question's prompt in its KV cache and both start from the same state.
The collection is the squad2-dev sample when it is there, else generated
Markdown; the questions are ones retrieval answers (not ones it abstains on).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from assistant.config import GenerationSettings
from assistant.core import Core
from assistant.llm.protocol import Done, Token

SQUAD = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "squad2-dev"
GOAL_FACTOR, GOAL_SLACK_S = 1.1, 0.100
_FALLBACK_QUESTIONS = ["When must the tenant pay the rent?", "How much notice must either party give?",
                       "How long does the clinic keep patient records?",
                       "What difference in the quarterly figures must be explained in a note?"]


def _collection(tmp: Path) -> tuple[Path, list[str]]:
    """(folder of documents, questions about them)."""
    if (SQUAD / "questions.jsonl").exists():
        rows = [json.loads(line) for line in (SQUAD / "questions.jsonl").read_text().splitlines() if line.strip()]
        return SQUAD / "docs", [r["question"] for r in rows if r.get("answerable")][::7]
    from assistant.bench.synthetic_docs import seed_paragraphs, write_folder

    folder = tmp / "docs"
    write_folder(folder, seed_paragraphs(None), pdfs=0, docx=0, markdown=6)
    return folder, _FALLBACK_QUESTIONS


def _flush(engine, settings: GenerationSettings) -> None:
    """An unrelated prompt, so the next one shares only the template's first tokens with the cache."""
    for _event in engine.generate([{"role": "system", "content": "Reply with one word."},
                                   {"role": "user", "content": f"Say hello ({time.monotonic_ns()})."}],
                                  GenerationSettings(**{**settings.to_dict(), "max_tokens": 1})):
        pass


def _app_side(core, kb, question: str, settings: GenerationSettings) -> dict | None:
    from assistant.answer import Retrieved, ask_documents
    from assistant.chat import Finished
    from assistant.knowledge.evidence import Evidence

    t0 = time.perf_counter()
    first, retrieved, details = None, None, {}
    for event in ask_documents(core, kb, question, ["bench"], settings=settings):
        if isinstance(event, Retrieved):
            retrieved = event
        elif isinstance(event, Token) and first is None:
            first = time.perf_counter() - t0
        elif isinstance(event, Finished):
            details = event.message.details or {}
    if "prompt" not in details or retrieved is None or first is None:
        return None  # answered without the answer prompt (abstained): nothing to compare
    evidence = [Evidence.from_detail(e) for e in details["evidence"]]
    return {"ttft_s": first, "retrieval_ms": retrieved.retrieval_ms, "evidence": evidence}


def _bare_side(engine, messages: list[dict], settings: GenerationSettings) -> tuple[float, int, int]:
    """(child-side time to first token, prompt tokens, cached tokens) for `messages`."""
    for event in engine.generate(messages, settings):
        if isinstance(event, Done):
            t = event.timings
            return t.ttft_s, t.prompt_tokens, t.cached_tokens
    raise RuntimeError("the engine did not finish")


def measure(core: Core, model: str, questions: int = 8, report=print) -> dict:
    from assistant.answer import SYSTEM_PROMPT, build_question, check_messages
    from assistant.answer_check import checker_for
    from assistant.knowledge.base import KnowledgeBase
    from assistant.knowledge.evaluation import _scratch_core

    settings = GenerationSettings(temperature=0.0, seed=1, max_tokens=4, n_ctx=4096)
    with tempfile.TemporaryDirectory(prefix="assistant-bench-doc-") as tmp:
        folder, pool = _collection(Path(tmp))
        scratch = _scratch_core(core, Path(tmp) / "home")
        try:
            kb = KnowledgeBase(scratch)
            kb.collections.add_source("bench", folder)
            indexed = kb.index("bench")
            report(f"  {indexed.chunks_total} chunks from {folder}")
            scratch.load_model(model, settings)
            kb.search("warm up the query encoder", ["bench"])
            _flush(scratch.engine, settings)
            app, bare, retrieval, tokens = [], [], [], []
            for question in pool:
                if len(app) >= questions:
                    break
                _flush(scratch.engine, settings)
                side = _app_side(scratch, kb, question, settings)
                if side is None:
                    continue
                messages = [{"role": "system", "content": SYSTEM_PROMPT},
                            {"role": "user", "content": build_question(question, side["evidence"])}]
                _flush(scratch.engine, settings)
                bare_s, prompt_tokens, cached = _bare_side(scratch.engine, messages, settings)
                # The yes/no check reads its own prompt before the answer's: model work, not the app's,
                # done by the engine that checks (a second one when the settings name a check model).
                checking = checker_for(scratch, scratch.settings.retrieval).engine
                _flush(checking, settings)
                bare_s += _bare_side(checking, check_messages(question, side["evidence"]), settings)[0]
                app.append(side["ttft_s"])
                retrieval.append(side["retrieval_ms"])
                bare.append(bare_s)
                tokens.append((prompt_tokens, cached))
        finally:
            scratch.close()
    if not app:
        raise RuntimeError("retrieval abstained on every question: nothing reached the model")
    app_s, bare_s = statistics.median(app), statistics.median(bare)
    return {"model": model, "check_model": core.settings.retrieval.check_model or model, "questions": len(app),
            "app_ttft_s": app_s, "bare_ttft_s": bare_s,
            "ratio": app_s / bare_s, "allowed_s": GOAL_FACTOR * bare_s + GOAL_SLACK_S,
            "met": app_s <= GOAL_FACTOR * bare_s + GOAL_SLACK_S, "retrieval_ms": statistics.median(retrieval),
            "prompt_tokens": statistics.median(t[0] for t in tokens),
            "cached_tokens": statistics.median(t[1] for t in tokens),
            "app_runs_s": app, "bare_runs_s": bare}
