"""Citation markers [n] in an answer: which ones cite a source, one rule for the stored answer
(assistant.answer) and for the links the chat view draws (ui/chat_view.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

# [n], not a Markdown link's text "[1](url)".
CITATION_RE = re.compile(r"\[(\d{1,2})\](?!\()")
CITATION_GROUP_RE = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})+)\](?!\()")  # [1, 2]
# Code is quoted, not cited: "a[1]" in a code block names no source.
CODE_RE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]*`", re.DOTALL)


def outside_code(text: str, change: Callable[[str], str]) -> str:
    """`text` with `change` applied to what lies outside code spans and blocks."""
    out, cursor = [], 0
    for code in CODE_RE.finditer(text):
        out += [change(text[cursor:code.start()]), code.group(0)]
        cursor = code.end()
    return "".join(out) + change(text[cursor:])


def separate_citations(answer: str) -> str:
    """"[1, 2]" as "[1][2]": the form the chat view makes links of, one per source."""
    return outside_code(answer, lambda part: CITATION_GROUP_RE.sub(
        lambda m: "".join(f"[{n.strip()}]" for n in m.group(1).split(",")), part))


UNKNOWN_RE = re.compile(r"[ \t]?" + CITATION_RE.pattern)  # a marker with the space before it


def drop_unknown_citations(answer: str, n_sources: int, quoted: str) -> str:
    """`answer` without the markers that name no source ("[12]" when three were shown): a number the
    model made up would read as a citation that opens nothing. One that `quoted` (the text the model
    was shown) holds itself, such as a footnote mark it copied, is kept."""
    def keep(m: re.Match) -> str:
        return m.group(0) if 1 <= int(m.group(1)) <= n_sources or f"[{m.group(1)}]" in quoted else ""
    return outside_code(answer, lambda part: UNKNOWN_RE.sub(keep, part))


def cited_numbers(answer: str, n_sources: int) -> list[int]:
    prose = CODE_RE.sub(" ", separate_citations(answer))
    return sorted({int(m) for m in CITATION_RE.findall(prose) if 1 <= int(m) <= n_sources})
