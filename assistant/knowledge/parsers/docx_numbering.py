"""DOCX list numbers: the "14.", "3.2" or "(b)" Word draws before a paragraph but never stores.

A lawyer asks about clause 14.2; without these the text holds only "Subletting".
The numbers are counted in document order from numbering.xml, as Word counts them:
the lists of one abstract definition continue each other, a list that overrides a
level's start is a list of its own, and a level restarts when a shallower one moves on.
Bullets give no text: their symbol-font glyphs would only add noise.
"""

from __future__ import annotations

import re

from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml

_VAL = qn("w:val")
_ILVL = qn("w:ilvl")
_LEVELS = 9
_PLACEHOLDER = re.compile(r"%([1-9])")
_ROMAN = [
    (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
    (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
]  # fmt: skip


def _int(el, default: int | None = None) -> int | None:
    try:
        return int(el.get(_VAL)) if el is not None else default
    except (TypeError, ValueError):
        return default


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _letters(n: int) -> str:
    # Word repeats the letter: a..z, aa..zz, aaa..; a hostile start value must not repeat it a billion times.
    if not 0 < n <= 26 * 10:
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "none":
        return ""
    return str(n)  # decimal, and the rarer formats (ordinals, words, other scripts) as numbers


class _Level:
    def __init__(self, lvl):
        self.start = _int(lvl.find(qn("w:start")), 1)
        fmt = lvl.find(qn("w:numFmt"))
        self.format = fmt.get(_VAL, "decimal") if fmt is not None else "decimal"
        text = lvl.find(qn("w:lvlText"))
        self.text = text.get(_VAL, "") if text is not None else ""
        self.restart = _int(lvl.find(qn("w:lvlRestart")))  # restart after this 1-based level; 0: never
        self.legal = lvl.find(qn("w:isLgl")) is not None


class Numbering:
    """Call label(p) on every body paragraph in document order; it counts as Word does."""

    def __init__(self, document):
        self._style_num: dict[str, tuple[str | None, int | None]] = {}
        self._style_level: dict[tuple[str, str], int] = {}  # (abstractNumId, styleId) -> ilvl
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._nums: dict[str, tuple[str, str, dict[int, _Level], dict[int, int]]] = {}
        self._counters: dict[str, list[int | None]] = {}
        try:
            self._read_styles(document.styles.element)
            root = self._part(document)
            if root is not None:
                self._read(root)
        except Exception:  # a broken numbering or styles part: the text is read without numbers
            self._nums = {}

    @staticmethod
    def _part(document):
        for rel in document.part.rels.values():
            if not rel.is_external and rel.reltype.endswith("/numbering"):
                return parse_xml(rel.target_part.blob)
        return None

    def _read_styles(self, styles) -> None:
        own: dict[str, tuple[str | None, int | None]] = {}
        based_on: dict[str, str] = {}
        for style in styles.iterchildren(qn("w:style")):
            style_id = style.get(qn("w:styleId"))
            if not style_id:
                continue
            num_pr = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is not None:
                num_id = num_pr.find(qn("w:numId"))
                own[style_id] = (
                    num_id.get(_VAL) if num_id is not None else None,
                    _int(num_pr.find(_ILVL)),
                )
            base = style.find(qn("w:basedOn"))
            if base is not None and base.get(_VAL):
                based_on[style_id] = base.get(_VAL)
        for style_id in {*own, *based_on}:
            current, seen = style_id, set()
            while current is not None and current not in seen:
                seen.add(current)
                if current in own:
                    self._style_num[style_id] = own[current]
                    break
                current = based_on.get(current)

    def _read(self, root) -> None:
        links: dict[str, str] = {}  # abstractNumId -> the numbering style it takes its levels from
        for abstract in root.iterchildren(qn("w:abstractNum")):
            abstract_id = abstract.get(qn("w:abstractNumId"))
            levels = {}
            for lvl in abstract.iterchildren(qn("w:lvl")):
                ilvl = _int_attr(lvl, _ILVL)
                if ilvl is not None and 0 <= ilvl < _LEVELS:
                    levels[ilvl] = _Level(lvl)
                    style = lvl.find(qn("w:pStyle"))
                    if style is not None and style.get(_VAL):
                        self._style_level[(abstract_id, style.get(_VAL))] = ilvl
            self._abstract[abstract_id] = levels
            link = abstract.find(qn("w:numStyleLink"))
            if link is not None and link.get(_VAL):
                links[abstract_id] = link.get(_VAL)
        num_abstract = {}
        for num in root.iterchildren(qn("w:num")):
            abstract = num.find(qn("w:abstractNumId"))
            num_abstract[num.get(qn("w:numId"))] = None if abstract is None else abstract.get(_VAL)
        for (
            abstract_id,
            style_id,
        ) in links.items():  # one hop: the style names a num, whose abstract has the levels
            target = num_abstract.get(self._style_num.get(style_id, (None, None))[0])
            if target is not None and target != abstract_id:
                self._abstract[abstract_id] = self._abstract.get(target, {})
        for num in root.iterchildren(qn("w:num")):
            num_id = num.get(qn("w:numId"))
            abstract_id = num_abstract.get(num_id)
            if num_id is None or abstract_id not in self._abstract:
                continue
            levels = dict(self._abstract[abstract_id])
            starts = {}
            for override in num.iterchildren(qn("w:lvlOverride")):
                ilvl = _int_attr(override, _ILVL)
                if ilvl is None or not 0 <= ilvl < _LEVELS:
                    continue
                lvl = override.find(qn("w:lvl"))
                if lvl is not None:
                    levels[ilvl] = _Level(lvl)
                start = _int(override.find(qn("w:startOverride")))
                if start is not None:
                    starts[ilvl] = start
            # A num that restarts a level counts on its own; the others continue their abstract's count.
            key = f"num:{num_id}" if starts else f"abstract:{abstract_id}"
            self._nums[num_id] = (key, abstract_id, levels, starts)

    def label(self, p) -> str:
        """The number Word shows before paragraph `p` ("" for none or a bullet); advances the count."""
        if not self._nums:
            return ""
        num_id, ilvl, style_id = self._numbering_of(p)
        entry = self._nums.get(num_id) if num_id else None
        if entry is None:
            return ""
        key, abstract_id, levels, starts = entry
        if ilvl is None:  # a heading style tied to a level of the list
            ilvl = self._style_level.get((abstract_id, style_id), 0)
        level = levels.get(ilvl)
        if level is None:
            return ""
        counters = self._counters.get(key)
        if counters is None:
            counters = self._counters[key] = [None] * _LEVELS
            for i, start in starts.items():
                counters[i] = start - 1
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else current + 1
        for deeper in range(ilvl + 1, _LEVELS):
            other = levels.get(deeper)
            restart = other.restart if other is not None and other.restart is not None else deeper
            if ilvl < restart:
                counters[deeper] = None
        if level.format == "bullet":
            return ""
        return _PLACEHOLDER.sub(lambda m: self._shown(m, levels, counters, level.legal), level.text).strip()

    @staticmethod
    def _shown(match, levels, counters, legal: bool) -> str:
        i = int(match.group(1)) - 1
        level = levels.get(i)
        if level is None:
            return ""
        n = counters[i] if counters[i] is not None else level.start
        return _format(n, "decimal" if legal and level.format != "none" else level.format)

    def _numbering_of(self, p) -> tuple[str | None, int | None, str | None]:
        """(numId, ilvl, styleId): the paragraph's own numPr, else its style's (either part alone)."""
        ppr = p.find(qn("w:pPr"))
        style_el = None if ppr is None else ppr.find(qn("w:pStyle"))
        style_id = None if style_el is None else style_el.get(_VAL)
        num_id, ilvl = self._style_num.get(style_id, (None, None)) if style_id else (None, None)
        num_pr = None if ppr is None else ppr.find(qn("w:numPr"))
        if num_pr is not None:
            own_id, own_lvl = num_pr.find(qn("w:numId")), _int(num_pr.find(_ILVL))
            if own_id is not None:
                num_id = own_id.get(_VAL)
            if own_lvl is not None:
                ilvl = own_lvl
        if num_id == "0":  # numId 0 turns the style's numbering off
            return None, None, None
        return num_id, ilvl, style_id


def _int_attr(el, name: str) -> int | None:
    try:
        return int(el.get(name))
    except (TypeError, ValueError):
        return None
