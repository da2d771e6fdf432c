"""The engine child process, with the real llama.cpp and the real starter models."""

from __future__ import annotations

import os
import re
import signal
import threading

import pytest

from assistant.config import GenerationSettings, physical_cores
from assistant.errors import EngineCancelled, EngineError, ModelUnavailable
from assistant.llm.client import EngineClient
from assistant.llm.context_fit import PromptTooLong, fit_messages
from assistant.llm.protocol import Done, Error, Notice, Token
from tests.conftest import QWEN, SMOL


def collect(events):
    tokens, notices, last = [], [], None
    for event in events:
        if isinstance(event, Token):
            tokens.append(event.text)
        elif isinstance(event, Notice):
            notices.append(event)
        else:
            last = event
    return "".join(tokens), notices, last


@pytest.fixture
def smol_path(starter_registry):
    return starter_registry[SMOL].path


@pytest.fixture
def engine(tmp_path):
    client = EngineClient(log_path=tmp_path / "engine.log")
    yield client
    client.close()


SETTINGS = GenerationSettings(seed=7, max_tokens=40, temperature=0.0)


def ask(engine, text, history=()):
    messages = [{"role": "system", "content": "You are helpful."}, *history, {"role": "user", "content": text}]
    return collect(engine.generate(messages, SETTINGS))


def test_streams_tokens_and_ends_with_timings(shared_engine, smol_path):
    loaded = shared_engine.load(smol_path, SETTINGS)
    assert loaded.n_threads == physical_cores() and loaded.n_threads_batch == physical_cores()
    assert loaded.chat_template  # taken from the GGUF metadata
    text, _, done = ask(shared_engine, "Say hello.")
    assert isinstance(done, Done), done
    assert text and done.text == text
    t = done.timings
    assert t.prompt_tokens > 5 and t.completion_tokens > 1
    assert t.ttft_s > 0 and t.tokens_per_s > 0 and t.total_s >= t.ttft_s
    assert "<|im_start|>user" in done.prompt and "Say hello." in done.prompt


def test_threads_are_configurable(shared_engine, smol_path):
    loaded = shared_engine.load(smol_path, GenerationSettings(n_threads=1, n_threads_batch=2))
    assert (loaded.n_threads, loaded.n_threads_batch) == (1, 2)


@pytest.mark.parametrize("model", [SMOL, QWEN])
def test_every_starter_model_produces_clean_turns(shared_engine, starter_registry, model):
    shared_engine.load(starter_registry[model].path, SETTINGS)
    text, _, done = ask(shared_engine, "What is the capital of France? Answer in one sentence.")
    assert done.reason in ("stop", "length")
    assert "Paris" in text
    for marker in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "assistant\n"):
        assert marker not in text


def test_follow_up_reuses_the_cached_prefix(shared_engine, smol_path):
    shared_engine.load(smol_path, SETTINGS)
    history = []
    for i in range(3):
        question = f"Tell me one fact about the number {i + 3}."
        text, _, done = ask(shared_engine, question, history)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": text}]
    # Turn 3 re-processes only the newest question, not the whole transcript.
    assert done.timings.cached_tokens >= done.timings.prompt_tokens - 40
    assert done.timings.cached_tokens > 40


def test_cancel_stops_generation_and_keeps_the_partial_answer(shared_engine, smol_path):
    shared_engine.load(smol_path, GenerationSettings(seed=1, max_tokens=2000, temperature=0.8))
    events = shared_engine.generate(
        [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}])
    seen = []
    for event in events:
        if isinstance(event, Token):
            seen.append(event.text)
            if len(seen) == 5:
                shared_engine.cancel()
        elif isinstance(event, Done):
            done = event
    assert done.reason == "cancelled"
    assert done.text == "".join(seen) and len(seen) >= 5
    assert done.timings.completion_tokens < 200
    # The engine is still usable after a cancel.
    text, _, after = ask(shared_engine, "Say yes.")
    assert isinstance(after, Done) and after.reason != "cancelled" and text


def test_cancel_during_prompt_processing(shared_engine, starter_registry):
    shared_engine.load(starter_registry[QWEN].path, GenerationSettings(n_ctx=8192, max_tokens=50))
    long_prompt = "Summarise this. " + " ".join(f"Paragraph {i} says the sky is blue." for i in range(700))
    threading.Timer(0.3, shared_engine.cancel).start()
    text, _, done = collect(shared_engine.generate([{"role": "user", "content": long_prompt}]))
    assert isinstance(done, Done) and done.reason == "cancelled"
    assert done.timings.completion_tokens == 0 and text == ""


def test_a_stop_set_before_the_child_takes_a_request_still_stops_it(shared_engine, starter_registry):
    """cancel() reaches only the request in flight; a stop event covers one not yet sent (a Stop
    pressed while the documents were being searched) and a read of the prompt with no tokens yet."""
    shared_engine.load(starter_registry[QWEN].path, GenerationSettings(n_ctx=8192, max_tokens=50))
    stop = threading.Event()
    stop.set()
    text, _, done = collect(shared_engine.generate([{"role": "user", "content": "Write a long poem."}], stop=stop))
    assert isinstance(done, Done) and done.reason == "cancelled" and done.timings.completion_tokens <= 1
    question = [{"role": "user", "content": "Is the sky blue?"}]
    with pytest.raises(EngineCancelled):
        shared_engine.first_token_logprobs(question, ["Yes", "No"], stop)

    long_prompt = "Is this true? " + " ".join(f"Line {i} says the grass is green." for i in range(700))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(EngineCancelled):
        shared_engine.first_token_logprobs([{"role": "user", "content": long_prompt}], ["Yes", "No"], stop)
    # Still usable, and a cleared stop does not linger.
    assert len(shared_engine.first_token_logprobs(question, ["Yes", "No"])) == 2
    text, _, done = collect(shared_engine.generate(question, GenerationSettings(max_tokens=8)))
    assert done.reason != "cancelled" and text


def test_context_overflow_drops_the_oldest_turns_and_says_so(shared_engine, smol_path):
    shared_engine.load(smol_path, GenerationSettings(n_ctx=512, max_tokens=32, seed=3))
    history = []
    for i in range(12):
        history += [{"role": "user", "content": f"Question {i}: " + "tell me about rivers " * 6},
                    {"role": "assistant", "content": f"Answer {i}: " + "rivers flow to the sea " * 6}]
    text, notices, done = ask(shared_engine, "And lakes?", history)
    assert isinstance(done, Done), done
    assert notices and notices[0].kind == "context_trimmed" and done.dropped_messages > 0
    assert done.timings.prompt_tokens <= 512
    assert "And lakes?" in done.prompt and "Question 0:" not in done.prompt


def test_a_message_too_long_for_the_context_is_a_clear_error(shared_engine, smol_path):
    shared_engine.load(smol_path, GenerationSettings(n_ctx=256, max_tokens=32))
    _, _, done = ask(shared_engine, "word " * 2000)
    assert isinstance(done, Error) and done.message.startswith("The message is too long")
    # How long it is and how much fits, in words; a larger context would help this 256-token one.
    assert re.search(r"it is about [\d,]+ words, and about \d+ words fit", done.message), done.message
    assert "raise the context size" in done.message
    # A short question after a system prompt that alone overflows: the system prompt is to blame.
    messages = [{"role": "system", "content": "Be brief. " * 400}, {"role": "user", "content": "Hi"}]
    _, _, done = collect(shared_engine.generate(messages, SETTINGS))
    assert isinstance(done, Error) and done.message.startswith("The system prompt alone is too long"), done


def test_a_message_too_long_for_the_models_own_limit_is_not_told_to_raise_the_context():
    def count(messages):  # a token per word, two per message
        return sum(len(m["content"].split()) + 2 for m in messages)

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "word " * 4000}]
    with pytest.raises(PromptTooLong) as grows:
        fit_messages(messages, count, 1000)
    with pytest.raises(PromptTooLong) as limit:
        fit_messages(messages, count, 1000, can_grow=False)
    assert "about 3,000 words, and about 750 words fit" in str(limit.value)
    assert "raise the context size" in str(grows.value) and "raise the context size" not in str(limit.value)
    assert "split it into parts" in str(limit.value)
    # The system prompt alone, or the room kept for the answer, too much for the model's own limit.
    long_system = [{"role": "system", "content": "rule " * 2000}, {"role": "user", "content": "Hi"}]
    with pytest.raises(PromptTooLong, match="system prompt alone") as system:
        fit_messages(long_system, count, 1000, can_grow=False)
    with pytest.raises(PromptTooLong, match="too small to hold any question") as tiny:
        fit_messages(messages, count, 1, can_grow=False)
    for refused in (system, tiny):
        assert "context size" not in str(refused.value) and "reads no more at once" in str(refused.value)
    with pytest.raises(PromptTooLong, match="raise the context size"):
        fit_messages(long_system, count, 1000)


def test_a_context_too_big_for_memory_is_not_blamed_on_the_model_file(shared_engine, smol_path):
    with pytest.raises(ModelUnavailable) as info:
        shared_engine.load(smol_path, GenerationSettings(n_ctx=100_000_000))  # terabytes of cache
    assert "not enough memory for a context of 100,000,000 tokens" in str(info.value)
    assert "damaged" not in str(info.value)
    shared_engine.load(smol_path, GenerationSettings(n_ctx=512, max_tokens=8))
    _, _, done = ask(shared_engine, "Say hi.")
    assert isinstance(done, Done)


# Broken model files: each is a clear error, and the parent (this test process) survives.

def _truncated(src, dst):
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


BROKEN = {
    "truncated": (lambda src, d: _truncated(src, d / "half.gguf"), "could not be loaded"),
    "random bytes": (lambda src, d: _write(d / "noise.gguf", os.urandom(300_000)), "not a GGUF"),
    "zero bytes": (lambda src, d: _write(d / "empty.gguf", b""), "empty"),
    "text file": (lambda src, d: _write(d / "notes.gguf", b"just some notes\n" * 100), "not a GGUF"),
    "header only": (lambda src, d: _write(d / "head.gguf", src.read_bytes()[:24]), "could not be loaded"),
    "garbage after header": (lambda src, d: _write(d / "garbage.gguf", src.read_bytes()[:24]
                                                  + os.urandom(200_000)), "could not be loaded"),
    "missing": (lambda src, d: d / "nowhere.gguf", "missing"),
}


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_model_files_give_a_clear_error(engine, smol_path, tmp_path, kind):
    make, expected = BROKEN[kind]
    path = make(smol_path, tmp_path)
    with pytest.raises(ModelUnavailable) as info:
        engine.load(path, SETTINGS)
    assert expected in str(info.value)
    # The engine recovers: a good model loads and answers after the bad one.
    engine.load(smol_path, SETTINGS)
    _, _, done = ask(engine, "Say hi.")
    assert isinstance(done, Done)


@pytest.mark.parametrize("sig", [signal.SIGABRT, signal.SIGSEGV])
def test_a_crash_inside_the_engine_becomes_an_error_event(engine, smol_path, sig):
    engine.load(smol_path, GenerationSettings(seed=1, max_tokens=2000))
    events = engine.generate([{"role": "user", "content": "Write a long poem about the sea."}])
    crashed = None
    for event in events:
        if isinstance(event, Token) and crashed is None:
            os.kill(engine._process.pid, sig)  # what an abort() or a bad pointer in llama.cpp does
            crashed = True
        elif isinstance(event, (Done, Error)):
            final = event
    assert isinstance(final, Error) and final.kind == "crash"
    assert signal.Signals(sig).name in final.message and "safe" in final.message
    # Nothing is loaded any more, and a new load starts a fresh child.
    assert engine.loaded is None
    engine.load(smol_path, SETTINGS)
    _, _, done = ask(engine, "Say hi.")
    assert isinstance(done, Done)


def test_an_engine_killed_while_idle_is_reported_as_such_once_and_a_load_recovers(engine, smol_path):
    engine.load(smol_path, SETTINGS)
    assert engine.check_alive() is None
    pid = engine.pid
    os.kill(pid, signal.SIGKILL)  # what the system does to a process when memory runs out
    engine._process.join(10)
    lost = engine.check_alive()
    assert isinstance(lost, Error) and lost.kind == "crash"
    assert "ran low on memory" in lost.message and "SIGKILL" not in lost.message
    assert engine.loaded is None and engine.check_alive() is None  # said once
    # A question after that (no poll in between) is told the same, not "no model is loaded".
    engine.load(smol_path, SETTINGS)
    os.kill(engine.pid, signal.SIGKILL)
    engine._process.join(10)
    _, _, done = ask(engine, "Say hi.")
    assert isinstance(done, Error) and done.kind == "crash" and "waiting for a question" in done.message
    with pytest.raises(EngineError, match="No model is loaded"):
        engine.first_token_logprobs([{"role": "user", "content": "Yes?"}], ["Yes", "No"])
    engine.load(smol_path, SETTINGS)
    os.kill(engine.pid, signal.SIGKILL)
    engine._process.join(10)
    with pytest.raises(EngineError, match="stopped unexpectedly"):  # a document answer's check
        engine.first_token_logprobs([{"role": "user", "content": "Yes?"}], ["Yes", "No"])
    engine.load(smol_path, SETTINGS)
    _, _, done = ask(engine, "Say hi.")
    assert isinstance(done, Done)


def test_generate_without_a_model_is_an_error(engine):
    _, _, done = ask(engine, "hello")
    assert isinstance(done, Error) and "No model" in done.message


def test_leaving_a_stream_early_keeps_the_engine_ready(shared_engine, smol_path):
    shared_engine.load(smol_path, GenerationSettings(seed=1, max_tokens=500))
    for event in shared_engine.generate([{"role": "user", "content": "Count from 1 to 100."}]):
        if isinstance(event, Token):
            break  # e.g. a window closed mid-answer
    assert shared_engine.loaded is not None
    for event in shared_engine.generate([{"role": "user", "content": "Say hi."}], SETTINGS):
        if isinstance(event, Done):
            break  # leaving right after Done must not cost the loaded model
    assert shared_engine.loaded is not None
    text, _, done = ask(shared_engine, "Say hi.")
    assert isinstance(done, Done) and done.timings.prompt_tokens > 0


def test_score_gives_the_true_continuation_the_higher_probability(smol_core):
    engine = smol_core.engine
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    right = engine.score(messages, "The capital of France is Paris.")
    wrong = engine.score(messages, "The capital of France is Berlin.")
    assert len(right) == len(wrong) >= 6 and all(lp <= 0 for lp in right)
    assert right[:5] == pytest.approx(wrong[:5], abs=1e-3)  # same prefix, same probabilities
    assert sum(right) > sum(wrong) + 3
    # one pass for a choice among first words gives what scoring each word would
    options = ["The", "Paris", "Berlin"]
    each = [engine.score(messages, word)[0] for word in options]
    assert engine.first_token_logprobs(messages, options) == pytest.approx(each, abs=1e-3)
    # generating afterwards still works (the KV cache was left consistent)
    events = list(engine.generate(messages, GenerationSettings(max_tokens=8, temperature=0, seed=1)))
    assert isinstance(events[-1], Done) and events[-1].text


def test_core_loads_the_same_model_anew_after_its_engine_died(app_paths, starter_registry, engine):
    from assistant.chat import Finished
    from assistant.chat import ask as chat_ask
    from assistant.core import Core

    core = Core(app_paths, engine=engine)
    for model in starter_registry.values():
        core.registry.register(model)
    try:
        core.load_model(SMOL, GenerationSettings(max_tokens=8))
        first = engine.pid
        os.kill(first, signal.SIGKILL)
        engine._process.join(10)
        # The same model asked for again (the window's "Load again", the next command): not
        # "already loaded", a new child with it.
        core.load_model(SMOL, GenerationSettings(max_tokens=8))
        assert engine.pid != first and engine.holds_model()
        done = [e for e in chat_ask(core, "Say hi.") if isinstance(e, Finished)][0]
        assert done.message.status == "complete" and done.message.content.strip()
    finally:
        core.close()
