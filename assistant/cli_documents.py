"""The document commands: index, search, collections, eval (see assistant.cli)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from assistant.cli_progress import IndexProgressPrinter
from assistant.cli_status import print_reasons, print_status, status_notes, summary_line
from assistant.ctrl_c import on_ctrl_c
from assistant.errors import UserFacingError
from assistant.knowledge.library import plural
from assistant.knowledge.passages import file_warning
from assistant.store.source_rows import source_place

STOPPED = "[stopped]"  # as `ask` says of an answer Ctrl-C stopped


def add_document_commands(sub) -> None:
    p = sub.add_parser("index", help="add files or folders to a collection and index them")
    p.add_argument("paths", nargs="+")
    p.add_argument("--collection", required=True, action="append", help="the collection (one)")
    ignore = p.add_mutually_exclusive_group()
    ignore.add_argument("--ignore", action="append", default=[], metavar="GLOB",
                        help="files or folders to leave out, e.g. '*.tmp' or 'Drafts/*' (repeatable). The "
                             "collection keeps them for every later run; a new --ignore replaces all earlier "
                             "ones (`collections status` shows them)")
    ignore.add_argument("--no-ignore", action="store_true", help="clear the collection's saved --ignore patterns")

    p = sub.add_parser("search", help="search a collection (hybrid keyword + vector)")
    p.add_argument("query", type=query_text)
    p.add_argument("--collection", action="append")
    p.add_argument("--k", type=positive_int, default=8)
    p.add_argument("--mode", choices=["hybrid", "keyword", "vector"], default="hybrid")
    p.add_argument("--by-sentence", action="store_true",
                   help="re-order the results by their best sentence's match, as answers choose their sources")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("collections", help="document collections")
    ksub = p.add_subparsers(dest="collections_command", required=True)
    ksub.add_parser("list", help="each collection: files, passages, problems, last update")
    for verb, what in (("remove", "delete a collection and its index (the files themselves are untouched)"),
                       ("reindex", "read the collection's folders again: new and changed files are indexed, "
                                   "removed ones forgotten")):
        q = ksub.add_parser(verb, help=what)
        q.add_argument("name")
    q = ksub.add_parser("status", help="folders, files, ignore patterns and what indexing found")
    q.add_argument("name")
    q.add_argument("--json", action="store_true")
    q = ksub.add_parser("rename", help="give a collection another name")
    q.add_argument("name")
    q.add_argument("new_name")
    q = ksub.add_parser("remove-source", help="stop indexing folders or files of a collection and forget "
                                              "their documents (the collection is indexed again)")
    q.add_argument("name")
    q.add_argument("paths", nargs="+", metavar="path")
    q = ksub.add_parser("ignore", help="set the patterns of files or folders a collection leaves out "
                                       "(none: clear them); they apply from the next index run")
    q.add_argument("name")
    q.add_argument("patterns", nargs="*", metavar="GLOB")

    p = sub.add_parser("eval", help="measure retrieval and answers on a question set (e.g. ../shared/data/squad2-dev)")
    p.add_argument("folder")
    p.add_argument("--limit", type=int, help="only the first N questions (default: all)")
    p.add_argument("--retrieval-only", action="store_true")
    p.add_argument("--every", type=int, default=1, help="every Nth question only (a quicker, smaller sample)")
    p.add_argument("--json", dest="json_path")
    p.add_argument("--details", dest="details_path", help="also write one JSON line per question here")
    p.add_argument("--model")
    p.add_argument("--check-model", help="the model asked whether the sources answer (default: settings)")
    p.add_argument("--backend", choices=["torch", "onnx", "onnx-int8"], help="embedding backend (default: settings)")



def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def query_text(text: str) -> str:
    """A query as typed: bytes the terminal sent in another encoding than UTF-8 become U+FFFD
    (the embedder and SQLite take only valid text). An empty one is refused."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: type some words")
    return text


def where(source: dict) -> str:
    text = source["path"] or "?"
    if place := source_place(source, dash="-"):
        text += f", {place}"
    elif source.get("heading"):  # a DOCX or HTML file has no pages or lines, but its sections have titles
        text += f", section {source['heading']}"
    # On the source's own line: `ask`'s list under the answer is what a reader checks a citation by.
    if warning := file_warning(source.get("file_state")):
        text += f" [WARNING: {warning}]"
    return text


@contextmanager
def ctrl_c_ends_step(*actions: Callable[[], object]) -> Iterator[threading.Event]:
    """The first Ctrl-C runs `actions` (a stop flag, the engine's cancel) and lets the step under
    way end; the event it yields says it was pressed. Raised at once instead, a KeyboardInterrupt
    inside a native library's first import (onnxruntime, while the query is embedded) surfaced
    as an ImportError, "something went wrong". A second Ctrl-C stops at once."""
    presses = 0

    def pressed() -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            raise KeyboardInterrupt
        for action in actions:
            action()

    with on_ctrl_c(pressed) as event:
        yield event


def cut_by_ctrl_c(exc: BaseException) -> bool:
    """A KeyboardInterrupt, or an error raised while handling one (an import it cut in half)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def require_indexed(kb, names: list[str] | None) -> None:
    """Refuse to search (or answer from) collections that hold no indexed passage: the answer
    would be "not found in your documents" when there were no documents to look in. An unknown
    name is refused by `status`, which names the collections there are."""
    statuses = [kb.collections.status(n) for n in names] if names else \
        [kb.collections.status(c["name"]) for c in kb.collections.list()]
    if any(st.chunks for st in statuses):
        return
    if len(statuses) != 1:
        named = ", ".join(repr(st.name) for st in statuses)
        raise UserFacingError(f"None of the collections {named} has indexed documents yet." if named else
                              "No documents are indexed yet, so there is nothing to search.",
                              hint="Index some first: assistant index PATH --collection NAME")
    (st,) = statuses
    index = f"assistant index PATH --collection {shlex.quote(st.name)}"
    again = f"assistant collections reindex {shlex.quote(st.name)}"
    if st.interrupted or st.unfinished:
        why = "its indexing is under way elsewhere, or was stopped before any file"
        hint = f"Let it end, or run: {again}"
    elif st.skipped:
        files = "its file was" if len(st.skipped) == 1 else f"all {len(st.skipped)} of its files were"
        why = f"{files} skipped"
        hint = f"`assistant collections status {shlex.quote(st.name)}` says why. Add other files: {index}"
    elif st.sources:
        why, hint = "its folders hold no file it can read", f"Add files there and run `{again}`, or: {index}"
    else:
        why, hint = "it has no folders or files", f"Index some: {index}"
    raise UserFacingError(f"The collection {st.name!r} has no indexed documents yet: {why}.", hint=hint)


def _core():
    from assistant.core import Core

    return Core()


def _kb(core):
    from assistant.knowledge.base import KnowledgeBase

    return KnowledgeBase(core)


def cmd_index(args) -> int:
    if len(args.collection) > 1:  # argparse would keep only the last one, silently
        raise UserFacingError("index adds to one collection at a time, but several --collection were given: "
                              + ", ".join(repr(c) for c in args.collection) + ".")
    (name,) = args.collection
    with _core() as core:
        kb = _kb(core)
        for path in args.paths:  # all of them before anything is recorded: a typo leaves no collection behind
            kb.collections.source_path(path)
        kb.collections.check_ignore_globs(args.ignore or [])
        for path in args.paths:
            kb.collections.add_source(name, path)
        if args.ignore or args.no_ignore:
            kb.collections.set_ignore_globs(name, args.ignore)
        return _exit_code(_run_index(kb, name))


def _run_index(kb, name: str):
    printer = IndexProgressPrinter()
    cancel = threading.Event()

    # The run checks this between steps, and while it waits for another run's lock: raising
    # KeyboardInterrupt instead could cut a garbage collection in half.
    with on_ctrl_c(cancel.set):
        report = kb.index(name, printer, cancel.is_set)
    printer.finish(report)
    print(f"{report.collection}: {plural(report.files, 'file')}: {report.indexed} indexed, "
          f"{report.unchanged} unchanged, {report.moved} moved, {report.reused - report.moved} duplicate, "
          f"{report.removed - report.moved} removed, {len(report.skipped)} skipped; "
          f"{plural(report.chunks_added, 'chunk')} added, {report.chunks_total} in total ({report.seconds:.1f}s)"
          + (" [cancelled]" if report.cancelled else ""))
    print_reasons(report.skipped, report.partial, show=repr)
    for folder in report.relocated:
        print(f"{folder!r} is not there, and every file indexed from it is in another folder of the collection: "
              "it was renamed or moved, so it was taken out of the collection.")
    return report


def _exit_code(report) -> int:
    return 130 if report.cancelled else 0


def cmd_search(args) -> int:
    with ctrl_c_ends_step() as pressed:
        try:
            hits = _search(args)
        except BaseException as exc:
            if not cut_by_ctrl_c(exc):
                raise
            hits = None
    if hits is None or pressed.is_set():
        print(STOPPED, file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(hits, ensure_ascii=False, indent=2))
        return 0
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    for hit in hits:
        s = hit["scores"]
        sentence = f"best sentence {fmt(s['sentence'])}  " if "sentence" in s else ""
        print(f"#{hit['rank']} {where(hit)}  {sentence}fused {fmt(s['fused'])}  keyword {fmt(s['keyword'])}  "
              f"vector {fmt(s['vector'])}")
        print("   " + snippet(hit["text"], args.query) + "\n")
    if not hits:
        print("No results.", file=sys.stderr)
    return 0


def _search(args) -> list[dict]:
    """The hits as dicts, each with its file's `file_state` (see passages.check_file)."""
    from assistant.knowledge.passages import KNOWN, check_file

    with _core() as core:
        kb = _kb(core)
        require_indexed(kb, args.collection)
        results = kb.search(args.query, args.collection, k=args.k, mode=args.mode)
        if args.by_sentence and results:
            from assistant.answer import SentenceMatcher, rerank_by_sentence

            results = rerank_by_sentence(results, SentenceMatcher.of(kb, args.query))
        KNOWN.learn_indexed(kb.db, {r.path for r in results})  # so only a file whose stat moved is read
        return [{**r.to_dict(), "file_state": check_file(r.path, r.chunk_id).state} for r in results]


def snippet(text: str, query: str, width: int = 300) -> str:
    """`width` characters of the passage, from a little before the first of the query's words in
    it: a passage's opening alone can hide the very word it was found by."""
    from assistant.knowledge import cjk
    from assistant.knowledge.highlight import question_terms, term_spans

    flat = " ".join(text.split())
    # The words the Sources panel marks; then Chinese or Japanese, which has no word boundaries:
    # its runs whole, else their character pairs (a question is one run, no spaces).
    runs = cjk.query_runs(query)
    found = [start for start, _ in term_spans(flat, question_terms(query))[:1]] + \
        [i for r in runs if (i := flat.find(r)) >= 0] or \
        [i for r in runs for pair in cjk.bigrams(r) if (i := flat.find(pair)) >= 0]
    if len(flat) <= width or not found or min(found) < width - 60:
        return flat[:width]
    at = min(found) - 60
    space = flat.rfind(" ", max(0, at - 30), at)  # a word's start; text without spaces starts anywhere
    start = space + 1 if space >= 0 else at
    return "…" + flat[start:start + width]


def cmd_collections(args) -> int:
    with _core() as core:
        kb = _kb(core)
        c = args.collections_command
        if c == "list":
            rows = kb.collections.list()
            for row in rows:
                st = kb.collections.status(row["name"])
                print(summary_line(st) + "".join(f" ({n})" for n in status_notes(st)))
            if not rows:
                print("No collections yet. Make one: assistant index PATH --collection NAME", file=sys.stderr)
        elif c == "remove":
            return _remove_collection(kb, args.name)
        elif c == "rename":
            old = kb.collections.get(args.name)["name"]
            if args.new_name.strip() == old:
                print(f"{old} is already its name; nothing changed")
                return 0
            kb.collections.rename(args.name, args.new_name)
            print(f"renamed {old} to {kb.collections.get(args.new_name)['name']}")
        elif c == "reindex":
            return _exit_code(_run_index(kb, args.name))
        elif c == "remove-source":
            return _remove_sources(kb, args.name, args.paths)
        elif c == "ignore":
            kb.collections.set_ignore_globs(args.name, args.patterns)
            shown = ", ".join(args.patterns) if args.patterns else "nothing (the patterns were cleared)"
            print(f"{kb.collections.get(args.name)['name']} leaves out {shown} from the next index run")
        else:
            print_status(kb, args.name, as_json=args.json)
    return 0


def _remove_collection(kb, name: str) -> int:
    kb.collections.remove(name, kb.indexer.lock_path)
    print(f"removed {name}", flush=True)
    cancel = threading.Event()

    def waiting() -> None:
        print(f"waiting for another indexing run to finish before freeing the space {name} took "
              "(Ctrl-C leaves that to the next index run)…", file=sys.stderr, flush=True)

    # Exclusive: an indexer running elsewhere has chunks written but not yet committed, which a
    # plain collection would take for garbage. Stopped while waiting, the collection is still gone.
    with on_ctrl_c(cancel.set):
        freed = kb.indexer.collect_garbage_exclusive(waiting, cancel.is_set)
    if freed is None:
        print(f"stopped waiting: the next index run frees the space {name} took")
        return 130
    return 0


def _remove_sources(kb, name: str, paths: list[str]) -> int:
    """As the window does: drop the sources, then index again, which forgets their documents and
    collects their chunks under the index lock (a folder may hold another source, so only a run
    knows which documents are no longer covered)."""
    kb.collections.remove_source(name, *paths)
    report = _run_index(kb, name)
    when = "at the next index run" if report.cancelled else "now"
    print(f"removed {', '.join(paths)} from {name}; their documents are forgotten {when}")
    return _exit_code(report)


def cmd_eval(args) -> int:
    from assistant.knowledge.evaluation import run_eval

    with _core() as core:
        return run_eval(core, args)



DOCUMENT_COMMANDS = {
    "index": cmd_index,
    "search": cmd_search,
    "collections": cmd_collections,
    "eval": cmd_eval,
}
