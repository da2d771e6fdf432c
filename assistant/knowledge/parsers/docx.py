"""DOCX (python-docx): paragraphs and table rows in body order; headings from styles.

A text box's paragraphs follow the paragraph it is anchored in.

After the body come the footnotes, the endnotes and the page headers and footers,
each group under its own top-level heading, so a chunk of them says what it is.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import MB, Builder, ParseLimits, human_size, one_line
from assistant.knowledge.parsers.docx_numbering import Numbering
from assistant.knowledge.parsers.docx_tables import table_rows

NOT_DOCX = "The DOCX is damaged or not really a Word document."
OLD_OR_ENCRYPTED = "The DOCX is password-protected or in the old .doc format; save it as a plain .docx."
NO_TEXT = "The DOCX holds no text."

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and legacy .doc are OLE files
_MAX_PARTS = 10_000
_RATIO_FLOOR = 10 * MB  # small documents may compress very well; only big expansions are suspect
_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.I)
_P, _TBL = qn("w:p"), qn("w:tbl")
_TEXT_BOX = qn("w:txbxContent")
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
_VAL = qn("w:val")
# What a paragraph's text is made of; w:delText (deleted text) and w:instrText (field codes)
# are other elements, so they are left out. Every w:br is a newline: a page break between
# two words must not glue them together.
_T = qn("w:t")
_INLINE = {
    qn("w:tab"): "\t",
    qn("w:ptab"): "\t",
    qn("w:br"): "\n",
    qn("w:cr"): "\n",
    qn("w:noBreakHyphen"): "-",
}
# Not read inside a paragraph: deleted and moved-away revisions, the tab stops in its
# properties, the legacy copy of a drawing (mc:Fallback repeats mc:Choice), and the
# paragraphs of text boxes.
_UNREAD = {
    qn("w:del"),
    qn("w:moveFrom"),
    qn("w:pPr"),
    _FALLBACK,
    _P,
}
# A text box inside these is not read: a deleted or moved-away one, Word's legacy (VML) copy of
# one, or one inside another text box (that one's own paragraphs reach it).
_UNREAD_BOXES = {qn("w:del"), qn("w:moveFrom"), _FALLBACK, _TEXT_BOX}
_HEADERS_FOOTERS = (
    "header",
    "first_page_header",
    "even_page_header",
    "footer",
    "first_page_footer",
    "even_page_footer",
)


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


def _style_id(p) -> str | None:
    """w:pStyle read by hand: python-docx raises on one without w:val, as a header part may have."""
    ppr = p.find(qn("w:pPr"))
    style = None if ppr is None else ppr.find(qn("w:pStyle"))
    return None if style is None else style.get(_VAL)


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
    """The text of every run in the paragraph, however it is wrapped.

    python-docx's Paragraph.text reads only direct runs and hyperlinks, which drops the
    text of content controls, fields, tracked insertions and smart tags.
    """
    parts = []
    for el in p.iter(_T, *_INLINE):
        if _is_read(el, p):
            parts.append((el.text or "") if el.tag == _T else _INLINE[el.tag])
    return "".join(parts)


def _is_read(el, p, unread=_UNREAD) -> bool:
    for ancestor in el.iterancestors():
        if ancestor is p:
            return True
        if ancestor.tag in unread:
            return False
    return True


def _text_boxes(p):
    """The w:txbxContent of the text boxes anchored in paragraph `p`, once each."""
    return [box for box in p.iter(_TEXT_BOX) if _is_read(box, p, _UNREAD_BOXES)]


def _body_items(parent):
    """Paragraphs and tables in document order, looking inside content controls."""
    for child in parent.iterchildren():
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag in _CONTAINERS:
            yield from _body_items(child)


def _numbered_text(p, numbering: Numbering | None) -> str:
    """The paragraph's text after the list number Word shows before it, if any."""
    text = _paragraph_text(p)
    number = numbering.label(p) if numbering is not None else ""  # counted even when blank, as Word does
    return f"{number} {text}" if number and one_line(text) else text


def _cell_text(tc, numbering: Numbering | None) -> str:
    """A cell's paragraphs on one line; a nested table's text is flattened into its cell."""
    return one_line(
        " ".join(_numbered_text(p, numbering) for p in tc.iter(_P) if _is_read(p, tc, {_FALLBACK}))
    )


def parse_docx(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    _check_container(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # only python-docx runs here: any failure means a malformed package
        raise UnreadableFile(NOT_DOCX) from exc
    body = document.element.find(qn("w:body"))
    if document.element.tag != qn("w:document") or body is None:
        raise UnreadableFile(NOT_DOCX)
    builder = Builder(path, "docx", limits)
    for kind, level, text in _blocks(body, _heading_styles(document), Numbering(document)):
        if kind == "heading":
            builder.heading(level, text)
        else:
            builder.add(text, kind)
    _add_group(builder, "Footnotes", [_story(note) for note in _notes(document, "footnote")])
    _add_group(builder, "Endnotes", [_story(note) for note in _notes(document, "endnote")])
    # Sections often carry identical copies of one header: each text is kept once.
    stories = dict.fromkeys(_story(root) for root in _headers_footers(document))
    _add_group(builder, "Headers and footers", list(stories))
    if not builder.blocks:  # not Builder.build's "The file is empty.": the file has bytes, just no text
        raise UnreadableFile(NO_TEXT)
    return builder.build(metadata={"title": title} if (title := _title(document)) else {})


def _blocks(container, levels: dict[str, int], numbering: Numbering | None = None):
    """(kind, heading level or None, text) for each paragraph and table row, in order."""
    for item in _body_items(container):
        if item.tag == _TBL:
            for row in table_rows(item, lambda tc: _cell_text(tc, numbering)):
                yield "table_row", None, row
            continue
        text = _numbered_text(item, numbering)
        level = _outline_level(item)
        if level is None:
            level = levels.get(_style_id(item))
        if level is not None and one_line(text):
            yield "heading", level, text
        else:
            yield "paragraph", None, text
        for box in _text_boxes(item):  # a box's heading styles must not re-title the body after it
            for kind, box_text in _story(box):
                yield kind, None, box_text


def _story(root) -> tuple[tuple[str, str], ...]:
    """A note's or a header's (kind, text) blocks; its headings count as paragraphs."""
    return tuple(
        ("table_row" if kind == "table_row" else "paragraph", text)
        for kind, _, text in _blocks(root, {})
        if one_line(text)
    )


def _add_group(builder: Builder, label: str, stories: list[tuple[tuple[str, str], ...]]) -> None:
    """Stories after the body, under a top-level heading `label`; nothing if they hold no text."""
    stories = [story for story in stories if story]
    if not stories:
        return
    builder.heading(0, label)
    for story in stories:
        for kind, text in story:
            builder.add(text, kind)


def _notes(document, kind: str) -> list:
    """The real w:footnote or w:endnote elements (not separators); none if the part is broken.

    python-docx has no notes API, so the part is found by its relationship and parsed here.
    """
    try:
        blobs = [
            rel.target_part.blob
            for rel in document.part.rels.values()
            if not rel.is_external and rel.reltype.endswith(f"/{kind}s")
        ]
        roots = [parse_xml(blob) for blob in blobs]
    except Exception:  # a missing or malformed notes part must not cost the body its text
        return []
    note_type = qn("w:type")
    return [
        note
        for root in roots
        for note in root.iterchildren(qn(f"w:{kind}"))
        if note.get(note_type, "normal") == "normal"
    ]


def _headers_footers(document) -> list:
    """The w:hdr and w:ftr elements sections define, in section order (linked ones are the prior's)."""
    roots = []
    try:
        sections = list(document.sections)
    except Exception:  # python-docx on odd section properties: the body is read all the same
        return []
    for section in sections:
        for name in _HEADERS_FOOTERS:
            try:
                story = getattr(section, name)
                if not story.is_linked_to_previous:
                    roots.append(story.part.element)
            except Exception:  # a reference to a missing or foreign part: skip that one
                continue
    return roots


def _title(document) -> str:
    try:
        return one_line(document.core_properties.title or "")
    except Exception:  # python-docx on a broken core-properties part: the title is optional
        return ""
