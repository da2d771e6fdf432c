"""Plain text: encoding detection and paragraphs split on blank lines."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import charset_normalizer

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.codepages import read_short_codepage
from assistant.knowledge.parsers.common import BINARY, BLANK, Builder, ParseLimits
from assistant.knowledge.parsers.latin import CODEPAGES, best_codec, implausible, latin_like, read_latin

# Longest BOM first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# C0 controls other than tab, newline, vertical tab, form feed and carriage return.
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_MAX_BINARY_SHARE = 0.01
# Latin-script single-byte codepages. On short texts charset-normalizer often cannot tell
# them apart and picks an exotic one ("Köln" -> "KŲln"); windows-1252 is by far the most
# likely of them (HTML5 decodes latin-1 as windows-1252 too), so it wins any near tie.
_LATIN_CODEPAGES = {
    "latin_1", "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "cp775", "cp850", "cp852",
    "cp858", "mac_latin2", "mac_roman", "mac_iceland", "mac_turkish",
    *(f"iso8859_{n}" for n in (1, 2, 3, 4, 9, 10, 13, 14, 15, 16)),
}  # fmt: skip
_NEAR_TIE = 0.1
# What windows-1252 text holds beyond ASCII: accented letters and office symbols. Text in
# another codepage read as windows-1252 puts such characters in runs ("Äîãîâîð" for
# "Договор"), since every letter of its words is a high byte.
_WESTERN = re.compile(
    r"[\xa0-\xff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    r"\u2013-\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_FOREIGN_RUN = re.compile(r"[^\x00-\x7f\s]{3}")
_ESCAPED = re.compile("[\udc80-\udcff]+")
_DECODED = re.compile("[^\x00-\x7f\udc80-\udcff]")
_SAMPLE = 64 * 1024
_CUT_OR_STRAY = re.compile(rb"[\xc2-\xf4][\x80-\xbf]{1,2}|[\x80-\xff]")


def looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text if len(text) <= 4_000_000 else text[:2_000_000] + text[-2_000_000:]
    return len(_BINARY_CHARS.findall(sample)) > _MAX_BINARY_SHARE * len(sample)


def _guess(data: bytes) -> tuple[str, str, bool] | None:
    """charset-normalizer's (text, encoding, sure), or None when it has no answer.

    It is not sure when it found no language in the text (coherence 0): on a line or two it
    then picks among ties.
    """
    try:
        matches = charset_normalizer.from_bytes(data)
        best = matches.best()
    except (LookupError, ValueError, UnicodeError):  # its own bugs on odd input; treat as no answer
        return None
    if best is None:
        return None
    encoding = best.encoding
    if encoding in _LATIN_CODEPAGES:
        for match in matches:
            if (
                "cp1252" in match.could_be_from_charset
                and match.chaos <= best.chaos + _NEAR_TIE
                and match.coherence >= best.coherence - _NEAR_TIE
            ):
                encoding = "cp1252"
                break
    if encoding in _LATIN_CODEPAGES and encoding != "cp1252" and latin_like(data):
        # Its pick among Latin codepages can be wild ("It’s “great”" as Mac Icelandic "Itís ìgreatî").
        encoding = best_codec(data, (encoding, "cp1252"))
    sure = best.coherence > 0
    try:
        return data.decode(encoding), encoding, sure
    except (UnicodeDecodeError, LookupError):
        return str(best), best.encoding, sure


def _western(data: bytes) -> str | None:
    """The data read as windows-1252, if it reads as Western text: accents and symbols among
    ASCII letters, as few control characters as UTF-8 text may have."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if looks_binary(text) or _FOREIGN_RUN.search(text):
        return None
    if not all(ch < "\x80" or _WESTERN.match(ch) for ch in set(text)):
        return None
    return text


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few bytes that are not UTF-8, or None when the bytes are not mostly UTF-8.

    Such a file is nearly always a UTF-8 file with a line or a word typed or pasted in a
    single-byte codepage (an old editor, a Word quote mark), so each stray byte is read in the
    codepage that reads those lines best: a stray 0xE9 is the 'é' its writer meant, where
    U+FFFD would lose the letter from search and quotes. A character cut short (a truncated
    copy: a lead byte with too few continuation bytes) is U+FFFD: no single-byte reading of it
    is right.

    Valid multi-byte characters, at least two and twice as many as stray bytes, make it UTF-8.
    Fewer may be a single-byte text's accident (a UTF-8 pair is a capital accented letter and a
    symbol: "É’") or a UTF-8 word beside a windows-1252 one ("Müller" and "Schröder"); for
    Latin text the reading with fewer implausible characters decides, single-byte on a tie.
    """
    text = data.decode("utf-8", errors="surrogateescape")  # each stray byte -> one U+DCxx
    stray = sum(map(len, _ESCAPED.findall(text)))
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - stray
    strong = valid >= 2 and valid >= 2 * stray
    if not valid or not (strong or latin_like(data)):
        return None
    codec = _stray_codec(text)
    if not strong:
        sample = data[:_SAMPLE]
        single = min(implausible(sample.decode(c, errors="replace"), c) for c in CODEPAGES)
        if implausible(_repair(sample.decode("utf-8", errors="surrogateescape"), codec), codec) >= single:
            return None
    return _repair(text, codec)


def _stray_codec(text: str) -> str:
    """The codepage of the stray bytes, judged on the lines that hold them (less their UTF-8)."""
    lines, line_end, size = [], -1, 0
    for match in _ESCAPED.finditer(text):
        if match.start() < line_end:
            continue  # in a line already taken
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        if line_end < 0:
            line_end = len(text)
        lines.append(_DECODED.sub("", text[line_start:line_end]).encode("utf-8", errors="surrogateescape"))
        size += len(lines[-1])
        if size > _SAMPLE:
            break
    sample = b"\n".join(lines)
    reading = read_short_codepage(sample)  # a Russian line in a UTF-8 file
    if reading is not None:
        return reading[1]
    return best_codec(sample) if latin_like(sample) else "cp1252"


def _repair(text: str, codec: str) -> str:
    return _ESCAPED.sub(partial(_restore, codec, len(text.rstrip())), text)


def _restore(codec: str, end: int, match: re.Match) -> str:
    raw = match.group().encode("utf-8", errors="surrogateescape")
    if match.end() < end and raw[:1] != b"\xe2":
        # Mid-text, a letter's byte before a stray one is a pasted single-byte pair ("é’"). A
        # character is cut where a copy stopped, at the end, or where 0xE2 (the lead of UTF-8's
        # quotes, dashes and euro; "â" before a symbol in windows-1252) lost its last byte.
        return raw.decode(codec, errors="replace")
    return "".join(
        "\ufffd" if len(part) > 1 else part.decode(codec, errors="replace") for part in _CUT_OR_STRAY.findall(raw)
    )


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): a BOM, else UTF-8 (strict, then nearly), else charset-normalizer,
    checked on short texts against Cyrillic, Greek or Hebrew codepages, and on Latin text
    against the Latin codepages that read it better than windows-1252 (latin.py).

    Binary data (many control characters whatever the encoding) is refused.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if looks_binary(text):
                break
            return (
                text,
                "utf-8-sig" if encoding == "utf-8-sig" else f"{encoding}-{'le' if data[0] == 0xFF else 'be'}",
            )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not looks_binary(text):
            return text, "utf-8"
    text = _mostly_utf8(data)
    if text is not None and not looks_binary(text):
        return text, "utf-8"
    guess = _guess(data)
    # On a few lines charset-normalizer guesses wildly ("Привет" as Big5, "Café" as UTF-16,
    # "Müller" as Urdu cp1006). Unsure, its answer stands only if the text does not read
    # clearly as Cyrillic, Greek or Hebrew; and only if it is a Latin codepage or the text
    # is not Western.
    if guess is None or not guess[2]:
        reading = read_short_codepage(data)
        if reading is not None and not looks_binary(reading[0]):
            return reading
    latin = read_latin(data)
    if latin is not None and not looks_binary(latin[0]):
        return latin
    if guess is None or guess[1] not in _LATIN_CODEPAGES:
        western = _western(data)
        if western is not None:
            return western, "cp1252"
    if guess is None or looks_binary(guess[0]):
        raise UnreadableFile(BINARY)
    return guess[:2]


def split_lines(text: str) -> list[str]:
    """Lines as editors number them: \\r\\n, \\r and \\n end a line; nothing else does.

    A form feed or vertical tab, which editors show inside a line, becomes a space: clean()
    would make it a line break, and the block would hold one more line than it spans.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\f" in text or "\v" in text:
        text = text.replace("\f", " ").replace("\v", " ")
    return text.split("\n")


def paragraphs(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(first, last) line indexes of each run of non-blank lines."""
    first = None
    for i, line in enumerate(lines):
        if line.strip():
            if first is None:
                first = i
        elif first is not None:
            yield first, i - 1
            first = None
    if first is not None:
        yield first, len(lines) - 1


def parse_text(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    text, encoding = decode_text(data)
    if not text.strip():  # an empty file never gets here: parse_file refuses it first
        raise UnreadableFile(BLANK)
    lines = split_lines(text)
    builder = Builder(path, "text", limits)
    for first, last in paragraphs(lines):
        builder.add("\n".join(lines[first : last + 1]), line_start=first + 1, line_end=last + 1)
    return builder.build(encoding=encoding)
