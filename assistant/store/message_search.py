"""Conversation search for Chinese, Japanese and Korean words.

The messages' FTS5 index (porter over unicode61) makes one token of a whole run of these scripts up
to the next punctuation mark, so a word inside a sentence ("违约金" in "违约金为合同总额的百分之二十")
was never found. A query holding such a run is answered by finding its words as written in the
messages, as a browser's Find does: a conversation history is small enough to read whole (about
10 ms for 10,000 messages), so it needs no second index.
"""

from __future__ import annotations

import re

from assistant.knowledge.cjk import CJK_RUN

_WORD = re.compile(r"\w+")
_AROUND = 24  # characters of context either side of the first hit, as FTS5's snippet gives words


def has_cjk(query: str) -> bool:
    return CJK_RUN.search(query) is not None


def needles(query: str) -> list[str]:
    """What must appear in a message: each CJK run as written, and each word or number of other
    scripts, also when it is written against a run ("第709条" needs "第", "709" and "条")."""
    found = []
    for word in _WORD.findall(query):
        found += [piece for piece in re.split(f"({CJK_RUN.pattern})", word) if piece]
    return list(dict.fromkeys(found))


def search_written(db, query: str, limit: int) -> list[dict]:
    """Messages holding every needle of `query` (case-insensitive for Latin letters), newest first,
    in the shape of the FTS search's hits."""
    wanted = needles(query)
    if not wanted:
        return []
    where = " and ".join("instr(lower(messages.content), ?) > 0" for _ in wanted)
    sql = f"""
        select messages.id, messages.conversation_id, messages.role, conversations.title, messages.content
        from messages join conversations on conversations.id = messages.conversation_id
        where {where} order by messages.id desc limit ?
    """
    rows = db.execute(sql, [*(w.lower() for w in wanted), limit]).fetchall()
    return [{"id": i, "conversation_id": cid, "role": role, "title": title, "snippet": snippet(content, wanted)}
            for i, cid, role, title, content in rows]


def snippet(content: str, wanted: list[str]) -> str:
    """The text around the first hit with each hit in [brackets], as FTS5's snippet() marks them."""
    lowered = content.lower()
    first = min(lowered.find(w.lower()) for w in wanted)
    start, end = max(0, first - _AROUND), min(len(content), first + _AROUND * 2)
    window = content[start:end]
    marked = re.sub("|".join(re.escape(w) for w in sorted(wanted, key=len, reverse=True)),
                    lambda m: f"[{m.group(0)}]", window, flags=re.IGNORECASE)
    return ("…" if start else "") + " ".join(marked.split()) + ("…" if end < len(content) else "")
