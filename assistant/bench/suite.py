"""`make bench` / `assistant bench`: every speed promise measured side by side in one run, one table.

Each row gives the app's figure, its yardstick measured in the same run (so a
noisy machine moves both alike), the ratio, the goal and whether it was met:

  1 generation tok/s: app engine vs a bare llama-cpp-python loop (and llama-bench)   goal >= 0.97
  2 follow-up: time to first token at turn 5 (~1,500 tokens of history) / turn 1      goal <= 1.2
  3 documents question: time to first token vs bare prompt processing               goal <= 1.1 x + 100 ms
  4 indexing: pipeline chunks/s vs the bare encoder, per embedding backend           goal >= 0.9
  5 hybrid search p50/p95 at 10k and 100k chunks
  6 start-up: process start to first paint, and to model ready
  7 memory: peak RSS (app + engine child) with each model loaded vs its file size
  8 UI stall: the longest event-loop stall while answering and indexing              goal <= 50 ms

The measuring lives in the row modules (engine_speed, llama_bench, doc_ttft,
indexing_speed, search_latency, startup); this module plans sizes, runs the
rows, and renders the table (text and Markdown) and the JSON.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROW_NAMES = {1: "generation", 2: "follow-up", 3: "documents TTFT", 4: "indexing", 5: "query latency",
             6: "start-up", 7: "memory", 8: "UI stall"}
SMOL = "smollm2-135m-instruct-q4_1"


@dataclass
class Row:
    number: int
    figure: str
    app: str
    bare: str = ""
    limit: str = ""  # llama-bench, where there is one
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None  # None: no goal, or not measured
    data: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "-"}[self.met]


@dataclass
class Plan:
    quick: bool
    chat_models: list[str]  # rows 1, 2 and 7
    doc_model: str  # rows 3 and 6
    stall_model: str = SMOL
    repeats: int = 3
    questions: int = 8
    corpus: dict = field(default_factory=lambda: {"pdfs": 60, "docx": 30, "markdown": 30})
    backends: list[str] = field(default_factory=lambda: ["torch", "onnx", "onnx-int8"])
    search_sizes: list[int] = field(default_factory=lambda: [10_000, 100_000])
    stall_files: int = 40

    @classmethod
    def make(cls, core, quick: bool) -> Plan:
        names = [m.name for m in core.chat_models()]
        if quick:
            small = SMOL if SMOL in names else names[0]
            return cls(quick=True, chat_models=[small], doc_model=small, stall_model=small, repeats=1, questions=2,
                       corpus={"pdfs": 3, "docx": 2, "markdown": 3}, backends=["torch", "onnx-int8"],
                       search_sizes=[2_000], stall_files=6)
        default = core.settings.default_model if core.settings.default_model in names else names[0]
        return cls(quick=False, chat_models=names, doc_model=default,
                   stall_model=SMOL if SMOL in names else default)


def machine() -> dict:
    import psutil

    from assistant.bench.llama_bench import llama_cpp_version
    from assistant.config import physical_cores

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "physical_cores": physical_cores(),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1), "os": platform.platform(),
            "python": platform.python_version(), "llama_cpp_python": llama_cpp_version()}


def _engine_rows(core, plan: Plan, only: set[int], report) -> list[Row]:
    from assistant.bench import engine_speed, llama_bench

    rows = []
    for name in plan.chat_models:
        model = core.registry.resolve(name)
        core.registry.check(model)
        f = engine_speed.measure_model(model, repeats=plan.repeats, report=report)
        if 1 in only:
            limit, why = llama_bench.generation_tps(model.path, f.threads, engine_speed.GEN_TOKENS, plan.repeats)
            rows.append(Row(1, f"generation tok/s, {model.display_name}", f"{f.engine_tps:.1f}",
                            f"{f.bare_tps:.1f}", f"{limit:.1f}" if limit else f"n/a: {why[:48]}", f.ratio, ">= 0.97",
                            f.ratio >= 0.97, {**f.to_dict(), "llama_bench_tps": limit, "llama_bench_note": why}))
        if 2 in only:
            rows.append(Row(2, f"TTFT turn 5 / turn 1 ({f.turn5_prompt_tokens} tok), {model.display_name}",
                            f"{f.turn5_ttft_s:.3f} s", f"{f.turn1_ttft_s:.3f} s", ratio=f.turn_ratio, goal="<= 1.2",
                            met=f.turn_ratio <= 1.2, data=f.to_dict()))
    return rows


def _doc_row(core, plan: Plan, report) -> list[Row]:
    from assistant.bench import doc_ttft

    r = doc_ttft.measure(core, plan.doc_model, questions=plan.questions, report=report)
    model = core.registry.resolve(plan.doc_model)
    name = model.display_name + (f", checked by {r['check_model']}" if r["check_model"] != model.name else "")
    return [Row(3, f"documents question TTFT ({r['prompt_tokens']:.0f} tok, 3 sources), {name}",
                f"{r['app_ttft_s']:.3f} s", f"{r['bare_ttft_s']:.3f} s", ratio=r["ratio"],
                goal="<= 1.1 x bare + 100 ms", met=r["met"], data=r)]


def _indexing_rows(core, plan: Plan, report) -> list[Row]:
    from assistant.bench import indexing_speed

    c = plan.corpus
    result = indexing_speed.run(core, plan.backends, None, None, c["pdfs"], c["docx"], c["markdown"])
    return [Row(4, f"indexing chunks/s, {r['backend']} ({r['chunks']} chunks, {result['corpus']['pages']} pages)",
                f"{r['pipeline_chunks_per_s']:.1f}", f"{r['bare_chunks_per_s']:.1f}", ratio=r["ratio"],
                goal=">= 0.9", met=r["ratio"] >= 0.9, data={**r, "corpus": result["corpus"]})
            for r in result["rows"]]


def _search_rows(core, plan: Plan, report) -> list[Row]:
    from assistant.bench import search_latency

    rows = []
    for n in plan.search_sizes:
        r = search_latency.measure(n, report=report)
        rows.append(Row(5, f"hybrid search p50 / p95, {n:,} chunks",
                        f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms",
                        f"with query embedding {r['p50_with_embedding_ms']:.1f} / "
                        f"{r['p95_with_embedding_ms']:.1f} ms; answer's word weights "
                        f"{r['word_weights_p50_ms']:.1f} / {r['word_weights_p95_ms']:.1f} ms", data=r))
    return rows


def _launch_rows(core, plan: Plan, only: set[int], report) -> list[Row]:
    from assistant.bench import startup

    names = plan.chat_models if 7 in only else []
    names = names + [plan.doc_model] if plan.doc_model not in names and 6 in only else names
    launches = {}
    for name in names:
        launches[name] = startup.launch(core, name)
        report(f"  {name}: first paint {launches[name]['first_paint_s']:.2f} s, "
               f"ready {launches[name]['model_ready_s']:.2f} s")
    rows = []
    if 6 in only:
        s = launches[plan.doc_model]
        display = core.registry.resolve(plan.doc_model).display_name
        rows.append(Row(6, "start-up: process start to first paint (offscreen)", f"{s['first_paint_s']:.2f} s",
                        data=s))
        rows.append(Row(6, f"start-up: process start to model ready, {display}", f"{s['model_ready_s']:.2f} s",
                        f"model load alone {s['load_s']:.2f} s", data=s))
    for name in plan.chat_models if 7 in only else []:
        m = launches[name]
        rows.append(Row(7, f"peak RSS app + engine, {core.registry.resolve(name).display_name}",
                        f"{m['peak_rss'] / 1e6:,.0f} MB", f"file {m['file_size'] / 1e6:,.0f} MB",
                        ratio=m["rss_over_file"], data=m))
    return rows


def _stall_row(core, plan: Plan, report) -> list[Row]:
    from assistant.bench import startup

    r = startup.ui_stall(core, plan.stall_model, files=plan.stall_files)
    rows = [Row(8, f"longest UI stall, answering + indexing {r['files']} files",
                f"{r['longest_stall_ms']:.0f} ms", f"{r['ticks']} ticks of {r['interval_ms']} ms",
                goal="<= 50 ms", met=r["longest_stall_ms"] <= 50, data=r)]
    if "first_indexing_stall_ms" in r:
        first = r["first_indexing_stall_ms"]
        rows.append(Row(8, "longest UI stall, the first indexing run (loads the embedder)", f"{first:.0f} ms",
                        f"{r['first_indexing_ticks']} ticks of {r['interval_ms']} ms", goal="<= 50 ms",
                        met=first <= 50))
    return rows


def run(core, only: set[int] | None = None, quick: bool = False, report=print) -> dict:
    """Measure the chosen rows (all by default); a row that fails is reported as such, the rest go on."""
    only = set(only or ROW_NAMES)
    plan = Plan.make(core, quick)
    steps = [({1, 2}, lambda: _engine_rows(core, plan, only, report)), ({3}, lambda: _doc_row(core, plan, report)),
             ({4}, lambda: _indexing_rows(core, plan, report)), ({5}, lambda: _search_rows(core, plan, report)),
             ({6, 7}, lambda: _launch_rows(core, plan, only, report)), ({8}, lambda: _stall_row(core, plan, report))]
    rows: list[Row] = []
    t0 = time.perf_counter()
    for numbers, step in steps:
        if not numbers & only:
            continue
        report(f"row {', '.join(str(n) for n in sorted(numbers & only))}: "
               f"{', '.join(ROW_NAMES[n] for n in sorted(numbers & only))}…")
        started = time.perf_counter()
        try:
            rows += step()
        except Exception as exc:  # noqa: BLE001 - one broken row must not lose the others
            rows += [Row(n, ROW_NAMES[n], f"failed: {type(exc).__name__}: {exc}"[:160]) for n in sorted(numbers & only)]
        report(f"  ({time.perf_counter() - started:.0f} s)")
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": quick,
            "seconds": time.perf_counter() - t0, "machine": machine(), "plan": asdict(plan),
            "rows": [asdict(r) for r in sorted(rows, key=lambda r: r.number)]}


def _cells(row: dict) -> list[str]:
    r = Row(**row)
    ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
    return [str(r.number), r.figure, r.app, r.bare, r.limit, ratio, r.goal, r.verdict]


HEAD = ["#", "figure", "app", "yardstick", "llama-bench", "ratio", "goal", "result"]


def format_table(result: dict) -> str:
    lines = [HEAD] + [_cells(r) for r in result["rows"]]
    keep = [i for i in range(len(HEAD)) if any(line[i] for line in lines[1:]) or i < 3]
    lines = [[line[i] for i in keep] for line in lines]
    widths = [max(len(line[i]) for line in lines) for i in range(len(keep))]
    text = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    text.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(text) + "\n" + machine_line(result)


def machine_line(result: dict) -> str:
    m = result["machine"]
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}, "
            f"llama-cpp-python {m['llama_cpp_python']}; {result['date']}"
            f"{' (--quick)' if result.get('quick') else ''}, {result['seconds'] / 60:.1f} min")


def markdown_table(result: dict) -> str:
    """The table for the README, with the machine it ran on."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(cell(c) for c in _cells(r)) + " |" for r in result["rows"]]
    return "\n".join(lines) + f"\n\nMeasured on: {machine_line(result)}.\n"


def default_json_path() -> Path:
    return Path("bench/results") / f"{datetime.date.today().isoformat()}.json"


def write(result: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str))
    return path


def latest_result(folder: Path = Path("bench/results")) -> Path | None:
    """The newest suite JSON (named <date>.json), for `assistant bench readme-table`."""
    found = sorted(p for p in folder.glob("????-??-??.json"))
    return found[-1] if found else None
