"""`assistant bench`: the whole suite (one table, JSON), or one part of it in more detail.

    assistant bench [all] [--quick] [--only 1,3,5] [--json PATH]
    assistant bench readme-table [PATH]       the latest suite result as a Markdown table
    assistant bench engine | search | indexing
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

BACKENDS = ["torch", "onnx", "onnx-int8"]


def _suite_args(p: argparse.ArgumentParser, default=argparse.SUPPRESS) -> None:
    # On both `bench` and `bench all`; SUPPRESS keeps the subcommand's value from being overwritten.
    p.add_argument("--quick", action="store_true", default=default, help="small sizes, one repeat (a few minutes)")
    p.add_argument("--only", default=default, help="rows to run, e.g. 1,3,5 (1 generation, 2 follow-up, "
                   "3 documents TTFT, 4 indexing, 5 search, 6 start-up, 7 memory, 8 UI stall)")
    p.add_argument("--json", dest="json_path", default=default,
                   help="where to write the JSON (default bench/results/<date>.json)")


def add_bench_commands(sub) -> None:
    p = sub.add_parser("bench", help="measure speed on this machine (prints a table, writes JSON)")
    _suite_args(p, default=None)
    bsub = p.add_subparsers(dest="bench_command")
    _suite_args(bsub.add_parser("all", help="the whole suite, one table (the default)"))
    q = bsub.add_parser("readme-table", help="a suite result as a Markdown table for the README")
    q.add_argument("path", nargs="?", type=Path, help="the JSON (default: the latest bench/results/<date>.json)")
    q = bsub.add_parser("engine", help="load, TTFT, tokens/s vs bare llama-cpp-python, follow-up TTFT, cancel")
    q.add_argument("models", nargs="*", help="model names (default: every installed chat model)")
    q.add_argument("--repeats", type=int, default=3)
    q.add_argument("--json", dest="json_path", help="where to write the JSON (default bench/results/<date>-engine.json)")
    q = bsub.add_parser("search", help="hybrid search latency p50/p95 over synthetic chunks")
    q.add_argument("--chunks", type=int, action="append", help="corpus sizes (default 10000 and 100000)")
    q.add_argument("--backend", default="torch", choices=BACKENDS, help="embedding backend for the query embedding")
    q = bsub.add_parser("indexing", help="chunks/s of the whole indexing pipeline vs the bare encoder, per backend")
    q.add_argument("--backend", action="append", choices=BACKENDS,
                   help="embedding backends to measure (default: all three)")
    q.add_argument("--seed-text", type=Path, help="a folder of .md/.txt whose paragraphs make up the documents")
    q.add_argument("--pdfs", type=int, default=60)
    q.add_argument("--docx", type=int, default=30)
    q.add_argument("--markdown", type=int, default=30)
    q.add_argument("--json", dest="json_path")


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_rows(text: str | None) -> set[int] | None:
    from assistant.bench.suite import ROW_NAMES
    from assistant.errors import UserFacingError

    if not text:
        return None
    try:
        rows = {int(part) for part in text.replace(" ", "").split(",") if part}
    except ValueError:
        rows = set()
    if not rows or not rows <= set(ROW_NAMES):
        raise UserFacingError(f"--only takes row numbers 1-8 separated by commas, not {text!r}.")
    return rows


def _suite(args) -> int:
    from assistant.bench import suite
    from assistant.cli import _core

    only = parse_rows(args.only)
    default = suite.default_json_path()
    target = Path(args.json_path) if args.json_path else (default.with_stem(default.stem + "-quick")
                                                          if args.quick else default)
    with _core() as core:
        result = suite.run(core, only=only, quick=bool(args.quick), report=_err)
    print(suite.format_table(result))
    _err(f"written to {suite.write(result, target)}")
    return 0


def _readme_table(args) -> int:
    from assistant.bench import suite
    from assistant.errors import UserFacingError

    path = args.path or suite.latest_result()
    if path is None or not path.exists():
        raise UserFacingError("There is no suite result yet.", hint="Run `make bench` first.")
    print(suite.markdown_table(json.loads(path.read_text())), end="")
    return 0


def _search(args) -> int:
    from assistant.bench.search_latency import measure

    for n in args.chunks or [10_000, 100_000]:
        r = measure(n, report=_err, backend=args.backend)
        print(f"{r['chunks']:>7,} chunks ({args.backend} query embedding): hybrid search p50 {r['p50_ms']:.1f} ms, "
              f"p95 {r['p95_ms']:.1f} ms; with the query embedding p50 {r['p50_with_embedding_ms']:.1f} ms, "
              f"p95 {r['p95_with_embedding_ms']:.1f} ms; an answer's word weights (uncached) p50 "
              f"{r['word_weights_p50_ms']:.1f} ms, p95 {r['word_weights_p95_ms']:.1f} ms")
    return 0


def _indexing(args) -> int:
    from assistant.bench import indexing_speed
    from assistant.cli import _core

    target = Path(args.json_path or f"bench/results/{datetime.date.today().isoformat()}-indexing.json")
    with _core() as core:
        result = indexing_speed.run(core, args.backend or BACKENDS, args.seed_text, target, args.pdfs, args.docx,
                                    args.markdown)
    print(indexing_speed.format_table(result))
    _err(f"written to {target}")
    return 0


def _engine(args) -> int:
    from assistant.bench.engine_speed import format_table, measure_model
    from assistant.bench.suite import machine
    from assistant.cli import _core

    with _core() as core:
        models = [core.registry.resolve(n) for n in args.models] or core.chat_models()
        rows = []
        for model in models:
            core.registry.check(model)
            rows.append(measure_model(model, repeats=args.repeats, report=_err))
    print(format_table(rows))
    target = Path(args.json_path or f"bench/results/{datetime.date.today().isoformat()}-engine.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"machine": machine(), "engine": [r.to_dict() for r in rows]}, indent=2))
    _err(f"written to {target}")
    return 0


def cmd_bench(args) -> int:
    command = args.bench_command or "all"
    return {"all": _suite, "readme-table": _readme_table, "search": _search, "indexing": _indexing,
            "engine": _engine}[command](args)
