"""Engine speed, measured side by side in one run.

For each model: load time; time to first token; generation tokens/s of the
app's engine (child process, streamed over a pipe) next to a bare
llama-cpp-python loop in this process with the same model, threads and
prompt; turn 1 versus turn 5 time to first token in a conversation that grows
to about 1,500 tokens; and how long a cancel takes to land.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import asdict, dataclass

from assistant.config import GenerationSettings
from assistant.llm.client import EngineClient
from assistant.llm.protocol import Done, Token
from assistant.models.registry import InstalledModel

STORY = "Write a detailed, 400-word story about a lighthouse keeper who finds a message in a bottle."
GEN_TOKENS = 128
FILLER = ("Here is some background about our office: we handle leases, employment contracts, "
          "and supplier agreements for small businesses in three cities. ")
FILLER_REPEATS = 8  # about 300 tokens a turn, so turn 5 sees about 1,500 tokens


@dataclass
class EngineFigures:
    model: str
    size_mb: float
    threads: int
    load_s: float
    ttft_s: float
    engine_tps: float
    bare_tps: float
    ratio: float
    turn1_ttft_s: float
    turn5_ttft_s: float
    turn5_prompt_tokens: int
    turn5_cached_tokens: int
    turn_ratio: float
    cancel_latency_s: float

    def to_dict(self) -> dict:
        return asdict(self)


def _story(i: int) -> str:
    # A new opening each run: a prompt the cache already holds would fake the TTFT.
    return f"Story number {i}. {STORY}"


def _engine_run(engine: EngineClient, settings: GenerationSettings, i: int) -> tuple[float, float, int]:
    """(ttft_s, tokens/s, tokens) for one generation of the story prompt."""
    for event in engine.generate([{"role": "user", "content": _story(i)}], settings):
        if isinstance(event, Done):
            t = event.timings
            return t.ttft_s, t.tokens_per_s, t.completion_tokens
        if not isinstance(event, Token):
            raise RuntimeError(f"engine did not finish: {event}")
    raise RuntimeError("engine did not finish")


def _bare_run(llm, tokens: list[int], settings: GenerationSettings) -> float:
    """Tokens/s of the plain llama-cpp-python generate loop, timed like the engine's."""
    llm.reset()
    first = last = None
    count = 0
    for _token in llm.generate(tokens, top_k=settings.top_k, top_p=settings.top_p, min_p=settings.min_p,
                               temp=settings.temperature, repeat_penalty=settings.repeat_penalty, reset=True):
        last = time.perf_counter()
        first = first or last
        count += 1
        if count >= GEN_TOKENS:
            break
    return (count - 1) / (last - first)


def _conversation_ttfts(engine: EngineClient, settings: GenerationSettings) -> tuple[list, int, int]:
    """Five turns, each adding ~300 tokens; returns the TTFT of each turn."""
    history = [{"role": "system", "content": "You are a helpful assistant for a small law office."}]
    ttfts, last = [], None
    for turn in range(5):
        question = FILLER * FILLER_REPEATS + f"Question {turn + 1}: name one thing to check in a lease, briefly."
        history.append({"role": "user", "content": question})
        answer = []
        for event in engine.generate(history, settings):
            if isinstance(event, Token):
                answer.append(event.text)
            elif isinstance(event, Done):
                last = event
        ttfts.append(last.timings.ttft_s)
        history.append({"role": "assistant", "content": "".join(answer)})
    return ttfts, last.timings.prompt_tokens, last.timings.cached_tokens


def _cancel_latency(engine: EngineClient, settings: GenerationSettings) -> float:
    long = GenerationSettings(**{**settings.to_dict(), "max_tokens": 4000})
    stamp = {}

    def cancel_soon():
        stamp["at"] = time.perf_counter()
        engine.cancel()

    timer = None
    for event in engine.generate([{"role": "user", "content": STORY}], long):
        if isinstance(event, Token) and timer is None:
            timer = threading.Timer(0.5, cancel_soon)
            timer.start()
        if isinstance(event, Done):
            return time.perf_counter() - stamp["at"]
    raise RuntimeError("no Done after cancel")


def measure_model(model: InstalledModel, repeats: int = 3, report=print, flash_attn: bool = True) -> EngineFigures:
    from llama_cpp import Llama

    settings = GenerationSettings(temperature=0.0, seed=1, max_tokens=GEN_TOKENS, n_ctx=4096,
                                  flash_attn=flash_attn)
    threads, threads_batch = settings.threads()
    with EngineClient() as engine:
        loaded = engine.load(model.path, settings)
        report(f"  {model.name}: loaded in {loaded.load_s:.2f}s with {threads} threads")
        bare = Llama(model_path=str(model.path), n_ctx=settings.n_ctx, n_threads=threads,
                     n_threads_batch=threads_batch, n_batch=settings.n_batch, flash_attn=flash_attn,
                     verbose=False)
        engine_rates, bare_rates, ttfts = [], [], []
        for i in range(repeats):  # interleaved, so drift on a noisy machine hits both sides
            ttft, rate, n = _engine_run(engine, settings, i)
            engine_rates.append(rate)
            ttfts.append(ttft)
            bare_rates.append(_bare_run(bare, _prompt_tokens(engine, bare, _story(i)), settings))
        bare.close()
        turn_ttfts, prompt_tokens, cached = _conversation_ttfts(engine, settings)
        cancel_s = _cancel_latency(engine, settings)
    engine_tps = statistics.median(engine_rates)
    bare_tps = statistics.median(bare_rates)
    return EngineFigures(
        model=model.name, size_mb=model.size_bytes / 1e6, threads=threads, load_s=loaded.load_s,
        ttft_s=statistics.median(ttfts), engine_tps=engine_tps, bare_tps=bare_tps, ratio=engine_tps / bare_tps,
        turn1_ttft_s=turn_ttfts[0], turn5_ttft_s=turn_ttfts[4], turn5_prompt_tokens=prompt_tokens,
        turn5_cached_tokens=cached, turn_ratio=turn_ttfts[4] / turn_ttfts[0], cancel_latency_s=cancel_s,
    )


def _prompt_tokens(engine: EngineClient, bare, text: str) -> list[int]:
    """The exact tokens the engine feeds for the story prompt, rendered by the GGUF's own template."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = engine.loaded.chat_template
    eos, bos = bare.token_eos(), bare.token_bos()
    formatter = Jinja2ChatFormatter(template=template, eos_token=bare._model.token_get_text(eos),
                                    bos_token=bare._model.token_get_text(bos) if bos >= 0 else "")
    prompt = formatter(messages=[{"role": "user", "content": text}]).prompt
    return bare.tokenize(prompt.encode(), add_bos=True, special=True)


def format_table(rows: list[EngineFigures]) -> str:
    head = ("model", "size MB", "thr", "load s", "TTFT s", "engine tok/s", "bare tok/s", "ratio",
            "turn1 TTFT", "turn5 TTFT", "turn5 prompt/cached", "t5/t1", "cancel s")
    lines = [head]
    for r in rows:
        lines.append((r.model, f"{r.size_mb:.0f}", str(r.threads), f"{r.load_s:.2f}", f"{r.ttft_s:.3f}",
                      f"{r.engine_tps:.1f}", f"{r.bare_tps:.1f}", f"{r.ratio:.3f}", f"{r.turn1_ttft_s:.3f}",
                      f"{r.turn5_ttft_s:.3f}", f"{r.turn5_prompt_tokens}/{r.turn5_cached_tokens}",
                      f"{r.turn_ratio:.2f}", f"{r.cancel_latency_s:.3f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines)
