"""The window's texts, checked without Qt."""

from __future__ import annotations

from pathlib import Path

from assistant.models.registry import InstalledModel
from assistant.store.conversations import Message
from assistant.ui.formatting import (
    answer_meta,
    answer_timings,
    human_size,
    model_label,
    models_by_size,
    status_for_loaded,
)


def _model(name, size):
    return InstalledModel(name=name, kind="chat", display_name=name.title(), path=Path(f"/m/{name}.gguf"),
                          size_bytes=size, sha256="0" * 64, source="starter")


def _answer(**fields):
    base = dict(id=1, conversation_id=1, role="assistant", content="hi", status="complete", model="m")
    return Message(**(base | fields))


def test_sizes_and_labels():
    assert human_size(98_362_432) == "98 MB"
    assert human_size(1_117_320_768) == "1.1 GB"
    assert human_size(None) == "?"
    big, small = _model("big", 2_000_000_000), _model("small", 100_000_000)
    assert models_by_size([big, small]) == [small, big]
    assert model_label(small) == "Small  ·  100 MB"


def test_answer_meta_names_model_speed_and_ending():
    done = _answer(tokens_per_s=42.456, ttft_s=0.1234, total_s=3.44)
    assert answer_meta(done, "SmolLM2") == "SmolLM2  ·  answered in 3.4 s  ·  42 tokens/s"
    # Slow speeds keep a decimal; without a total, the time to the first words stands in for it.
    assert answer_meta(_answer(tokens_per_s=4.56, ttft_s=1.23)) == "m  ·  first words after 1.2 s  ·  4.6 tokens/s"
    assert "tok/s" not in answer_meta(done) and "token " not in answer_meta(done)
    # The tooltip explains the numbers, and keeps the time to the first words.
    assert answer_timings(done).splitlines() == [
        "The model took 3.4 s to write this answer.",
        "Its first words came after 0.12 s (reading the question and any passages from your documents).",
        "It wrote 42.5 tokens a second; a token is a short word or part of a longer one."]
    assert answer_timings(_answer()) == ""
    assert answer_meta(_answer(status="stopped")).endswith("stopped")
    assert answer_meta(_answer(status="error", error="engine crashed")).endswith("error: engine crashed")
    cut = _answer(error="The answer reached the maximum length and was cut off.")
    assert "cut off" in answer_meta(cut)
    assert answer_meta(_answer(model=None)).startswith("unknown model")


def test_status_for_loaded():
    assert status_for_loaded(None) == "No model loaded"
    assert status_for_loaded(_model("smol", 1), 0.31) == "Smol ready (loaded in 0.3 s)"
