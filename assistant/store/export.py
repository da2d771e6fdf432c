"""A conversation as a file: Markdown to read (what the user asked, what each model answered, its
sources and how they were chosen), or JSON for a program (see export_json)."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from assistant.store.conversations import Conversations, Message
from assistant.store.export_audit import fenced, legend_markdown, score_summary, timings_summary
from assistant.store.export_json import conversation_json_text
from assistant.store.source_rows import evidence_lines, only_checked, source_place


def _source_line(row: dict, details: dict | None) -> str:
    where = Path(row.get("path") or "?").name
    if place := source_place(row, dash="-"):
        where += f", {place}"
    if row.get("heading"):
        where += f" ({row['heading']})"
    cited = " (cited)" if row.get("cited") else ""
    mark = f"[{row.get('number')}] " if row.get("in_prompt") else ""
    # The sentences the model read, quoted: a reader of the file checks the answer against them.
    quotes = evidence_lines(row)
    # The scores as a nested item: a plain line after a quote would continue the quote.
    return "\n".join([f"- {mark}{where}{cited}", *(f"  > {q}" for q in quotes if q),
                      f"  - {score_summary(row, details)}"])


def _started(stamp: str | None) -> str:
    """The store's UTC time as the reader's local time (UTC unmarked read as an hour or more off)."""
    try:
        return datetime.fromisoformat(stamp or "").astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(stamp or "")[:16].replace("T", " ")


def _abstained(message: Message) -> tuple[str, str]:
    """(why there is no answer, or ''; what the numbered passages were for)."""
    details = message.details or {}
    kind, reason = details.get("abstained"), details.get("abstain_reason") or ""
    if only_checked(details):
        return f"No answer: the yes/no check held it back. {reason}".strip(), "Passages the check read:"
    if kind:
        return f"No answer. {reason}".strip(), "Sources:"
    return "", "Sources:"


def _answer_note(message: Message, model_names: Mapping[str, str]) -> str:
    """Which model answered, by the name the app shows for it, and how fast (the timings line has the rest)."""
    parts = [model_names.get(message.model, message.model) if message.model else "unknown model"]
    if message.tokens_per_s:
        parts.append(f"{message.tokens_per_s:.1f} tokens/s")
    if message.status == "stopped":
        parts.append("stopped")
    elif message.status == "error":
        parts.append(f"error: {message.error or 'the answer failed'}")
    return " · ".join(parts)


def _answer_lines(message: Message, model_names: Mapping[str, str]) -> list[str]:
    """An answer, then for an auditor: its timings, the sources it was given (numbered as it cites
    them), those retrieved but not given, and the prompt the model read."""
    why, heading = _abstained(message)
    lines = ["## Assistant", "", message.content.strip() or "_(no text)_", "", f"_{_answer_note(message, model_names)}_", ""]
    if timings := timings_summary(message):
        lines += [f"_{timings}_", ""]
    if why:
        lines += [f"_{why}_", ""]
    details = message.details or {}
    rows = message.sources or []
    given = sorted((r for r in rows if r.get("in_prompt")), key=lambda r: r.get("number") or 0)
    if given:
        lines += [heading, "", *(_source_line(r, details) for r in given), ""]
    others = sorted((r for r in rows if not r.get("in_prompt")), key=lambda r: r.get("rank") or 0)
    if others:
        lines += ["Retrieved but not shown to the model:", "", *(_source_line(r, details) for r in others), ""]
    if details.get("prompt"):
        lines += ["The prompt the model read, exactly (its chat template included):", "",
                  fenced(details["prompt"]), ""]
    return lines


def conversation_markdown(store: Conversations, conversation_id: int,
                          model_names: Mapping[str, str] | None = None) -> str:
    """The conversation as Markdown. Answers keep their own Markdown; under each are its timings, the
    sources a document answer was given, numbered as it cites them, with their scores, the sources
    retrieved but not given, and the prompt; what the scores mean is said once, at the end.
    `model_names` maps a model's id to the name the reader knows it by; an id it lacks is written as it is."""
    conversation = store.get(conversation_id)
    if conversation is None:
        raise KeyError(f"no conversation {conversation_id}")
    lines = [f"# {conversation['title'] or 'Untitled'}", "",
             f"_Exported from Assistant. Started {_started(conversation.get('created_at'))}._",
             ""]
    audited = False
    for message in store.messages(conversation_id):
        if message.role == "user":
            lines += ["## You", "", message.content.strip(), ""]
        elif message.role == "assistant":
            lines += _answer_lines(message, model_names or {})
            audited = audited or bool(message.sources)  # the legend explains sources; a plain chat has none
    if audited:
        lines += legend_markdown()
    return "\n".join(lines).rstrip() + "\n"


FORMATS = {"markdown": ".md", "json": ".json"}
_SUFFIX_FORMATS = {".md": "markdown", ".markdown": "markdown", ".json": "json"}


def export_filename(title: str | None, fmt: str = "markdown") -> str:
    """A file name made from the title, safe on every desktop file system."""
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title or "").strip(" .")
    stem = re.sub(r"\s+", " ", stem)[:80].strip() or "conversation"
    return stem + FORMATS[fmt]


def export_target(path: Path | str, chosen: str = "markdown") -> tuple[Path, str]:
    """(where to write, which format) for a name the user gave and the file type they chose. A name
    ending .md or .json says the format itself, so the file holds what its name says; a name with no
    extension gets the chosen type's; any other keeps its name and takes the chosen type."""
    path = Path(path)
    if fmt := _SUFFIX_FORMATS.get(path.suffix.lower()):
        return path, fmt
    if not path.suffix or not path.suffix[1:].isalpha():  # "Budget v2.1": a version, not a file type
        return path.with_name(path.name + FORMATS[chosen]), chosen
    return path, chosen


def write_replacing(target: Path | str, data: bytes) -> Path:
    """Write `data` to `target` whole or not at all: into a new file beside it, flushed to the disk,
    then renamed over it. A full disk or a crash midway leaves any earlier file as it was, and no
    partial file behind. OSError reaches the caller."""
    target = Path(target)
    # A name of our own in the same folder: a rename within one file system is atomic, and a second
    # export of the same name at once cannot write into this one's file.
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    # 0o666 through the umask, as a plain open() would make it; a replaced file keeps its own mode.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def export_conversation(store: Conversations, conversation_id: int, target: Path | str,
                        fmt: str | None = None, model_names: Mapping[str, str] | None = None) -> Path:
    """Write the conversation to `target` as `fmt` (default: JSON for a .json name, else Markdown),
    replacing any file there whole, never leaving it half-written. The Markdown names models as
    `model_names` does (see conversation_markdown); the JSON, for programs, keeps their ids."""
    fmt = fmt or export_target(target)[1]
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    text = conversation_json_text(store, conversation_id) if fmt == "json" else \
        conversation_markdown(store, conversation_id, model_names)
    return write_replacing(target, text.encode("utf-8"))
