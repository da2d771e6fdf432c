"""Latin-script single-byte codepages, told apart by the letters each reading gives.

windows-1252 is the default for Latin text (text.py), but the same bytes are Czech or Polish in
windows-1250 and German in Mac Roman. Read in the wrong codepage, a text holds letters that no
one language has together ("Jiøí Dvoøák": Norwegian ø beside Spanish í), symbols inside words
("£odzi", "Grš§e") or a change of case inside a word ("FlŠche"). Each reading is judged by how
many of its non-ASCII characters are such, for the language that fits it best; windows-1252
keeps the text unless a rival reads clearly better, so weak evidence changes nothing ("Kč" in
windows-1250 reads "Kè", a French or Italian letter, in windows-1252).

ASCII letters are not judged: they are the same in every reading.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

# Lowercase letters beyond ASCII of the languages written in these codepages. An alphabet, not
# a frequency table: a rare letter of a language is as much its own as a common one.
_ALPHABETS = {
    "German": "äöüß",
    "French": "àâæçéèêëîïôœùûüÿ",
    "Spanish": "áéíñóúü",
    "Portuguese": "àáâãçéêíóôõú",
    "Italian": "àèéìíîòóùú",
    "Catalan": "àçèéíïòóúü",
    "Dutch": "áäéèëêíïóöúü",
    "Swedish": "åäöé",
    "Danish": "æøåéèóòô",  # and Norwegian
    "Finnish": "äöåšž",
    "Icelandic": "áéíóúýþæöð",
    "Estonian": "äöõüšž",
    "Czech": "áčďéěíňóřšťúůýž",
    "Slovak": "áäčďéíĺľňóôŕšťúýž",
    "Polish": "ąćęłńóśźż",
    "Hungarian": "áéíóöőúüű",
    "Croatian": "čćđšž",  # and Slovene, Bosnian, Serbian in Latin letters
    "Romanian": "ăâîşţșț",
    "Lithuanian": "ąčęėįšųūž",
    "Latvian": "āčēģīķļņšūž",
    "Turkish": "çğıöşüâîûİ",
}
_WESTERN = ("German", "French", "Spanish", "Portuguese", "Italian", "Catalan", "Dutch", "Swedish",
            "Danish", "Finnish", "Icelandic", "Estonian")  # fmt: skip
_CENTRAL = ("Czech", "Slovak", "Polish", "Hungarian", "Croatian", "Romanian", "German")
# Codec -> the languages its text may be in. windows-1252 first: it wins ties.
CODEPAGES = {
    "cp1252": _WESTERN,
    "cp1250": _CENTRAL,
    "iso8859_2": _CENTRAL,  # Central European on Unix; windows-1250's rival for the same letters
    "iso8859_15": _WESTERN,  # Latin-9: its euro sign is windows-1252's "¤"
    "cp1257": ("Lithuanian", "Latvian", "Estonian", "German"),
    "cp1254": ("Turkish", "German"),
    "mac_roman": _WESTERN,  # old Mac files: "Größe" is windows-1252's "Grš§e"
}
_SAMPLE = 64 * 1024
_CLEAN = 0.1  # a rival reading may hold at most this share of implausible characters ...
_MARGIN = 0.1  # ... and must have this share (and at least two) fewer than the default's

_HIGH = bytes(range(0x80, 0x100))
_ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_WORD = re.compile(r"[^\W\d_ºªµ]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Non-letters of ordinary office text. "µ" and the ordinals are letters to Python, symbols here.
_SYMBOLS = set("«»‹›–—‘’‚“”„…•·°§€£¥¢©®™±×÷²³¹½¼¾‰†¶¿¡ºªµ\ufeff")
# Symbols that may touch a word's start, or sit between two letters (l’hôtel, l·l, this—that).
# An en dash joins names ("Paris–Lyon"), not lowercase letters: Mac Roman's "ñ" reads so ("a–o").
_OPENERS = set("«‹‘’‚“„¿¡–—•·…µ")
_JOINERS = set("’·—…")


def latin_like(data: bytes) -> bool:
    """Whether the bytes could be Latin-script text in a single-byte codepage: some high bytes,
    fewer than ASCII letters (in Cyrillic, Greek or Hebrew every letter is one), and no NUL
    (UTF-16)."""
    sample = data[:_SAMPLE]
    high = len(sample) - len(sample.translate(None, _HIGH))
    return 0 < high < len(sample) - len(sample.translate(None, _ASCII_LETTERS)) and b"\x00" not in sample


def best_codec(data: bytes, codecs: tuple[str, ...] = tuple(CODEPAGES)) -> str:
    """The codec that reads the bytes best: the first one unless a rival is clearly better.

    Rivals that read as well as each other but differ leave the first one: Mac Roman's Danish
    "søndag" is windows-1250's Polish-looking "sżndag".
    """
    sample = data[:_SAMPLE]
    high = len(sample) - len(sample.translate(None, _HIGH))
    readings = {codec: sample.decode(codec, errors="replace") for codec in codecs}
    scores = {codec: implausible(text, codec) for codec, text in readings.items()}
    bad = min(scores[codec] for codec in codecs[1:])
    best = [codec for codec in codecs[1:] if scores[codec] == bad]
    if len({readings[codec] for codec in best}) > 1:
        return codecs[0]
    if bad <= _CLEAN * high and scores[codecs[0]] - bad >= max(2, _MARGIN * high):
        return best[0]
    return codecs[0]


def read_latin(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) in a Latin codepage other than windows-1252, if one reads clearly best."""
    if not latin_like(data):
        return None
    codec = best_codec(data)
    if codec == "cp1252":
        return None
    # Only windows-1250 leaves bytes undefined among the rivals; one such byte must not lose the file.
    return data.decode(codec, errors="replace"), codec


def implausible(text: str, codec: str) -> int:
    """How many of the text's non-ASCII characters are unlikely in text in `codec`: symbols
    inside words, letters in a word of mixed case, and letters that the codec's language that
    fits best does not have (any language, for a codec not in CODEPAGES)."""
    odd = 0
    letters: Counter[str] = Counter()
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        high = [ch for ch in word if ch > "\x7f"]
        if _cased(word):
            letters.update(high)
        else:
            odd += len(high)
    for match in _NON_ASCII.finditer(text):
        ch = match.group()
        if not ch.isspace() and (ch in _SYMBOLS or not ch.isalpha()):
            odd += _odd_symbol(text, match.start())
    if not letters:
        return odd
    return odd + min(
        sum(n for ch, n in letters.items() if ch not in _alphabet(language))
        for language in CODEPAGES.get(codec, _ALPHABETS)
    )


def _cased(word: str) -> bool:
    """Lower, upper or title case; "STRAßE" too, as ß is written in capitals."""
    word = word.replace("ß", "")
    if not word or word.lower() == word.upper():
        return True
    return word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())


def _odd_symbol(text: str, i: int) -> bool:
    """A symbol that ordinary text does not hold, or one that runs into the letters after it
    ("£odzi", "W¹sowska", "†bergabe"): symbols follow words ("m²", "ACME™"), few lead into one."""
    ch = text[i]
    if ch not in _SYMBOLS:  # a control, U+FFFD, a spacing accent ("¨", "ˇ"), "¤", "¦" ...
        return True
    after = text[i + 1] if i + 1 < len(text) else ""
    if not after.isalpha():
        return False
    if i > 0 and text[i - 1].isalpha():
        return ch not in _JOINERS and not (ch == "–" and after.isupper())
    return ch not in _OPENERS and not (ch == "°" and after in "CFK")  # 20°C


@cache
def _alphabet(language: str) -> frozenset[str]:
    letters = _ALPHABETS[language]
    return frozenset(letters) | frozenset(letters.upper())
