"""DOCX (python-docx): paragraphs and table rows in body order; headings from styles."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import MB, Builder, ParseLimits, human_size, one_line

NOT_DOCX = "The DOCX is damaged or not really a Word document."
OLD_OR_ENCRYPTED = "The DOCX is password-protected or in the old .doc format; save it as a plain .docx."

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and legacy .doc are OLE files
_MAX_PARTS = 10_000
_RATIO_FLOOR = 10 * MB  # small documents may compress very well; only big expansions are suspect
_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.I)
_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
_VAL = qn("w:val")


def _check_container(data: bytes, limits: ParseLimits) -> None:
    """Refuse what is not a zip, and zip bombs, before python-docx expands anything."""
    if data.startswith(_OLE_MAGIC):
        raise UnreadableFile(OLD_OR_ENCRYPTED)
    if not data.startswith(b"PK"):
        raise UnreadableFile(NOT_DOCX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise UnreadableFile(NOT_DOCX) from exc
    if len(infos) > _MAX_PARTS:
        raise UnreadableFile(f"The DOCX holds more than {_MAX_PARTS:,} parts (a zip bomb?).")
    if "[Content_Types].xml" not in {info.filename for info in infos}:
        raise UnreadableFile(NOT_DOCX)
    expanded = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if expanded > limits.max_uncompressed_bytes:
        raise UnreadableFile(
            f"The DOCX expands to more than {human_size(limits.max_uncompressed_bytes)} (a zip bomb?)."
        )
    if expanded > _RATIO_FLOOR and expanded > limits.max_compression_ratio * max(packed, 1):
        raise UnreadableFile(
            f"The DOCX expands to more than {limits.max_compression_ratio:g} times its size (a zip bomb?)."
        )


def _outline_level(element) -> int | None:
    """w:outlineLvl of a paragraph's or style's properties: 0-8 are levels 1-9, 9 is body text."""
    ppr = element.find(qn("w:pPr"))
    lvl = None if ppr is None else ppr.find(qn("w:outlineLvl"))
    if lvl is None:
        return None
    try:
        value = int(lvl.get(_VAL, ""))
    except ValueError:
        return None
    return value + 1 if 0 <= value <= 8 else None


def _heading_styles(document) -> dict[str, int]:
    """styleId -> heading level ("Title" is 0), following w:basedOn chains."""
    try:
        styles = document.styles.element
    except Exception:  # python-docx on a broken styles part: read on, without heading styles
        return {}
    own: dict[str, int | None] = {}
    based_on: dict[str, str] = {}
    for style in styles.iterchildren(qn("w:style")):
        style_id = style.get(qn("w:styleId"))
        if not style_id:
            continue
        name_el = style.find(qn("w:name"))
        name = (name_el.get(_VAL, "") if name_el is not None else "").strip()
        match = _HEADING_NAME.match(name)
        own[style_id] = (
            int(match.group(1)) if match else 0 if name.lower() == "title" else _outline_level(style)
        )
        base = style.find(qn("w:basedOn"))
        if base is not None and base.get(_VAL):
            based_on[style_id] = base.get(_VAL)
    levels = {}
    for style_id in own:
        current, seen = style_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            if own.get(current) is not None:
                levels[style_id] = own[current]
                break
            current = based_on.get(current)
    return levels


def _paragraph_text(p) -> str:
    return Paragraph(p, None).text


def _body_items(parent):
    """Paragraphs and tables in document order, looking inside content controls."""
    for child in parent.iterchildren():
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag in _CONTAINERS:
            yield from _body_items(child)


def _rows(tbl):
    """Each row's cells as one line of text; nested tables are flattened into their cell."""
    for tr in tbl.iter(_TR):
        if _owning_table(tr) is not tbl:
            continue
        cells = [
            one_line(" ".join(_paragraph_text(p) for p in tc.iter(_P)))
            for tc in tr.iter(_TC)
            if _owning_row(tc) is tr
        ]
        if any(cells):
            yield " | ".join(cells)


def _owning_table(el):
    parent = el.getparent()
    while parent is not None and parent.tag != _TBL:
        parent = parent.getparent()
    return parent


def _owning_row(el):
    parent = el.getparent()
    while parent is not None and parent.tag != _TR:
        parent = parent.getparent()
    return parent


def parse_docx(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    _check_container(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # only python-docx runs here: any failure means a malformed package
        raise UnreadableFile(NOT_DOCX) from exc
    body = document.element.find(qn("w:body"))
    if document.element.tag != qn("w:document") or body is None:
        raise UnreadableFile(NOT_DOCX)
    levels = _heading_styles(document)
    builder = Builder(path, "docx", limits)
    for item in _body_items(body):
        if item.tag == _TBL:
            for row in _rows(item):
                builder.add(row, "table_row")
            continue
        text = _paragraph_text(item)
        level = _outline_level(item)
        if level is None:
            level = levels.get(item.style) if item.style else None
        if level is not None and one_line(text):
            builder.heading(level, text)
        else:
            builder.add(text)
    return builder.build(metadata={"title": title} if (title := _title(document)) else {})


def _title(document) -> str:
    try:
        return one_line(document.core_properties.title or "")
    except Exception:  # python-docx on a broken core-properties part: the title is optional
        return ""
