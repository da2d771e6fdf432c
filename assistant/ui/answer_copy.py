"""An answer as the clipboard holds it: rich text for Word or Outlook, which keeps bold, lists and
tables as shown, and plain text for anywhere else, without Markdown's marks (** # |---|)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QTextBlock, QTextCursor, QTextDocument, QTextFrame, QTextListFormat, QTextTable

PASTED_CODE_BACKGROUND = "#f2f2f2"  # solid: a pasted document is light, and Word ignores rgba()
LINE_SEPARATOR = "\u2028"  # QTextDocument's line break inside a paragraph
PARAGRAPH_SEPARATOR = "\u2029"
BULLETS = {QTextListFormat.Style.ListDisc, QTextListFormat.Style.ListCircle, QTextListFormat.Style.ListSquare}


def answer_mime(markdown: str) -> QMimeData:
    """Both forms of the answer `markdown`. Its citations stay as written ([1]): a link into this
    app would mean nothing in a document."""
    doc = QTextDocument()
    doc.setMarkdown(markdown)
    data = QMimeData()
    data.setHtml(doc.toHtml().replace('<pre style="', f'<pre style=" background-color:{PASTED_CODE_BACKGROUND};'))
    data.setText(plain_text(doc))
    return data


def plain_text(doc: QTextDocument) -> str:
    """The document as a person would type it: bullets and numbers kept, a table's cells separated by
    tabs (a spreadsheet pasted into splits them into columns), a blank line between paragraphs, and a
    link's address after its text."""
    lines: list[str] = []
    previous = ""
    for kind, text in _pieces(doc.rootFrame()):
        if lines and not (kind == previous and kind in ("item", "code")):
            lines.append("")
        lines.append(text)
        previous = kind
    return "\n".join(lines).strip("\n") + "\n" if lines else ""


def _pieces(frame: QTextFrame):
    """(kind, text) of each paragraph, list item, code line and table in `frame`, in order."""
    it = frame.begin()
    while not it.atEnd():
        child, block = it.currentFrame(), it.currentBlock()
        if isinstance(child, QTextTable):
            yield "table", _table_text(child)
        elif child is not None:
            yield from _pieces(child)
        elif block.isValid():
            if block.blockFormat().nonBreakableLines():
                yield "code", block.text()
            elif (text := _block_text(block)).strip():
                listed = block.textList()
                if listed is None:
                    yield "paragraph", text
                else:
                    style = listed.format()
                    marker = "•" if style.style() in BULLETS else listed.itemText(block)
                    yield "item", "  " * max(style.indent() - 1, 0) + f"{marker} {text}"
        it += 1


def _block_text(block: QTextBlock) -> str:
    parts = []
    it = block.begin()
    while not it.atEnd():
        fragment = it.fragment()
        text = fragment.text()
        href = fragment.charFormat().anchorHref() if fragment.charFormat().isAnchor() else ""
        parts.append(f"{text} ({href})" if href and href != text else text)
        it += 1
    return "".join(parts).replace(LINE_SEPARATOR, "\n")


def _table_text(table: QTextTable) -> str:
    rows = []
    for row in range(table.rows()):
        cells = []
        for column in range(table.columns()):
            cell = table.cellAt(row, column)
            cursor = cell.firstCursorPosition()
            cursor.setPosition(cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor)
            cells.append(cursor.selectedText().replace(PARAGRAPH_SEPARATOR, " ").replace(LINE_SEPARATOR, " "))
        rows.append("\t".join(cells))
    return "\n".join(rows)
