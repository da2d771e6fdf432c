"""Which words of a question to highlight in a passage, and where they are.

The sources panel marks the question's content words in each excerpt so the
user sees at a glance why a passage was retrieved. Matching is whole-word-ish:
case-insensitive, at word boundaries, tolerant of the common English endings
("renting" marks "rent", "rents" and "rental"), exact for numbers.
"""

from __future__ import annotations

import re

from assistant.knowledge.retriever import STOPWORDS

TERM_RE = re.compile(r"\d[\d,.]*\d|\w+")
# Words that shape a question without naming what it is about ("how much", "tell me").
QUESTION_WORDS = frozenset("much many long often tell please say says said give show find know also get".split())
_ENDINGS = ("ing", "ed", "es", "s")
# What may follow a stem and still count as the same word.
_SUFFIX = r"(?:e|s|es|ed|ing|er|ers|al|ly)?"


def question_terms(question: str) -> list[str]:
    """The question's content words, lowercased, once each, in the order they appear."""
    terms = []
    for token in TERM_RE.findall(question.lower()):
        token = token.rstrip(".,")
        if token in STOPWORDS or token in QUESTION_WORDS or (len(token) < 2 and not token.isdigit()):
            continue
        terms.append(token)
    return list(dict.fromkeys(terms))


def _stem(term: str) -> str:
    if len(term) > 4 and not any(c.isdigit() for c in term):
        for ending in _ENDINGS:
            if term.endswith(ending) and len(term) - len(ending) >= 3:
                return term[: -len(ending)]
    return term


def terms_pattern(terms: list[str]) -> re.Pattern | None:
    if not terms:
        return None
    words, numbers = [], []
    for term in terms:
        if any(c.isdigit() for c in term):
            numbers.append(re.escape(term))
        else:
            words.append(re.escape(_stem(term)) + _SUFFIX)
    # Longest first, so "rental" wins over "rent" where both are terms.
    alternatives = sorted(words + numbers, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def term_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) character spans of the terms in `text`, in order."""
    pattern = terms_pattern(terms)
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
