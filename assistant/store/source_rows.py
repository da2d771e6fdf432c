"""Reading a stored document answer: where each source is, the sentences it showed the model, and
whether the yes/no check held the answer back. One reading for the Sources panel and the export."""

from __future__ import annotations


def source_place(row: dict, dash: str = "–") -> str:
    """Where in its file a source is: page(s), else line(s); '' when neither was recorded."""
    page, page_end = row.get("page"), row.get("page_end")
    if page:
        return f"page {page}" if page_end in (None, page) else f"pages {page}{dash}{page_end}"
    first, last = row.get("line_start"), row.get("line_end")
    if first:
        return f"line {first}" if last in (None, first) else f"lines {first}{dash}{last}"
    return ""


def evidence_lines(row: dict) -> list[str]:
    """The sentences of this passage the model was shown (answers before sentence selection: none)."""
    text = row.get("text") or ""
    return [" ".join(text[a:b].split()) for a, b in row.get("evidence") or [] if 0 <= a < b <= len(text)]


def only_checked(details: dict | None) -> bool:
    """True when the yes/no check held the answer back: the numbered passages went to the check,
    and no prompt went to the model."""
    details = details or {}
    return details.get("abstained") == "model" and not details.get("prompt")
