"""DOCX table rows as lines of text, with merged cells laid out as Word shows them.

Chunks and search work on rows, so a value merged down several rows (w:vMerge) is
repeated in every row it spans: otherwise "France | Paris | 3" is followed by
"| Lyon | 2", a row that has lost its key. A cell merged across columns (w:gridSpan, or
the legacy w:hMerge) is one cell of its row, never printed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from docx.oxml.ns import qn

_TBL, _TR, _TC = qn("w:tbl"), qn("w:tr"), qn("w:tc")
_TR_PR, _TC_PR = qn("w:trPr"), qn("w:tcPr")
_V_MERGE, _H_MERGE = qn("w:vMerge"), qn("w:hMerge")
_GRID_SPAN, _GRID_BEFORE = qn("w:gridSpan"), qn("w:gridBefore")
_VAL = qn("w:val")
# A span wider than this is a broken file, not a table; it would only shift later columns.
_MAX_SPAN = 1_000


def table_rows(tbl, cell_text: Callable[[object], str]) -> Iterator[str]:
    """Each row of `tbl` as its cells joined by " | "; `cell_text(tc)` reads one cell.

    A row is left out when it has no text of its own: the repeated value of a merge
    that runs past the row's real content adds nothing to search.
    """
    above: dict[int, str] = {}  # grid column -> text of the vertical merge reaching down from the row above
    for tr in _own(tbl, tbl.iter(_TR), _TBL):
        merged: dict[int, str] = {}
        cells: list[str] = []
        has_text = False
        column = _int_prop(tr, _TR_PR, _GRID_BEFORE, 0)
        for tc in _own(tr, tr.iter(_TC), _TR):
            text = cell_text(tc)  # read even when merged away: list numbers count every paragraph
            has_text = has_text or bool(text)
            span = min(max(_int_prop(tc, _TC_PR, _GRID_SPAN, 1), 1), _MAX_SPAN)
            vertical = _merge(tc, _V_MERGE)
            if vertical == "continue":
                # Word shows only the first cell's text; text left in a continuation is kept too.
                text = " ".join(dict.fromkeys(t for t in (above.get(column, ""), text) if t))
            if vertical is not None:
                merged[column] = text
            if _merge(tc, _H_MERGE) == "continue" and cells:
                if text:
                    cells[-1] = f"{cells[-1]} {text}" if cells[-1] else text
            else:
                cells.append(text)
            column += span
        above = merged
        if has_text:
            yield " | ".join(cells)


def _own(parent, elements, tag) -> Iterator:
    """The elements whose nearest `tag` ancestor is `parent`: not those of a nested table.

    Rows and cells can sit in content controls or custom XML, so they are not all children.
    """
    for el in elements:
        owner = el.getparent()
        while owner is not None and owner.tag != tag:
            owner = owner.getparent()
        if owner is parent:
            yield el


def _prop(el, props_tag, tag):
    props = el.find(props_tag)
    return None if props is None else props.find(tag)


def _int_prop(el, props_tag, tag, default: int) -> int:
    prop = _prop(el, props_tag, tag)
    try:
        return default if prop is None else int(prop.get(_VAL, default))
    except ValueError:
        return default


def _merge(tc, tag) -> str | None:
    """How the cell is merged that way: it starts a merge ("restart"), continues one
    ("continue", what a merge element without w:val means) or is not merged (None)."""
    prop = _prop(tc, _TC_PR, tag)
    if prop is None:
        return None
    return "restart" if prop.get(_VAL) == "restart" else "continue"
