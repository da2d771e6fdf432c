"""A source opened in the app: a PDF at its page with the passage marked, or the text with the
passage selected. A file that is gone, unreadable or changed is said so in a sentence.

Checking and re-extracting a file (hashing, parsing) runs on a worker thread, so
opening a large document does not freeze the window.
"""

from __future__ import annotations

import html
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QCloseEvent, QColor, QDesktopServices, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from assistant.knowledge.highlight import question_terms
from assistant.knowledge.passages import CHANGED_MIN_SHARE, CHANGED_NOT_FOUND, Reopened, reopen
from assistant.store.source_rows import source_place
from assistant.ui.pdf_passage import PassagePdfView

log = logging.getLogger("assistant.ui")

THREAD_PREFIX = "assistant-source-viewer"
PASSAGE_BACKGROUND = QColor("#fef3c7")
PASSAGE_TEXT = QColor("#111827")  # dark on the pale mark in either theme
MAX_TITLE_NAME = 64  # characters of a file name shown whole in the viewer's title
NOT_IN_PDF = "The passage was not found in the PDF as it is now. Re-index the collection to update the sources."


def utf16_offset(text: str, index: int) -> int:
    """Qt counts text positions in UTF-16 units; Python in code points."""
    return index + sum(1 for c in text[:index] if ord(c) > 0xFFFF)


class SourceViewer(QDialog):
    """Shows one source at a time; `open_source` replaces what is shown."""

    loaded = Signal(str)  # what is on screen once a source is opened: pdf | text | problem
    _deliver = Signal(object)  # a zero-argument callable to run on the UI thread

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sourceViewer")
        self.setWindowTitle("Source")
        self.setWindowFlag(Qt.WindowType.Window)
        self.resize(760, 820)
        # Replaced in tests: launching the desktop's PDF viewer is not something a test does.
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self._row: dict | None = None
        self._question = ""
        self._request = 0
        self._mode = ""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_PREFIX)
        # A viewer deleted without shutdown() still lets its idle thread end.
        weakref.finalize(self, self._executor.shutdown, wait=False, cancel_futures=True)
        self._build()

    def _build(self) -> None:
        self._deliver.connect(lambda callback: callback(), Qt.ConnectionType.QueuedConnection)
        self.title = QLabel()
        self.title.setObjectName("viewerTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel()
        self.note.setObjectName("viewerNote")
        self.note.setWordWrap(True)
        self.note.hide()
        self.previous_button = QPushButton("◀")
        self.previous_button.setToolTip("Previous page")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next page")
        self.page_label = QLabel()
        self.system_button = QPushButton("Open in the system viewer")
        self.system_button.setObjectName("systemViewerButton")
        self.system_button.clicked.connect(self.open_in_system_viewer)
        self.previous_button.clicked.connect(lambda: self._step(-1))
        self.next_button.clicked.connect(lambda: self._step(1))
        bar = QHBoxLayout()
        bar.addWidget(self.previous_button)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_button)
        bar.addStretch(1)
        bar.addWidget(self.system_button)

        self.pdf_document = QPdfDocument()  # no parent: see PassagePdfView
        self.pdf_view = PassagePdfView(self.pdf_document)
        self.pdf_view.pageNavigator().currentPageChanged.connect(self._show_page_number)
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("sourceText")
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # The selection is the passage: it keeps the passage's colour, focused or not.
        palette = self.text_view.palette()
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.Highlight, PASSAGE_BACKGROUND)
            palette.setColor(group, QPalette.ColorRole.HighlightedText, PASSAGE_TEXT)
        self.text_view.setPalette(palette)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("viewerProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        for widget in (self.problem_label, self.pdf_view, self.text_view):
            self.stack.addWidget(widget)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self._set_paging(False)

    # opening ------------------------------------------------------------------------
    def open_source(self, row: dict, question: str = "") -> None:
        """Show `row` (a source row of a Message); `loaded` follows once it is on screen."""
        self._row, self._question = dict(row), question
        self._request += 1
        self._mode = ""
        path = Path(row.get("path") or "")
        place = source_place(row)
        self.setWindowTitle(f"{path.name} — {place}" if place else path.name or "Source")
        # Escaped: "Smith & Jones <draft>.txt" is a file name, not markup. Shortened in the middle:
        # a 200-character name widened the viewer, which kept that width for every later source.
        name = path.name if len(path.name) <= MAX_TITLE_NAME else f"{path.name[:40]}…{path.name[-20:]}"
        self.title.setText(f"<b>{html.escape(name)}</b>  {html.escape(place)}" if path.name else "(no file)")
        self.title.setToolTip(str(path))
        self._set_note(None)
        self.problem_label.setText("Opening…")
        self.stack.setCurrentWidget(self.problem_label)
        self._set_paging(False)
        self.system_button.setEnabled(False)
        request = self._request

        def work():
            try:
                result = reopen(row)
            except Exception as exc:  # noqa: BLE001 - a bug is logged; the viewer says it plainly
                log.error("reopening %s failed", path, exc_info=exc)
                result = Reopened(path=path, kind="text", problem="Something went wrong opening this file.")
            try:
                self._deliver.emit(partial(self._show, request, result))
            except RuntimeError:  # the viewer was deleted meanwhile
                pass

        self._executor.submit(work)

    def _show(self, request: int, result: Reopened) -> None:
        if request != self._request or self._row is None:
            return  # another source was opened meanwhile
        self.system_button.setEnabled(result.problem is None)
        if result.problem:
            self._show_problem(result.problem)
        elif result.kind == "pdf":
            self._show_pdf(result)
        else:
            self._show_text(result)
        self.loaded.emit(self._mode)

    def _show_problem(self, text: str) -> None:
        self._mode = "problem"
        self.problem_label.setText(text)
        self.stack.setCurrentWidget(self.problem_label)

    def _show_pdf(self, result: Reopened) -> None:
        error = self.pdf_view.load(str(result.path))
        if error:
            self._show_problem(error)
            return
        row = self._row
        page = row.get("page")
        first = None if result.changed or not page else page - 1
        last = None if first is None else (row.get("page_end") or page) - 1
        cited = None if first is None or not row.get("cited_page") else row["cited_page"] - 1
        found = self.pdf_view.mark_passage(row.get("text") or "", first, last, question_terms(self._question),
                                           min_share=CHANGED_MIN_SHARE if result.changed else 0.0, show=cited)
        if found is None:
            self.pdf_view.go_to(first or 0)
            self._set_note(NOT_IN_PDF if not result.changed else CHANGED_NOT_FOUND)
        else:
            self._set_note(result.note)
        self._mode = "pdf"
        self.stack.setCurrentWidget(self.pdf_view)
        self._set_paging(True)
        self._show_page_number(self.pdf_view.current_page())

    def _show_text(self, result: Reopened) -> None:
        self._mode = "text"
        self._set_note(result.note)
        view = self.text_view
        view.setPlainText(result.text)
        self.stack.setCurrentWidget(view)
        if result.start is None:
            view.setExtraSelections([])
            return
        text = result.text
        start, end = utf16_offset(text, result.start), utf16_offset(text, result.end)
        # The passage keeps its colour when the user's own selection moves elsewhere.
        marks = [_extra(view, start, end, PASSAGE_BACKGROUND)]
        view.setExtraSelections(marks)
        cursor = view.textCursor()
        # Land on the end first, then the start, so the passage's first line is what centres.
        cursor.setPosition(end)
        view.setTextCursor(cursor)
        view.centerCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        view.setTextCursor(cursor)

    # the page bar ---------------------------------------------------------------------
    def _set_paging(self, on: bool) -> None:
        for widget in (self.previous_button, self.next_button, self.page_label):
            widget.setVisible(on)

    def _step(self, delta: int) -> None:
        self.pdf_view.go_to(self.pdf_view.current_page() + delta)

    @Slot(int)
    def _show_page_number(self, page: int) -> None:
        count = self.pdf_view.pdf.pageCount()
        self.page_label.setText(f"Page {page + 1} of {count}" if count else "")
        self.previous_button.setEnabled(page > 0)
        self.next_button.setEnabled(page + 1 < count)

    def _set_note(self, text: str | None) -> None:
        self.note.setText(text or "")
        self.note.setVisible(bool(text))

    # the system viewer ---------------------------------------------------------------
    def external_url(self) -> QUrl:
        return QUrl.fromLocalFile(str(self._row.get("path") or "")) if self._row else QUrl()

    @Slot()
    def open_in_system_viewer(self) -> QUrl:
        """Hand the file to the desktop's own viewer; returns the URL it was given."""
        url = self.external_url()
        if url.isValid() and not url.isEmpty():
            self.open_url(url)
        return url

    # reading (the panel and tests) ---------------------------------------------------
    @property
    def mode(self) -> str:
        """pdf | text | problem once loaded; '' while opening."""
        return self._mode

    def problem(self) -> str:
        return self.problem_label.text() if self._mode == "problem" else ""

    def note_text(self) -> str:
        return self.note.text()

    def selected_text(self) -> str:
        """The text view's selection, with Qt's paragraph separators back as newlines."""
        return self.text_view.textCursor().selectedText().replace("\u2029", "\n")

    def row(self) -> dict | None:
        return self._row

    def shutdown(self) -> None:
        self._request += 1
        self._executor.shutdown(wait=True, cancel_futures=True)
        # The view renders pages in the background: one still on its way when the document goes
        # crashed the process later, in whatever event loop ran next. Detached, the view drops it.
        self.pdf_view.setDocument(None)
        self.pdf_document.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._request += 1  # a result still on its way is not shown
        super().closeEvent(event)


def _extra(view: QPlainTextEdit, start: int, end: int, color: QColor) -> QTextEdit.ExtraSelection:
    selection = QTextEdit.ExtraSelection()
    cursor = QTextCursor(view.document())
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    selection.cursor = cursor
    fmt = QTextCharFormat()
    fmt.setBackground(color)
    fmt.setForeground(PASSAGE_TEXT)
    selection.format = fmt
    return selection
