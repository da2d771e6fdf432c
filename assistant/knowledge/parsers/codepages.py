"""Short texts in a Cyrillic, Greek or Hebrew single-byte codepage, told apart by how word-like they read.

On a line or two charset-normalizer has no language evidence (coherence 0) and picks among
ties, often a multi-byte CJK codec ("Привет" in windows-1251 became Big5), or the wrong
alphabet for the same bytes (Hebrew as windows-1251). Every one of these codepages maps the
high bytes to letters, so the readings are judged as text instead: each word in one script,
in a sane letter case (not "дНЦН"), few stray symbols, and letters as frequent as in the
language (charset-normalizer's own frequency tables), which is what separates Hebrew read as
Cyrillic ("дзежд бъечу") from Russian.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from charset_normalizer.constant import FREQUENCIES

# Codec -> languages whose letter frequencies judge its reading. Latin codepages take part only
# as rivals: a Latin reading that is as good as the best other one means the text is not
# clearly Cyrillic, Greek or Hebrew, and the caller's Latin rules decide it.
_CANDIDATES = {
    "cp1251": ("Russian", "Ukrainian", "Bulgarian"),
    "koi8_r": ("Russian",),
    "cp1253": ("Greek",),
    "iso8859_7": ("Greek",),
    "cp1255": ("Hebrew",),
    "cp1252": ("English", "German", "French", "Spanish", "Italian", "Portuguese", "Dutch", "Swedish"),
    "cp1250": ("Czech", "Polish", "Hungarian", "Slovak", "Croatian", "Slovene", "Romanian"),
}
_LATIN = {"cp1252", "cp1250"}
_SAMPLE = 64 * 1024  # enough to judge; single-byte text can be cut anywhere
_WORD = re.compile(r"[^\W\d_]+")
# Non-ASCII characters that are not letters but are common in ordinary text.
_PUNCTUATION = set("\xa0«»–—‘’‚“”„…•·№°§€₪׳״")
# Letters no word starts with (Russian and Ukrainian), or only ends with (Hebrew final forms).
_NEVER_FIRST = set("ъьыЪЬЫ")
_ONLY_LAST = set("ςךםןףץ")
# windows-1251's letters for Serbian, Macedonian and Belarusian: no candidate language has
# them, and they are where other alphabets' bytes land ("Άρθρο" in windows-1253 reads "ўсисп").
_FOREIGN_LETTERS = set("ђѓѕјљњћќўџЂЃЅЈЉЊЋЌЎЏ")
_MAX_BAD_WORDS = 0.25
_MAX_ODD = 0.05
_MIN_FREQUENCY = 0.35


@dataclass(frozen=True)
class _Reading:
    text: str
    encoding: str
    score: float
    clean: bool


def read_short_codepage(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) in a Cyrillic, Greek or Hebrew codepage, if one reads clearly best.

    Only for text whose letters are mostly high bytes, as in these alphabets: Western text
    has mostly ASCII letters, and a lone "à" in it must not make it Cyrillic.
    """
    sample = data[:_SAMPLE]
    if sum(b >= 0x80 for b in sample) < sum(b < 0x80 and chr(b).isalpha() for b in sample):
        return None
    readings = [r for codec in _CANDIDATES if (r := _read(sample, codec)) is not None]
    clean = [r for r in readings if r.clean and r.encoding not in _LATIN]
    if not clean:
        return None
    best = max(clean, key=lambda r: r.score)  # max keeps the first of equals: _CANDIDATES order
    if any(r.score >= best.score for r in readings if r.encoding in _LATIN):
        return None
    try:
        return data.decode(best.encoding), best.encoding
    except UnicodeDecodeError:  # past the sample; not this codepage after all
        return None


def _read(data: bytes, codec: str) -> _Reading | None:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    # Hebrew points sit inside words; the words are judged by their letters.
    unpointed = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    words = [w for w in _WORD.findall(unpointed) if not w.isascii()]
    if not words:
        return None
    bad = sum(not _word_like(w) for w in words) / len(words)
    high = [i for i, ch in enumerate(text) if ch > "\x7f"]
    odd = sum(_odd(text, i) for i in high) / len(high)
    letters = "".join(words)
    frequency = max(_frequency(letters, language) for language in _CANDIDATES[codec])
    # Pointed Hebrew is rare, and KOI8-R's lowercase letters are windows-1255's points: a
    # point costs a little, so "Да" in KOI8-R is not "הֱ" (pointed text has no clean rival).
    points = (len(text) - len(unpointed)) / len(letters)
    return _Reading(
        text,
        codec,
        score=frequency - bad - 2 * odd - points / 2,
        clean=bad <= _MAX_BAD_WORDS and odd <= _MAX_ODD and frequency >= _MIN_FREQUENCY,
    )


def _script(ch: str) -> str:
    return unicodedata.name(ch, "?").split(" ", 1)[0]


def _word_like(word: str) -> bool:
    """One script, and lower, upper or title case (Hebrew has none); final forms only at the end."""
    if len({_script(ch) for ch in word}) > 1 or word[0] in _NEVER_FIRST or _ONLY_LAST & set(word[:-1]):
        return False
    if word.lower() == word.upper():
        return True
    return word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())


def _odd(text: str, i: int) -> bool:
    """A non-ASCII character that ordinary text rarely holds: a control or stray symbol, a
    Hebrew point that is not on a Hebrew letter, or an apostrophe that opens a word (as
    ISO-8859-7 reads windows-1253's "Ά")."""
    ch = text[i]
    if ch == "’":
        return not i or text[i - 1].isspace()
    if ch.isalpha() or ch in _PUNCTUATION:
        return False
    if unicodedata.category(ch) == "Mn":  # a letter may carry several: a vowel and a dot
        base = i - 1
        while base >= 0 and unicodedata.category(text[base]) == "Mn":
            base -= 1
        return not (base >= 0 and text[base].isalpha() and _script(text[base]) == "HEBREW")
    return True


def _frequency(letters: str, language: str) -> float:
    """How common the letters are in `language`: 1 for its most frequent, 0 for unlisted ones,
    -1 for one from another alphabet."""
    weights = _weights(language)
    return sum(-1.0 if ch in _FOREIGN_LETTERS else weights.get(ch, 0.0) for ch in letters.lower()) / len(
        letters
    )


@cache
def _weights(language: str) -> dict[str, float]:
    ranked = FREQUENCIES[language]
    return {ch: 1 - rank / len(ranked) for rank, ch in enumerate(ranked)}
