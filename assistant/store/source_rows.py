"""Reading a stored document answer: where each source is, the sentences it showed the model, and
whether the yes/no check held the answer back. One reading for the Sources panel and the export."""

from __future__ import annotations


def source_place(row: dict, dash: str = "–") -> str:
    """Where in its file a source is: page(s), else line(s); '' when neither was recorded. A cited
    passage that runs over pages is placed on the page of the sentence the answer drew on."""
    page, page_end, cited = row.get("page"), row.get("page_end"), row.get("cited_page")
    if page and cited:
        first, last = min(page, cited), max(page_end or page, cited)
        return f"page {cited}" if first == last else f"page {cited} (passage: pages {first}{dash}{last})"
    if page:
        return f"page {page}" if page_end in (None, page) else f"pages {page}{dash}{page_end}"
    first, last = row.get("line_start"), row.get("line_end")
    if first:
        return f"line {first}" if last in (None, first) else f"lines {first}{dash}{last}"
    return ""


def page_at(row: dict, offset: int) -> int | None:
    """The page of the character at `offset` in a source's text (None: the file has no pages)."""
    page = row.get("page")
    for start, number in row.get("page_breaks") or []:
        if start > offset:
            break
        page = number
    return page


def evidence_lines(row: dict) -> list[str]:
    """The sentences of this passage the model was shown (answers before sentence selection: none),
    each after its page when the passage runs over a page break."""
    text = row.get("text") or ""
    paged = bool(row.get("page_breaks"))
    return [(f"(page {page_at(row, a)}) " if paged else "") + " ".join(text[a:b].split())
            for a, b in row.get("evidence") or [] if 0 <= a < b <= len(text)]


def only_checked(details: dict | None) -> bool:
    """True when the yes/no check held the answer back: the numbered passages went to the check,
    and no prompt went to the model."""
    details = details or {}
    return details.get("abstained") == "model" and not details.get("prompt")
