"""Measuring a model's speed on this machine, the way the app uses it.

One measurement: load the model in an engine child process, warm it up, then
ask a document question of about 1,000 tokens (three numbered sources and a
question, as a document answer looks) and time it: prompt processing
tokens/s, time to first token, generation tokens/s after the first token; plus
the load time and the engine child's peak resident memory. Each is stored in
SQLite (model_speed) with the thread count and app version.

By default the measurement runs in its own engine child, so the model the user
is chatting with stays loaded and the peak memory belongs to this model alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import assistant
from assistant.config import GenerationSettings
from assistant.errors import EngineError
from assistant.llm.client import EngineClient
from assistant.llm.protocol import Done, Error, Token
from assistant.models.cpu_load import MachineBusy, OtherLoad, refuse_if_busy
from assistant.models.facts import facts_from_installed
from assistant.models.fit import check_fit
from assistant.store.model_speed import SpeedMeasurement, SpeedStore

log = logging.getLogger("assistant.models.speed")

PROMPT_TOKENS = 1000
GEN_TOKENS = 96
MIN_GEN_TOKENS = 16  # fewer and the rate is mostly noise: ask for more in a follow-up turn

SYSTEM = ("You answer questions using only the numbered sources the user gives you, and cite the "
          "number of each source you use in brackets.")
QUESTION = ("Summarise what each of the three sources says about notice periods, payment terms and "
            "renewal, in several detailed sentences per source.")
MORE = "Now explain the differences between the three documents at length, in at least 200 words."
SOURCES = [
    ("lease.pdf, page 2", [
        "The tenant shall pay a monthly rent of 1,250 euros on the first working day of each month.",
        "Either party may end this lease with three months' written notice to the other party.",
        "The deposit of two months' rent is returned within thirty days of the end of the lease.",
        "The landlord maintains the roof, the walls and the heating system at the landlord's cost.",
        "The lease renews for one year at a time unless notice is given before the first of October.",
        "Late payment of rent carries interest at the legal rate plus two percentage points.",
    ]),
    ("employment-contract.docx, Terms", [
        "The employee's salary is paid on the twenty-fifth day of each month by bank transfer.",
        "During the probation period of three months, either party may end the contract with one week's notice.",
        "After probation the notice period is one month for the employee and two months for the employer.",
        "The employee is entitled to twenty-five days of paid holiday per calendar year.",
        "Overtime is compensated with time off within the following three months.",
        "The contract continues for an indefinite period unless ended in writing by either party.",
    ]),
    ("supplier-agreement.md, Payment", [
        "Invoices are payable within forty-five days of the invoice date without deduction.",
        "The agreement runs for two years and renews automatically for further periods of one year.",
        "Either party may terminate with six months' notice before the end of the current period.",
        "Prices may be adjusted once a year in line with the consumer price index.",
        "The supplier delivers within ten working days of a purchase order being confirmed.",
        "Disputes are settled by the courts of the city in which the buyer has its registered office.",
    ]),
]

Progress = Callable[["SpeedProgress"], None]


@dataclass
class SpeedProgress:
    model: str
    phase: str  # loading | warming up | reading the prompt | generating | saved
    fraction: float  # of this model's measurement, 0..1
    message: str
    index: int = 0  # which model of `count`, for measure_unmeasured
    count: int = 1


class MeasurementCancelled(Exception):
    """The user stopped a speed measurement; nothing was stored."""


def rag_messages(sentences: int, nonce: int = 0) -> list[dict]:
    """Three numbered sources with `sentences` sentences in all, and a question (the document-answer shape)."""
    blocks = []
    for i, (where, pool) in enumerate(SOURCES, start=1):
        share = sentences // 3 + (1 if i <= sentences % 3 else 0)
        text = " ".join(f"Clause {n + 1}. {pool[n % len(pool)]}" for n in range(share))
        blocks.append(f"[{i}] ({where})\n{text}")
    user = "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {QUESTION}"
    # A nonce first, so no earlier run's prompt is reused from the engine's cache.
    return [{"role": "system", "content": f"Session {nonce}. {SYSTEM}"}, {"role": "user", "content": user}]


def sized_rag_messages(engine: EngineClient, target_tokens: int, nonce: int = 0) -> list[dict]:
    """A document question whose rendered prompt is within a few % of `target_tokens` for this model."""
    sentences = max(3, target_tokens // 25)
    for _ in range(4):
        messages = rag_messages(sentences, nonce)
        n = engine.count_tokens(messages)
        if abs(n - target_tokens) <= 0.03 * target_tokens:
            break
        fixed = engine.count_tokens(rag_messages(0, nonce))
        per_sentence = max(1.0, (n - fixed) / sentences)
        sentences = max(3, round((target_tokens - fixed) / per_sentence))
    return messages


def peak_rss(pid: int | None) -> int | None:
    """The process's peak resident memory (Linux VmHWM), else its current resident memory."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import psutil

    try:
        info = psutil.Process(pid).memory_info()
        return getattr(info, "peak_wset", None) or info.rss
    except psutil.Error:
        return None


def _reset_peak(pid: int | None) -> None:
    # Linux: writing 5 to clear_refs resets VmHWM, so a reused engine's peak is this model's.
    if pid is not None:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass


def _run(engine: EngineClient, messages: list[dict], settings: GenerationSettings, cancel: threading.Event | None,
         on_token: Callable[[int], None] | None = None) -> Done:
    """One generation; a set `cancel` stops it, even during prompt processing."""
    finished = threading.Event()

    def watch():
        # Repeated, not once: a cancel that lands before the request is sent would target the
        # previous request id and miss this one.
        while not finished.wait(0.05):
            if cancel.is_set():
                engine.cancel()

    watcher = threading.Thread(target=watch, daemon=True, name="speed-cancel") if cancel else None
    if watcher:
        watcher.start()
    try:
        tokens = 0
        for event in engine.generate(messages, settings):
            if isinstance(event, Token):
                tokens += 1
                if on_token:
                    on_token(tokens)
            elif isinstance(event, Error):
                raise EngineError(f"The speed measurement failed: {event.message}")
            elif isinstance(event, Done):
                if event.reason == "cancelled" or (cancel and cancel.is_set()):
                    raise MeasurementCancelled()
                return event
        raise EngineError("The engine ended the measurement without an answer.")
    finally:
        finished.set()


def measure_model(core, name: str, *, progress: Progress | None = None, cancel: threading.Event | None = None,
                  prompt_tokens: int = PROMPT_TOKENS, gen_tokens: int = GEN_TOKENS,
                  engine: EngineClient | None = None, save: bool = True, repeats: int = 1) -> SpeedMeasurement:
    """Measure one installed model and store the result. Raises MeasurementCancelled if `cancel` is set.

    `engine`: None runs in a dedicated engine child (closed after). Passing `core.engine` holds
    the core's load lock meanwhile and leaves no model loaded, so the next chat reloads its own.
    `repeats` > 1 asks the question that many times (new text each time) and keeps the fastest
    prompt and the fastest generation: steadier figures on a busy machine.
    """
    model = core.registry.resolve(name)
    path = core.registry.check(model)
    report = progress or (lambda _p: None)
    base = core.settings.generation
    settings = GenerationSettings(**{**base.to_dict(), "temperature": 0.0, "seed": 1, "max_tokens": gen_tokens,
                                     "n_ctx": max(base.n_ctx, prompt_tokens + 2 * gen_tokens + 64)})
    if engine is None:
        with EngineClient(log_path=core.paths.logs / "engine-speed.log") as own:
            result, others = _measure(own, model, path, settings, report, cancel, prompt_tokens, gen_tokens,
                                      repeats)
    elif engine is core.engine:
        with core._load_lock:
            core.model = None
            try:
                result, others = _measure(engine, model, path, settings, report, cancel, prompt_tokens,
                                          gen_tokens, repeats)
            finally:
                engine.unload()
    else:
        result, others = _measure(engine, model, path, settings, report, cancel, prompt_tokens, gen_tokens, repeats)
    if save:  # what is stored is what every estimate is derived from
        refuse_if_busy(others)
        SpeedStore(core.db).save(result)
    report(SpeedProgress(model.name, "saved", 1.0,
                         f"{result.gen_tokens_per_s:.1f} tokens/s, first token in {result.ttft_s:.2f}s"))
    return result


def _measure(engine: EngineClient, model, path, settings: GenerationSettings, report: Progress,
             cancel: threading.Event | None, prompt_tokens: int, gen_tokens: int,
             repeats: int = 1) -> tuple[SpeedMeasurement, float]:
    """The measurement, and other programs' share of the processors while it was timed."""
    def step(phase: str, fraction: float, message: str) -> None:
        if cancel is not None and cancel.is_set():
            raise MeasurementCancelled()
        report(SpeedProgress(model.name, phase, fraction, message))

    step("loading", 0.0, f"Loading {model.display_name}…")
    if engine.loaded is not None:
        engine.unload()
    _reset_peak(engine.pid)
    loaded = engine.load(path, settings)
    step("warming up", 0.15, f"Loaded in {loaded.load_s:.1f}s; warming up…")
    _run(engine, [{"role": "user", "content": "Hi"}],
         GenerationSettings(**{**settings.to_dict(), "max_tokens": 4}), cancel)
    repeats = max(1, repeats)
    others = OtherLoad(engine.pid)
    best_prompt, best_gen = None, None
    share = 0.7 / repeats  # of the progress bar, for each run
    for run in range(repeats):
        def on_token(n: int, start=0.25 + run * share) -> None:
            report(SpeedProgress(model.name, "generating", start + share * min(1.0, n / gen_tokens),
                                 f"Generating ({n} pieces)…"))

        messages = sized_rag_messages(engine, prompt_tokens, nonce=time.monotonic_ns() % 100_000)
        of = f" ({run + 1} of {repeats})" if repeats > 1 else ""
        step("reading the prompt", 0.25 + run * share, f"Reading a {prompt_tokens:,}-token document question{of}…")
        done = _run(engine, messages, settings, cancel, on_token)
        t = done.timings
        gen_rate, gen_count = t.tokens_per_s, t.completion_tokens
        if gen_count < min(MIN_GEN_TOKENS, gen_tokens) or not gen_rate:
            # The answer stopped early: time generation on a longer follow-up (its prompt is cached).
            follow = [*messages, {"role": "assistant", "content": done.text}, {"role": "user", "content": MORE}]
            more = _run(engine, follow, settings, cancel, on_token).timings
            gen_rate, gen_count = more.tokens_per_s, more.completion_tokens
        if not gen_rate or not t.prompt_s:
            raise EngineError(f"{model.display_name} gave too short an answer to time its speed.")
        # Best of the repeats, as timeit does: other programs only ever slow a run down.
        if best_prompt is None or t.ttft_s < best_prompt.ttft_s:
            best_prompt = t
        if best_gen is None or gen_rate > best_gen[0]:
            best_gen = (gen_rate, gen_count)
    t, (gen_rate, gen_count) = best_prompt, best_gen
    busy = others.share()
    facts = facts_from_installed(model)
    threads, threads_batch = settings.threads()
    return SpeedMeasurement(
        model=model.name, pp_tokens_per_s=max(1, t.prompt_tokens - t.cached_tokens) / t.prompt_s,
        gen_tokens_per_s=gen_rate, ttft_s=t.ttft_s, load_s=loaded.load_s, peak_rss_bytes=peak_rss(engine.pid),
        prompt_tokens=t.prompt_tokens, gen_tokens=gen_count, file_size=path.stat().st_size,
        parameters=facts.parameter_count(), quantization=facts.quantization, n_threads=threads,
        n_threads_batch=threads_batch, n_ctx=settings.n_ctx, n_batch=settings.n_batch,
        flash_attn=settings.flash_attn, app_version=assistant.__version__,
    ), busy


def unmeasured_models(core) -> list:
    """Installed chat models with no stored measurement, smallest first."""
    measured = SpeedStore(core.db).all_latest()
    return [m for m in core.chat_models() if m.name not in measured]


def models_to_measure(core) -> list:
    """The unmeasured chat models worth measuring now: those that fit in memory, smallest first."""
    todo = []
    for model in unmeasured_models(core):
        fit = check_fit(facts_from_installed(model), core.settings.generation.n_ctx)
        if fit.verdict == "won't fit":
            log.info("not measuring %s: %s", model.name, fit.reason)
        else:
            todo.append(model)
    return todo


def measure_unmeasured(core, progress: Progress | None = None, cancel: threading.Event | None = None,
                       **options) -> list[SpeedMeasurement]:
    """Measure every installed chat model not measured yet (the app does this once, in the background).

    Models that would not fit in memory now are skipped. Stops quietly when `cancel` is set:
    what was measured so far is kept.
    """
    todo = models_to_measure(core)
    results = []
    for i, model in enumerate(todo):
        if cancel is not None and cancel.is_set():
            break

        def relay(p: SpeedProgress, i=i) -> None:
            p.index, p.count = i, len(todo)
            if progress:
                progress(p)

        try:
            results.append(measure_model(core, model.name, progress=relay, cancel=cancel, **options))
        except MeasurementCancelled:
            break
        except MachineBusy as exc:  # the rest would be as slow: measured at another start
            log.warning("not measuring %s: %s", model.name, exc)
            relay(SpeedProgress(model.name, "not kept", 1.0, str(exc)))
            break
        except EngineError as exc:
            log.warning("could not measure %s: %s", model.name, exc)
    return results
