"""Text the sources panel shows, as plain functions (no Qt, so tests need no widget)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from assistant.knowledge.highlight import term_spans
from assistant.store.conversations import Message
from assistant.store.export_audit import LEGEND
from assistant.store.source_rows import only_checked, source_place

PART_NAMES = (("system", "System prompt"), ("history", "Earlier conversation"), ("sources", "Sources"),
              ("question", "Question"))
MARK_STYLE = "background-color:#fde68a; color:#111827;"
_LINE_BREAK_RE = re.compile(r"(?<!\n)\n(?!\n)")
# A label wraps only where a line may break. A run with no such place (a contract's signature line
# of underscores, a long reference) was as wide as the card had to be, and the panel cut every
# card's right edge off; a zero-width space every so often lets it wrap there.
# An HTML entity counts as one character, so this serves rich text too (the chat's answers).
_UNBROKEN_RE = re.compile(r"(?:&#?\w+;|[^\s/-])+")
_UNIT_RE = re.compile(r"&#?\w+;|.", re.DOTALL)
ZERO_WIDTH_SPACE = "\u200b"
BREAK_EVERY = 20  # about 170 px of code, so a run fits even the narrowest chat or sources column


def breakable(text: str) -> str:
    """`text` with a zero-width space after every BREAK_EVERY characters of a run a line cannot
    break in; an entity such as '&amp;' is never split."""
    def split(match: re.Match) -> str:
        units = _UNIT_RE.findall(match.group(0))
        if len(units) <= BREAK_EVERY:
            return match.group(0)
        return ZERO_WIDTH_SPACE.join("".join(units[i:i + BREAK_EVERY]) for i in range(0, len(units), BREAK_EVERY))
    return _UNBROKEN_RE.sub(split, text)


def source_title(row: dict) -> str:
    name = Path(row.get("path") or "?").name
    place = source_place(row)
    return f"{name} · {place}" if place else name


def _score(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def score_line(row: dict) -> str:
    """The best sentence's match (with a little of the fused score, what orders a document answer's
    passages), the fused score, then each retriever's score with the rank it gave (– when it missed)."""
    scores, ranks = row.get("scores") or {}, row.get("ranks") or {}
    parts = [f"best sentence {_score(scores['sentence'])}"] if "sentence" in scores else []
    parts.append(f"fused {_score(scores.get('fused'))}")
    for name in ("keyword", "vector"):
        text = f"{name} {_score(scores.get(name))}"
        if ranks.get(name):
            text += f" (#{ranks[name]})"
        parts.append(text)
    return "  ·  ".join(parts)


_MEANING = dict(LEGEND)


def score_tooltip(row: dict) -> str:
    """What each number of score_line(row) is and how to read it, as rich text. The words are the
    export's legend (store/export_audit.py), which follows the code that makes each score."""
    names = ["keyword", "vector", "fused"] + (["best sentence"] if "sentence" in (row.get("scores") or {}) else [])
    lines = [f"<p><b>{name}</b>: {html.escape(_MEANING[name], quote=False)}</p>" for name in names]
    return "<p>How this passage matched the question. Higher is better for every score.</p>" + "".join(lines)


def highlighted_html(text: str, terms: list[str], limit: int | None = None, *, join_lines: bool = True) -> str:
    """`text` as escaped rich text with the question's terms marked; cut at `limit` characters.
    With `join_lines` (a PDF's text: its lines are where the page ran out), line breaks inside a
    paragraph become spaces, so the excerpt wraps evenly. Elsewhere a line break means something:
    joined, a CSV's header ran into its first row and a list's items into one another."""
    if join_lines:
        text = _LINE_BREAK_RE.sub(" ", text)
    shown = text if limit is None or len(text) <= limit else text[:limit].rstrip() + "…"
    out, cursor = [], 0
    for start, end in term_spans(shown, terms):
        out.append(html.escape(breakable(shown[cursor:start])))
        out.append(f'<span style="{MARK_STYLE}">{html.escape(breakable(shown[start:end]))}</span>')
        cursor = end
    out.append(html.escape(breakable(shown[cursor:])))
    return "".join(out).replace("\n", "<br>")


def timing_line(message: Message) -> str:
    """Retrieval, prompt processing, first token and generation speed: whatever was recorded."""
    details = message.details or {}
    parts = []
    if details.get("retrieval_ms") is not None:
        parts.append(f"retrieval {details['retrieval_ms']:.0f} ms")
    if details.get("answer_belief") is not None and details.get("check_ms") is not None:
        by = details.get("check_model")
        parts.append(f"check {details['check_ms']:.0f} ms: yes {details['answer_belief']:.2f}"
                     + (f", threshold {details['check_threshold']:.2f}" if details.get("check_threshold") is not None
                        else "")
                     + (f", by {by}" if by and by != message.model else ""))
    if details.get("prompt_s") is not None:
        text = f"prompt {details['prompt_s']:.2f} s"
        if message.prompt_tokens:
            text += f" ({message.prompt_tokens} tokens"
            text += f", {details['cached_tokens']} cached)" if details.get("cached_tokens") else ")"
        parts.append(text)
    if message.ttft_s is not None:
        parts.append(f"first token {message.ttft_s:.2f} s")
    if message.tokens_per_s:
        parts.append(f"{message.tokens_per_s:.1f} tokens/s")
    if message.total_s:
        parts.append(f"total {message.total_s:.2f} s")
    if details.get("restated_s") is not None:
        parts.append(f"after a first answer that repeated the question ({details['restated_s']:.2f} s)")
    return "  ·  ".join(parts)


def abstain_text(details: dict | None) -> str:
    """Why the assistant did not answer, or '' when it did."""
    details = details or {}
    kind = details.get("abstained")
    if not kind:
        return ""
    reason = details.get("abstain_reason") or ""
    if kind == "retrieval":
        return f"No answer: the model was not asked, because no source is good enough. {reason}".strip()
    if kind == "model" and only_checked(details):
        return f"No answer: the yes/no check held it back, so the model was not asked. {reason}".strip()
    if kind == "model":
        return f"No answer: the model could not find it in the sources. {reason}".strip()
    return f"No answer. {reason}".strip()


def check_problem_text(details: dict | None) -> str:
    """Why the chosen check model did not check this answer (it is not installed, does not fit in
    memory, or failed), or '' when nothing went wrong."""
    problem = (details or {}).get("check_error")
    return f"Check: {problem}" if problem else ""


def prompt_parts(details: dict | None) -> list[tuple[str, int]]:
    """(label, token count) per part of the prompt, in prompt order, for the parts recorded."""
    recorded = (details or {}).get("prompt_parts") or {}
    return [(label, int(recorded[key])) for key, label in PART_NAMES if recorded.get(key) is not None]


def no_prompt_reason(message: Message) -> str:
    """Why an answer has no prompt to show ('' when it has one)."""
    details = message.details or {}
    if details.get("prompt"):
        return ""
    if details.get("abstained") == "retrieval":
        return "The model was not asked: no passage was good enough."
    if only_checked(details):
        return "The model was not asked to answer: only the yes/no check read the passages."
    if message.status == "streaming":
        return "The answer is still being written."
    if message.status in ("stopped", "error"):
        return "The answer ended before the model reported its prompt."
    return "Only answers from your documents keep their prompt."


def panel_summary(message: Message) -> str:
    rows = message.sources or []
    used = sum(1 for r in rows if r.get("in_prompt"))
    cited = sum(1 for r in rows if r.get("cited"))
    if not rows:
        return "This answer used no documents."
    where = "read by the check" if only_checked(message.details) else "in the prompt"
    summary = f"{len(rows)} passages retrieved · {used} {where} · {cited} cited"
    restated = (message.details or {}).get("restated")
    if restated:
        summary += f"\nThe first answer only repeated the question (“{restated.strip()}”), so the model was asked again."
    return summary
