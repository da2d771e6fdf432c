"""The model commands (see assistant.cli): the same core functions the models page calls.

    assistant models list [--json] | verify [NAME] | catalog [--json]
    assistant models download NAME | import PATH [--reference] [--name NAME]
    assistant models delete NAME [--yes] | info NAME [--json]
    assistant models bench NAME [--prompt-tokens N] [--gen-tokens N] [--repeats N]
    assistant models estimate [NAME] [--check]
    assistant models recommend [--tokens-per-s X] [--ttft-s Y] [--save] [--json]
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from assistant.ctrl_c import on_ctrl_c
from assistant.errors import UserFacingError
from assistant.models.units import size_text


def add_model_commands(sub) -> None:
    p = sub.add_parser("models", help="installed and catalog models: list, download, import, delete, speed")
    msub = p.add_subparsers(dest="models_command", required=True)
    q = msub.add_parser("list", help="installed models")
    q.add_argument("--json", action="store_true")
    q = msub.add_parser("verify", help="re-hash installed models")
    q.add_argument("name", nargs="?")
    q = msub.add_parser("catalog", help="every catalog model with memory fit and speed")
    q.add_argument("--json", action="store_true")
    q = msub.add_parser("download", help="download a catalog model (Ctrl-C pauses; run again to resume)")
    q.add_argument("name")
    q = msub.add_parser("import", help="add a local .gguf file")
    q.add_argument("path")
    q.add_argument("--reference", action="store_true", help="use the file where it is instead of copying it")
    q.add_argument("--name", help="the name to register it under (default: from the file name)")
    q = msub.add_parser("delete", help="remove a model and free its disk space")
    q.add_argument("name")
    q.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    q = msub.add_parser("info", help="what a model is: header facts, fit, speed")
    q.add_argument("name")
    q.add_argument("--json", action="store_true")
    q = msub.add_parser("bench", help="measure a model's speed on this machine and store it")
    q.add_argument("name")
    q.add_argument("--prompt-tokens", type=int, default=None, help="prompt length (default 1000)")
    q.add_argument("--gen-tokens", type=int, default=None, help="tokens to generate (default 96)")
    q.add_argument("--repeats", type=int, default=1, help="ask N times and keep the fastest (a busy machine)")
    q = msub.add_parser("estimate", help="estimated speed of a model not measured; --check: leave-one-out")
    q.add_argument("name", nargs="?")
    q.add_argument("--check", action="store_true", help="estimate each measured model from the others")
    q = msub.add_parser("recommend", help="the largest model that fits and meets the speed targets")
    q.add_argument("--tokens-per-s", type=float, help="generation speed target (default from settings: 10)")
    q.add_argument("--ttft-s", type=float, help="first-token target for a 1,000-token question (default 5)")
    q.add_argument("--save", action="store_true", help="keep these targets in the settings")
    q.add_argument("--json", action="store_true")


def _core():
    from assistant.core import Core

    return Core()


def _catalog():
    from assistant.models.catalog import load_catalog

    return load_catalog()


def cmd_models(args) -> int:
    with _core() as core:
        return HANDLERS[args.models_command](core, args)


# formatting ---------------------------------------------------------------------------------------
def human_params(n: int | None) -> str:
    if not n:
        return "-"
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def human_bytes(n: int | None) -> str:
    """The models page's one size style (models/units.py), "-" when unknown."""
    return size_text(n) if n else "-"


def print_table(rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _speed_cell(figure) -> str:
    if figure is None:
        return "-"
    if figure.measured:
        return f"{figure.gen_tokens_per_s:.1f} tok/s, {figure.ttft_s:.1f}s (measured)"
    return f"~{figure.gen_tokens_per_s:.0f} tok/s, ~{figure.ttft_s:.0f}s (est., {figure.calibrated_on} measured)"


def _bar(done: int, total: int | None, width: int = 28) -> str:
    if not total:
        return f"[{'?' * width}] {human_bytes(done)}"
    share = min(1.0, done / total)
    filled = int(share * width)
    return f"[{'#' * filled}{'-' * (width - filled)}] {share:4.0%} {human_bytes(done)} of {human_bytes(total)}"


# commands ----------------------------------------------------------------------------------------
def _list(core, args) -> int:
    models = core.registry.all()
    if args.json:
        print(json.dumps([m.to_row() for m in models], indent=2))
        return 0
    rows = [("NAME", "KIND", "FILE", "SIZE", "QUANT", "PARAMS", "CONTEXT", "SOURCE")]
    for m in models:
        rows.append((m.name, m.kind, m.path.name, human_bytes(m.size_bytes), m.quantization or "-",
                     human_params(m.parameters), f"{m.context_length:,}" if m.context_length else "-", m.source))
    print_table(rows)
    if not models:
        print("No models installed. Run `assistant setup`.", file=sys.stderr)
    return 0


def _verify(core, args) -> int:
    from assistant.models.starter import verify_installed

    names = [args.name] if args.name else [m.name for m in core.registry.all()]
    bad = 0
    for name in names:
        model = core.registry.resolve(name, kind=None)
        ok = verify_installed(core.registry, model.name)
        bad += not ok
        print(f"ok  {name}" if ok else f"BAD {name}: {_why_bad(model)}")
    return 1 if bad else 0


def _why_bad(model) -> str:
    """What failed a model's verification, and how to put it right."""
    from assistant.models.registry import repair_hint

    if not model.path.exists():
        what = f"its file is missing from {model.path}"
    else:
        what = "its file no longer holds the bytes verified when it was installed (damaged or changed)"
    return f"{what}. {repair_hint(model)}"


def _catalog_cmd(core, args) -> int:
    from assistant.models.recommend import candidates

    entries = _catalog()
    pool = {c.name: c for c in candidates(core, entries)}
    installed = {m.name for m in core.registry.all()}
    if args.json:
        out = []
        for c in pool.values():
            out.append({"name": c.name, "installed": c.installed, "size_bytes": c.facts.weight_bytes(),
                        "parameters": c.facts.parameter_count(), "quantization": c.facts.quantization,
                        "fit": c.fit.to_dict(), "speed": c.speed.to_dict() if c.speed else None})
        print(json.dumps(out, indent=2))
        return 0
    rows = [("", "NAME", "SIZE", "PARAMS", "QUANT", "FIT", "SPEED (gen, first token at 1k)")]
    listed = set()
    for entry in entries:
        c = pool.get(entry.name)
        mark = "*" if entry.name in installed else ""
        if c is None:  # an embedder: not run by the engine, so no fit or speed
            rows.append((mark, entry.name, human_bytes(entry.size_bytes), human_params(entry.parameters),
                         entry.quantization or "-", "-", f"({entry.kind})"))
            continue
        listed.add(c.name)
        fit = c.fit.verdict + (" (rough)" if c.fit.estimate.rough else "")
        rows.append((mark, c.name, human_bytes(c.facts.weight_bytes()), human_params(c.facts.parameter_count()),
                     c.facts.quantization or "-", fit, _speed_cell(c.speed)))
    for c in pool.values():
        if c.name not in listed:
            rows.append(("*", c.name + " (imported)", human_bytes(c.facts.weight_bytes()),
                         human_params(c.facts.parameter_count()), c.facts.quantization or "-", c.fit.verdict,
                         _speed_cell(c.speed)))
    print_table(rows)
    print("* installed. Fit is for a context of "
          f"{core.settings.generation.n_ctx:,} tokens; estimates come from the models measured here.",
          file=sys.stderr)
    return 0


def _download(core, args) -> int:
    from assistant.models.catalog import find_entry

    entries = _catalog()
    entry = find_entry(args.name, entries)
    if entry is None:
        names = ", ".join(e.name for e in entries if e.downloadable) or "none"
        raise UserFacingError(f"The catalog has no model called {args.name!r}.", hint=f"Downloadable: {names}.")
    if not entry.downloadable:
        raise UserFacingError(f"{entry.display_name} cannot be downloaded (it is a starter model: "
                              "`assistant setup` installs it).")
    from assistant.models.download import DownloadCancelled, download_model

    cancel = threading.Event()
    last = {"at": 0.0}

    def progress(p) -> None:
        now = time.monotonic()
        if now - last["at"] < 0.2 and p.phase == "downloading":
            return
        last["at"] = now
        rate = f" {p.speed_bps / 1e6:.1f} MB/s" if p.speed_bps else ""
        eta = f" {p.eta_s:.0f}s left" if p.eta_s is not None else ""
        sys.stderr.write(f"\r{p.phase:<11} {_bar(p.bytes_done, p.bytes_total)}{rate}{eta}   ")
        sys.stderr.flush()

    with on_ctrl_c(cancel.set):
        try:
            model = download_model(entry, core.paths, core.registry, core.db, progress=progress, cancel=cancel)
        except DownloadCancelled as exc:
            print(f"\n{exc}", file=sys.stderr)
            return 130
    print(f"\ninstalled {model.name} -> {model.path}", file=sys.stderr)
    return 0


def _import(core, args) -> int:
    from assistant.models.manage import ImportCancelled, import_model

    cancel = threading.Event()
    # A file already in the models folder is used where it is, as with --reference: only hashed.
    in_place = args.reference or Path(args.path).resolve().is_relative_to(core.paths.models.resolve())

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\r{'hashing' if in_place else 'copying'} {_bar(done, total)}   ")
        sys.stderr.flush()

    with on_ctrl_c(cancel.set):
        try:
            model = import_model(core, args.path, reference=args.reference, name=args.name, progress=progress,
                                 cancel=cancel)
        except ImportCancelled:
            print("\nimport cancelled; the partial copy was removed", file=sys.stderr)
            return 130
    inside = model.path.resolve().is_relative_to(core.paths.models.resolve())
    how = "in the models folder" if inside else "used in place, not copied"
    print(f"\nimported {model.name} ({model.display_name}, {human_bytes(model.size_bytes)}, {how}) -> {model.path}")
    return 0


def _delete(core, args) -> int:
    from assistant.models.manage import delete_model

    model = core.registry.resolve(args.name, kind=None)
    if not args.yes:
        try:
            answer = input(f"Delete {model.name} ({model.path}, {human_bytes(model.size_bytes)})? [y/N] ")
        except EOFError:  # no one to answer (a script, < /dev/null): no
            print()
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=sys.stderr)
            return 1
    print(delete_model(core, model.name).message)
    return 0


def _info(core, args) -> int:
    from assistant.models.manage import model_info

    info = model_info(core, args.name)
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    rows = [
        ("name", info.name), ("display name", info.display_name), ("kind", info.kind),
        ("source", info.source + ("" if info.in_models_folder else " (referenced in place)")),
        ("file", info.path), ("file size", f"{human_bytes(info.file_size)} ({info.file_size:,} bytes)"),
        ("sha256", info.sha256), ("architecture", info.architecture or "-"),
        ("parameters", f"{human_params(info.parameters)} ({info.parameters:,})" if info.parameters else "-"),
        ("quantization", info.quantization or "-"),
        ("context length", f"{info.context_length:,}" if info.context_length else "-"),
    ]
    if info.kind == "chat":
        rows += [("layers", info.layers or "-"), ("kv heads x head dim", f"{info.kv_heads} x {info.head_dim}"),
                 ("chat template", "yes" if info.has_chat_template else "no")]
    if info.fit:
        e = info.fit.estimate
        rows.append(("memory", f"{info.fit.verdict}: {info.fit.reason}"))
        rows.append(("memory needed", f"weights {human_bytes(e.weights)} + context {human_bytes(e.kv_cache)} "
                                      f"({e.n_ctx:,} tokens) + runtime {human_bytes(e.overhead)}"))
    if info.kind == "chat":
        rows.append(("speed", info.speed.label() if info.speed else "not measured (assistant models bench NAME)"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    return 0


def _bench(core, args) -> int:
    from assistant.models.estimate import leave_one_out
    from assistant.models.speed import GEN_TOKENS, PROMPT_TOKENS, MeasurementCancelled, measure_model
    from assistant.store.model_speed import SpeedStore

    cancel = threading.Event()

    def progress(p) -> None:
        if p.phase != "generating":
            print(f"  {p.message}", file=sys.stderr)

    with on_ctrl_c(cancel.set):
        try:
            m = measure_model(core, args.name, progress=progress, cancel=cancel,
                              prompt_tokens=args.prompt_tokens or PROMPT_TOKENS, gen_tokens=args.gen_tokens or GEN_TOKENS,
                              repeats=args.repeats)
        except MeasurementCancelled:
            print("measurement cancelled; nothing was stored", file=sys.stderr)
            return 130
    print(f"{m.model}  ({m.n_threads} threads, context {m.n_ctx:,}, app {m.app_version})")
    print(f"  prompt processing  {m.pp_tokens_per_s:8.1f} tokens/s  ({m.prompt_tokens:,}-token document question)")
    print(f"  generation         {m.gen_tokens_per_s:8.1f} tokens/s  ({m.gen_tokens} tokens)")
    print(f"  first token        {m.ttft_s:8.2f} s")
    print(f"  load               {m.load_s:8.2f} s")
    print(f"  peak memory        {human_bytes(m.peak_rss_bytes):>8}  (engine process)")
    print(f"  file size          {human_bytes(m.file_size):>8}")
    check = leave_one_out(SpeedStore(core.db).all_latest(), m.model)
    if check:
        print("estimate check: " + check.summary())
    return 0


def _estimate(core, args) -> int:
    from assistant.models.estimate import leave_one_out
    from assistant.models.recommend import candidates
    from assistant.store.model_speed import SpeedStore

    if args.check:
        measured = SpeedStore(core.db).all_latest()
        checks = [c for c in (leave_one_out(measured, name) for name in measured) if c]
        if not checks:
            raise UserFacingError("A check needs at least two measured models.",
                                  hint="Run `assistant models bench NAME` on two models first.")
        for c in checks:
            print(c.summary())
        return 0
    pool = candidates(core, _catalog())
    if args.name:
        pool = [c for c in pool if args.name.lower() in c.name.lower()]
        if not pool:
            raise UserFacingError(f"No installed or catalog model is called {args.name!r}.")
    rows = [("NAME", "PARAMS", "SIZE", "SPEED")]
    rows += [(c.name, human_params(c.facts.parameter_count()), human_bytes(c.facts.weight_bytes()),
              c.speed.label() if c.speed else "unknown: no model measured yet") for c in pool]
    print_table(rows)
    return 0


def _recommend(core, args) -> int:
    from assistant.models.recommend import recommend

    if args.save:
        if args.tokens_per_s is not None:
            core.settings.target_tokens_per_s = args.tokens_per_s
        if args.ttft_s is not None:
            core.settings.target_ttft_s = args.ttft_s
        core.settings.save(core.paths)
    rec = recommend(core, args.tokens_per_s, args.ttft_s)
    if args.json:
        print(json.dumps({
            "choice": rec.choice.name if rec.choice else None, "reason": rec.reason,
            "target_tokens_per_s": rec.target_tokens_per_s, "target_ttft_s": rec.target_ttft_s,
            "candidates": [{"name": c.name, "installed": c.installed, "parameters": c.facts.parameter_count(),
                            "size_bytes": c.facts.weight_bytes(), "fit": c.fit.verdict,
                            "speed": c.speed.to_dict() if c.speed else None,
                            "meets": c.meets(rec.target_tokens_per_s, rec.target_ttft_s)[0]} for c in rec.candidates],
        }, indent=2))
        return 0 if rec.choice else 1
    rows = [("", "NAME", "PARAMS", "FIT", "SPEED", "VERDICT")]
    for c in sorted(rec.candidates, key=lambda c: c.facts.parameter_count() or 0):
        ok, why = c.meets(rec.target_tokens_per_s, rec.target_ttft_s)
        mark = ">" if rec.choice is not None and c.name == rec.choice.name else ""
        rows.append((mark, c.name + ("" if c.installed else " (not installed)"), human_params(c.facts.parameter_count()),
                     c.fit.verdict, _speed_cell(c.speed), why))
    print_table(rows)
    print(f"\ntargets: {rec.target_tokens_per_s:g} tokens/s, first token within {rec.target_ttft_s:g}s "
          "on a 1,000-token question")
    print(f"recommended: {rec.choice.name}. {rec.reason}" if rec.choice else rec.reason)
    return 0 if rec.choice else 1


HANDLERS = {
    "list": _list, "verify": _verify, "catalog": _catalog_cmd, "download": _download, "import": _import,
    "delete": _delete, "info": _info, "bench": _bench, "estimate": _estimate, "recommend": _recommend,
}
