"""Chinese, Japanese and Korean text as searchable terms: overlapping character bigrams.

These scripts do not put spaces between words, and FTS5's unicode61 tokenizer makes one token of
a whole run of them up to the next punctuation mark ("合同终止通知期限为三十天"), so no word inside
it could be found. Each run is indexed instead as its overlapping pairs of characters (the usual
approach of search engines without a dictionary: "违约金" is "违约 约金"), in a column of its own,
followed by its last character alone. That last token lets a one-character query find the
character at the end of a run (every character starts a token), and it keeps the pairs of two
runs apart: "...abc。cde..." does not hold the phrase "ab bc cd".

Han (with 々 〆 〇), Hiragana, Katakana (full and half width) and Hangul syllables are treated
alike: Korean puts spaces between words, but particles stick to them ("계약은", "계약을"), so its
pairs find "계약" in both.
"""

from __future__ import annotations

import re

CJK_CHARS = ("\u3005-\u3007"  # 々 〆 〇
             "\u3040-\u309f"  # Hiragana
             "\u30a1-\u30fa\u30fc-\u30ff"  # Katakana (with ー; not ゠ or ・, which separate words)
             "\u31f0-\u31ff"  # Katakana phonetic extensions
             "\u3400-\u4dbf"  # Han extension A
             "\u4e00-\u9fff"  # Han
             "\uac00-\ud7af"  # Hangul syllables
             "\uf900-\ufaff"  # Han compatibility
             "\uff66-\uff9f"  # half-width Katakana
             "\U00020000-\U0003134f")  # Han extensions B to G
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
_HIRAGANA = re.compile("[\u3040-\u309f]")


def runs(text: str) -> list[str]:
    return CJK_RUN.findall(text)


def bigrams(run: str) -> list[str]:
    """The overlapping pairs of a run's characters; a run of one character is itself."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i:i + 2] for i in range(len(run) - 1)]


_WORD = re.compile(r"\w+")


def index_terms(*texts: str | None) -> str | None:
    """What the search index holds for the CJK runs of `texts`: each run's pairs, then its last
    character; and the letters and digits written against a run ("第709条", "使用Python"), which the
    tokenizer would keep inside one token with it, so "709" could never be found. None when there
    are no runs (text in other scripts needs no column)."""
    tokens = []
    for text in texts:
        for word in _WORD.findall(text or ""):
            pieces = CJK_RUN.split(word)
            if len(pieces) == 1:
                continue  # no CJK in it: the text column finds it
            for run in runs(word):
                tokens += bigrams(run) if len(run) == 1 else [*bigrams(run), run[-1]]
            tokens += [p for p in pieces if p]
    return " ".join(tokens) if tokens else None


def without_runs(text: str) -> str:
    """`text` with its CJK runs blanked out: what is left to split into words as before."""
    return CJK_RUN.sub(" ", text)


def query_runs(text: str) -> list[str]:
    """The runs of a query worth searching for: a lone Hiragana character is a particle
    ("の", "を", "は"), which matches nearly every Japanese passage, so it is left out."""
    return [r for r in runs(text) if not (len(r) == 1 and _HIRAGANA.match(r))]
