"""Headless commands: the same core the window uses, from a terminal.

    assistant setup [--repair] [--measure]
    assistant ask "question" [--model NAME] [--conversation ID] [--json]
    assistant chat [--conversation ID] [--model NAME]
    assistant models list | catalog | download | import | delete | info | bench | recommend
    assistant conversations list | search TEXT | show ID
    assistant index | search | collections | eval  (see cli_documents)
    assistant bench [all | readme-table | engine | search | indexing]  (see cli_bench)

Errors go to stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import threading
from dataclasses import replace

from assistant.chat import Finished, Restarted, ask
from assistant.cli_bench import add_bench_commands, cmd_bench
from assistant.cli_documents import (
    DOCUMENT_COMMANDS,
    add_document_commands,
    cut_by_ctrl_c,
    query_text,
    require_indexed,
    where,
)
from assistant.cli_models import add_model_commands, cmd_models
from assistant.config import GenerationSettings
from assistant.ctrl_c import on_ctrl_c
from assistant.errors import UserFacingError
from assistant.llm.protocol import Notice, Token
from assistant.logs import setup_logging
from assistant.store.db import database_problem

log = logging.getLogger("assistant.cli")


def _within(kind, low, high=None, *, above: bool = False):
    """An argparse type: a finite number of `kind` from `low` (or above it, if `above`) up to `high`.

    llama.cpp takes any number without a word: a negative context wraps around to billions of
    tokens (then blamed on the model file), -1 as a seed means a random one, 0 tokens means one."""
    def parse(text: str):
        value = kind(text)
        if not math.isfinite(value) or value < low or (above and value == low) or (high is not None and value > high):
            bound = f"above {low}" if above else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}" + (f" and at most {high}" if high is not None else "")
                                             + f", not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names it in "invalid int value"
    return parse


def _add_generation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="installed model name (or an unambiguous part of it)")
    p.add_argument("--temperature", type=_within(float, 0), help="0 picks the most likely word each time")
    p.add_argument("--top-p", type=_within(float, 0, 1, above=True))
    p.add_argument("--top-k", type=_within(int, 0), help="0 keeps every word")
    p.add_argument("--min-p", type=_within(float, 0, 1))
    p.add_argument("--repeat-penalty", type=_within(float, 0, above=True))
    p.add_argument("--max-tokens", type=_within(int, 1))
    p.add_argument("--ctx", type=_within(int, 0), dest="n_ctx", help="context size in tokens (0: the model's own)")
    p.add_argument("--threads", type=_within(int, 1), dest="n_threads")
    p.add_argument("--seed", type=_within(int, 0, 2**32 - 1), help="fixed seed for reproducible answers")


class _Parser(argparse.ArgumentParser):
    """argparse reads a one-word text such as `-foo` as an option; say how to pass it instead."""

    _TEXTS = ("query", "question", "text")

    def error(self, message: str):
        named = [name.strip() for name in message.rpartition(":")[2].split(",")]
        missing_text = "arguments are required" in message and any(t in named for t in self._TEXTS)
        if missing_text:
            message += f" (a text that starts with '-' goes last, after '--': {self.prog} [options] -- -42)"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="assistant", description="A private, offline assistant.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="install the starter models into the app's models folder")
    p.add_argument("--repair", action="store_true", help="rebuild and re-verify every starter model")
    p.add_argument("--measure", action="store_true",
                   help="then measure the speed of every model not measured yet (Ctrl-C stops, keeping what is done)")

    p = sub.add_parser("ask", help="ask one question and print the answer as it streams")
    p.add_argument("question", type=query_text)
    p.add_argument("--conversation", type=int, help="continue this conversation")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end instead")
    p.add_argument("--collection", action="append", help="answer from this document collection (repeatable)")
    p.add_argument("--check-model", help="with --collection: the model asked whether the sources answer the "
                                         "question: a model's name, auto, or '' for the answering model (default: the settings', auto)")
    _add_generation_args(p)

    add_document_commands(sub)

    p = sub.add_parser("chat", help="an interactive conversation (Ctrl-C stops an answer, Ctrl-D quits)")
    p.add_argument("--conversation", type=int)
    _add_generation_args(p)

    add_model_commands(sub)

    add_bench_commands(sub)

    p = sub.add_parser("conversations", help="saved conversations")
    csub = p.add_subparsers(dest="conversations_command", required=True)
    csub.add_parser("list")
    q = csub.add_parser("search")
    q.add_argument("text")
    q = csub.add_parser("show")
    q.add_argument("id", type=int)
    return parser


def generation_settings(core, args) -> GenerationSettings:
    base = core.settings.generation.to_dict()
    for key in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "n_ctx",
                "n_threads", "seed"):
        value = getattr(args, key, None)
        if value is not None:
            base[key] = value
    return GenerationSettings.from_dict(base)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from assistant.config import paths

    try:
        setup_logging(paths().logs, verbose=args.verbose)
    except OSError as exc:  # before the log exists: only the terminal can say why
        from assistant.config import folder_unusable

        print(f"error: {folder_unusable(paths().logs, exc)}", file=sys.stderr)
        return 1
    try:
        return COMMANDS[args.command](args)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `assistant search ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except Exception as exc:  # a bug: say so plainly, keep the traceback in the log
        if cut_by_ctrl_c(exc):  # Ctrl-C inside a native library's import comes out as an ImportError
            print("\ninterrupted", file=sys.stderr)
            return 130
        problem = database_problem(exc, paths().database)
        if problem is not None:  # not a bug: a locked or damaged database file
            log.warning("database: %s", exc)
            print(f"error: {problem}", file=sys.stderr)
            return 1
        log.exception("unexpected error")
        print(f"error: something went wrong ({type(exc).__name__}: {exc}). Details are in the log.",
              file=sys.stderr)
        return 1


def _core():
    from assistant.core import Core

    return Core()


def cmd_setup(args) -> int:
    from assistant.setup_models import install_starters, prepare_embedder

    with _core() as core:
        last = {}

        def progress(name, done, total):
            pct = int(done * 100 / total) if total else 100
            if last.get(name) != pct and pct % 10 == 0:
                last[name] = pct
                print(f"  {name}: {pct}%", file=sys.stderr)

        install_starters(core, repair=args.repair, progress=progress, report=print)
        prepare_embedder(core, report=print)
        if args.measure:
            _measure_unmeasured(core)
    return 0


def _measure_unmeasured(core) -> None:
    import threading

    from assistant.models.speed import measure_unmeasured

    cancel = threading.Event()

    def progress(p) -> None:
        if p.phase != "generating":
            print(f"  [{p.index + 1}/{p.count}] {p.message}", file=sys.stderr)

    with on_ctrl_c(cancel.set):
        done = measure_unmeasured(core, progress, cancel)
    for m in done:
        print(f"measured {m.model}: {m.gen_tokens_per_s:.1f} tokens/s, first token in {m.ttft_s:.2f} s")
    if cancel.is_set():
        print("measuring stopped; the rest is measured in the app's background or with "
              "`assistant models bench NAME`", file=sys.stderr)


def _stream(core, events, *, echo: bool, stop: threading.Event | None = None) -> tuple[Finished, bool]:
    """The answer's last event, and whether Ctrl-C stopped it."""
    finished = None
    # Ctrl-C stops the answer (kept, marked stopped) wherever it is: `stop` reaches the search and
    # the check, which the engine's cancel does not. The stream then ends normally.
    def stopped() -> None:
        if stop is not None:
            stop.set()
        core.engine.cancel()

    with on_ctrl_c(stopped) as pressed:
        for event in events:
            if isinstance(event, Token) and echo:
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Notice):
                print(f"[{event.message}]", file=sys.stderr)
            elif isinstance(event, Restarted) and echo:  # what was printed stays; the answer is what follows
                sys.stdout.write("\n")
                print(f"[{event.reason}]", file=sys.stderr)
            elif isinstance(event, Finished):
                finished = event
    return finished, pressed.is_set()


def _check_summary(details: dict) -> dict | None:
    """The yes/no check before a document answer: who was asked, what it believed, against what."""
    if "check_model" not in details:
        return None
    return {"model": details["check_model"], "belief": details.get("answer_belief"),
            "threshold": details.get("check_threshold"), "ms": details.get("check_ms"),
            "abstained": details.get("abstained") == "model", "problem": details.get("check_error")}


def _existing_conversation(core, conversation_id: int | None) -> None:
    if conversation_id is not None and core.conversations.get(conversation_id) is None:
        raise UserFacingError(f"There is no conversation {conversation_id}.")


def source_lines(sources: list[dict]) -> list[str]:
    """The numbered list under a plain-text answer: the sources its prompt held, cited or not."""
    shown = [s for s in sources if s.get("in_prompt")]
    if not shown:
        return []
    lines = ["Sources:"]
    for source in shown:
        mark = "cited" if source.get("cited") else "not cited"
        lines.append(f"  [{source['number']}] {where(source)} ({mark})")
    return lines


def cmd_ask(args) -> int:
    with _core() as core:
        _existing_conversation(core, args.conversation)  # a mistyped id does not start a new one
        settings = generation_settings(core, args)
        if args.collection:
            from assistant.knowledge.base import KnowledgeBase

            kb = KnowledgeBase(core)
            # As stored, not as typed: the answer keeps these names for the window to reopen it with.
            args.collection = [kb.collections.get(name)["name"] for name in args.collection]
            require_indexed(kb, args.collection)  # before the model: no wait to be told there is nothing
        core.load_model(args.model, settings)
        stop = threading.Event()
        if args.collection:
            from assistant.answer import ask_documents

            if args.check_model:  # for this question only: the settings file is not changed
                core.settings.retrieval.check_model = args.check_model
            if args.temperature is None:  # a document answer's own default, not the chat's
                settings = replace(settings, temperature=core.settings.retrieval.answer_temperature)
            events = ask_documents(core, kb, args.question, args.collection, args.conversation, settings, stop=stop)
        else:
            events = ask(core, args.question, args.conversation, settings, stop)
        finished, interrupted = _stream(core, events, echo=not args.json, stop=stop)
        message = finished.message
        if args.json:
            print(json.dumps({
                "answer": message.content,
                "model": message.model,
                "conversation_id": message.conversation_id,
                "message_id": message.id,
                "status": message.status,
                # what went wrong, or why a complete answer is cut short (it reached --max-tokens)
                "error": message.error,
                "sources": message.sources or [],
                "check": _check_summary(message.details or {}),
                # why it says the documents do not answer: {"by": "retrieval" | "model", "reason": ...}
                "abstained": ({"by": (message.details or {})["abstained"],
                               "reason": (message.details or {}).get("abstain_reason")}
                              if (message.details or {}).get("abstained") else None),
                # a document answer's first try, when it only repeated the question and was asked again
                "restated": (message.details or {}).get("restated"),
                "timings": {
                    "ttft_s": message.ttft_s,
                    "tokens_per_s": message.tokens_per_s,
                    "prompt_tokens": message.prompt_tokens,
                    "completion_tokens": message.completion_tokens,
                    "total_s": message.total_s,
                },
            }, ensure_ascii=False))
        else:
            print()
            # On stdout with the answer: `ask … > answer.txt` keeps what its [1], [2] point to.
            for line in source_lines(message.sources or []):
                print(line)
            if message.status not in ("complete", "error"):  # an error is said once, below
                print(f"[{message.status}{': ' + message.error if message.error else ''}]", file=sys.stderr)
            elif message.status == "complete" and message.error:  # cut off at --max-tokens
                print(f"[{message.error}]", file=sys.stderr)
        if message.status == "error":
            print(f"error: {message.error}", file=sys.stderr)
            return 1
    return 130 if interrupted else 0


def cmd_chat(args) -> int:
    with _core() as core:
        settings = generation_settings(core, args)
        loaded = core.load_model(args.model, settings)
        conversation_id = args.conversation
        if conversation_id is not None:
            _existing_conversation(core, conversation_id)
            for m in core.conversations.messages(conversation_id):
                print(f"{m.role}> {m.content}")
        print(f"[{core.model.display_name} ready in {loaded.load_s:.1f}s. Ctrl-C stops an answer, "
              "Ctrl-D quits.]", file=sys.stderr)
        while True:
            try:
                question = input("you> ")
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:
                print()
                continue
            if not question.strip():
                continue
            question = query_text(question)
            # A no-op while the model is loaded; after the engine crashed, the next question
            # starts a fresh one instead of ending the chat with "No model is loaded".
            core.load_model(args.model, settings)
            sys.stdout.write("assistant> ")
            finished, _stopped = _stream(core, ask(core, question, conversation_id, settings), echo=True)
            conversation_id = finished.message.conversation_id
            m = finished.message
            suffix = f" [{m.status}{': ' + m.error if m.error else ''}]" if m.status != "complete" else ""
            rate = f"{m.tokens_per_s:.1f} tok/s" if m.tokens_per_s else "-"
            print(f"{suffix}\n  ({rate}, first token {m.ttft_s or 0:.2f}s)", file=sys.stderr)


def cmd_conversations(args) -> int:
    with _core() as core:
        store = core.conversations
        if args.conversations_command == "list":
            conversations = store.list()
            for c in conversations:
                print(f"{c['id']:>5}  {c['updated_at'][:16]}  {c['title']}")
            if not conversations:
                print("No conversations yet.", file=sys.stderr)
        elif args.conversations_command == "search":
            if not any(ch.isalnum() for ch in args.text):
                raise UserFacingError("Give a word to search for: letters or digits, not only punctuation.")
            hits = store.search(args.text)
            for hit in hits:
                print(f"{hit['conversation_id']:>5}  {hit['role']:<9} {hit['title']}: {hit['snippet']}")
            if not hits:
                print(f"No message contains {args.text!r}.", file=sys.stderr)
        else:
            if store.get(args.id) is None:
                raise UserFacingError(f"There is no conversation {args.id}.")
            for m in store.messages(args.id):
                status = "" if m.status == "complete" else f" [{m.status}]"
                print(f"{m.role}{status}> {m.content}\n")
    return 0


COMMANDS = {
    "setup": cmd_setup,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "models": cmd_models,
    "conversations": cmd_conversations,
    "bench": cmd_bench,
    **DOCUMENT_COMMANDS,
}

if __name__ == "__main__":
    sys.exit(main())
