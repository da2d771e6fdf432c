"""Text the window shows, as plain functions (no Qt here, so tests need no window)."""

from __future__ import annotations

from assistant.models.registry import InstalledModel
from assistant.models.units import size_text
from assistant.store.conversations import Message


def human_size(n_bytes: int | None) -> str:
    return size_text(n_bytes) if n_bytes else "?"


def model_label(model: InstalledModel) -> str:
    """What the model picker shows: the display name and the file size."""
    return f"{model.display_name}  ·  {human_size(model.size_bytes)}"


def models_by_size(models: list[InstalledModel]) -> list[InstalledModel]:
    return sorted(models, key=lambda m: (m.size_bytes or 0, m.display_name))


def rate(tokens_per_s: float) -> str:
    """A speed with the precision it deserves: 0.6, 8.5, 45."""
    return f"{tokens_per_s:.1f}" if tokens_per_s < 10 else f"{tokens_per_s:.0f}"


def answer_meta(message: Message, model_name: str | None = None) -> str:
    """The line under an answer: model, how long it took, its speed, and how it ended. Short; the
    timings in full are in answer_timings (the line's tooltip)."""
    parts = [model_name or message.model or "unknown model"]
    if message.total_s:
        parts.append(f"answered in {message.total_s:.1f} s")
    elif message.ttft_s is not None:
        parts.append(f"first words after {message.ttft_s:.1f} s")
    if message.tokens_per_s:
        parts.append(f"{rate(message.tokens_per_s)} tokens/s")
    if message.status == "stopped":
        parts.append("stopped")
    elif message.status == "error":
        parts.append(f"error: {message.error or 'the answer failed'}")
    elif message.status == "streaming":
        parts.append("writing…")
    elif message.error:  # complete, with a remark (e.g. cut off at the length limit)
        parts.append(message.error)
    return "  ·  ".join(parts)


def answer_timings(message: Message) -> str:
    """What the meta line's numbers mean, with the time to the first words; '' when none were measured."""
    lines = []
    if message.total_s:
        lines.append(f"The model took {message.total_s:.1f} s to write this answer.")
    if message.ttft_s is not None:
        lines.append(f"Its first words came after {message.ttft_s:.2f} s (reading the question and any "
                     "passages from your documents).")
    if message.tokens_per_s:
        lines.append(f"It wrote {message.tokens_per_s:.1f} tokens a second; a token is a short word or "
                     "part of a longer one.")
    return "\n".join(lines)


def status_for_loaded(model: InstalledModel | None, load_s: float | None = None) -> str:
    if model is None:
        return "No model loaded"
    if load_s is None:
        return f"{model.display_name} ready"
    return f"{model.display_name} ready (loaded in {load_s:.1f} s)"


def repair_progress(name: str, done: int, total: int) -> str:
    pct = int(done * 100 / total) if total else 100
    return f"Repairing models: {name} {pct}%"
