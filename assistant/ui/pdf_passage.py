"""A PDF page with a passage marked on it: QPdfView plus an overlay.

QPdfView paints only its own search results, and a passage of several lines
is not something its search finds (the page text has line breaks where the
passage has spaces). So the passage is located in the page's text here
(`passage_on_pages`), turned into rectangles with QPdfDocument's selection
API, and painted over the page. The page's position on screen follows the
layout QPdfView uses for one page at a time: scaled to the zoom, centred,
inside the document margins, moved by the scroll bars.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QWidget

from assistant.knowledge.highlight import term_spans
from assistant.knowledge.passages import passage_on_pages

FILL = QColor(250, 204, 21, 80)  # translucent, so the page's text shows through
TERM_FILL = QColor(234, 88, 12, 70)
MAX_PAGES_SEARCHED = 2000  # a changed file: look for the passage on every page, up to this many
SCROLL_MARGIN = 40  # pixels of page shown above the passage

_LOAD_ERRORS = {
    QPdfDocument.Error.FileNotFound: "The PDF is no longer there.",
    QPdfDocument.Error.InvalidFileFormat: "The file is not a readable PDF (any more).",
    QPdfDocument.Error.IncorrectPassword: "The PDF is password-protected.",
    QPdfDocument.Error.UnsupportedSecurityScheme: "The PDF uses an encryption that is not supported.",
    QPdfDocument.Error.DataNotYetAvailable: "The PDF could not be read completely.",
}


class PassagePdfView(QPdfView):
    """One page at a time, fitted to the width, with the passage's lines painted over it."""

    def __init__(self, document: QPdfDocument, parent: QWidget | None = None):
        """`document` must not be this view's child: a document destroyed as the view's child
        reports its closing to the half-destroyed view, which crashes. Keep it parentless, held
        from Python, so it goes after the view (whose connections to it are gone by then)."""
        super().__init__(parent)
        self.setObjectName("pdfPassageView")
        self.setPageMode(QPdfView.PageMode.SinglePage)
        self.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.pdf = document
        self.setDocument(document)
        self._marks: dict[int, list[QPolygonF]] = {}
        self._term_marks: dict[int, list[QPolygonF]] = {}
        self._marked_text: dict[int, str] = {}
        self._scroll_to: float | None = None  # page points from the top of the passage's page
        self.pageNavigator().currentPageChanged.connect(lambda _page: self.viewport().update())

    # loading -------------------------------------------------------------------------
    def load(self, path: str) -> str | None:
        """Open the PDF; returns why it could not be opened, or None."""
        self.clear()
        error = self.pdf.load(path)
        if error != QPdfDocument.Error.None_:
            return _LOAD_ERRORS.get(error, "The PDF could not be opened.")
        return None

    def clear(self) -> None:
        self._marks.clear()
        self._term_marks.clear()
        self._marked_text.clear()
        self._scroll_to = None
        self.pdf.close()
        self.viewport().update()

    def page_text(self, page: int) -> str:
        return self.pdf.getAllText(page).text()

    def mark_passage(self, passage: str, first_page: int | None, last_page: int | None,
                     terms: list[str] = (), min_share: float = 0.0, show: int | None = None) -> int | None:
        """Find `passage` recorded on `first_page`..`last_page` (0-based; None: anywhere), mark it
        and the question's `terms` in it, and show page `show` if the passage is on it (the page of
        the sentence an answer cited), else its recorded first page. Returns the page shown, or
        None when it is not in the PDF, or less than `min_share` of it is (see passage_on_pages)."""
        count = self.pdf.pageCount()
        if first_page is not None and 0 <= first_page < count:
            # A chunk may open with an overlap sentence from the page before its recorded one.
            last = min(max(last_page or first_page, first_page), count - 1)
            pages = list(range(max(first_page - 1, 0), last + 1))
        else:
            pages = list(range(min(count, MAX_PAGES_SEARCHED)))
        spans = passage_on_pages([self.page_text(p) for p in pages], passage, min_share)
        if not spans:
            return None
        for index, start, end in spans:
            page = pages[index]
            selection = self.pdf.getSelectionAtIndex(page, start, end - start)
            self._marks[page] = list(selection.bounds())
            self._marked_text[page] = selection.text()
            text = self.page_text(page)
            self._term_marks[page] = [poly for a, b in term_spans(text[start:end], list(terms))
                                      for poly in self.pdf.getSelectionAtIndex(page, start + a, b - a).bounds()]
        shown = next((p for p in (show, first_page) if p in self._marks), pages[spans[0][0]])
        self.go_to(shown)
        self._scroll_to = min((poly.boundingRect().top() for poly in self._marks[shown]), default=0.0)
        self._apply_scroll()
        return shown

    # reading (the viewer and tests) ----------------------------------------------------
    def current_page(self) -> int:
        return self.pageNavigator().currentPage()

    def marks(self, page: int) -> list[QRectF]:
        """The passage's rectangles on `page`, in page points (origin top left)."""
        return [poly.boundingRect() for poly in self._marks.get(page, [])]

    def term_marks(self, page: int) -> list[QRectF]:
        """The question's words inside the passage on `page`, in page points."""
        return [poly.boundingRect() for poly in self._term_marks.get(page, [])]

    def marked_text(self) -> str:
        return "\n".join(self._marked_text[p] for p in sorted(self._marked_text))

    def go_to(self, page: int) -> None:
        if 0 <= page < self.pdf.pageCount():
            self.pageNavigator().jump(page, QPointF(), self.pageNavigator().currentZoom())

    # geometry -----------------------------------------------------------------------
    def page_rect(self) -> QRectF:
        """Where the current page is drawn, in viewport pixels."""
        page = self.current_page()
        if self.pdf.status() != QPdfDocument.Status.Ready or page < 0:
            return QRectF()
        points = self.pdf.pagePointSize(page)
        screen = QGuiApplication.primaryScreen()
        resolution = screen.logicalDotsPerInch() / 72.0 if screen else 1.0
        margins = self.documentMargins()
        viewport = self.viewport().size()
        base = QSizeF(points * resolution).toSize()
        mode = self.zoomMode()
        if mode == QPdfView.ZoomMode.FitToWidth and base.width() > 0:
            size = base * ((viewport.width() - margins.left() - margins.right()) / base.width())
        elif mode == QPdfView.ZoomMode.FitInView:
            room = viewport.shrunkBy(margins)
            room.setHeight(viewport.height() - self.pageSpacing())
            size = base.scaled(room, Qt.AspectRatioMode.KeepAspectRatio)
        else:
            size = QSizeF(points * resolution * self.zoomFactor()).toSize()
        total_width = size.width() + margins.left() + margins.right()
        x = (max(total_width, viewport.width()) - size.width()) // 2
        return QRectF(x - self.horizontalScrollBar().value(), margins.top() - self.verticalScrollBar().value(),
                      size.width(), size.height())

    def to_viewport(self, rect: QRectF) -> QRectF:
        """A rectangle in page points on the current page, in viewport pixels."""
        page = self.page_rect()
        points = self.pdf.pagePointSize(self.current_page())
        if page.isEmpty() or points.width() <= 0:
            return QRectF()
        scale = page.width() / points.width()
        return QRectF(page.left() + rect.left() * scale, page.top() + rect.top() * scale,
                      rect.width() * scale, rect.height() * scale)

    def _apply_scroll(self) -> None:
        if self._scroll_to is None:
            return
        page = self.page_rect()
        points = self.pdf.pagePointSize(self.current_page())
        if page.isEmpty() or points.width() <= 0:
            return
        bar = self.verticalScrollBar()
        scale = page.width() / points.width()
        page_top = page.top() + bar.value()
        bar.setValue(int(page_top + self._scroll_to * scale - SCROLL_MARGIN))

    # painting -----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        page = self.current_page()
        if not self._marks.get(page):
            return
        painter = QPainter(self.viewport())
        painter.setPen(Qt.PenStyle.NoPen)
        for rects, color in ((self.marks(page), FILL), (self.term_marks(page), TERM_FILL)):
            painter.setBrush(QBrush(color))
            for rect in rects:
                painter.drawRect(self.to_viewport(rect).adjusted(-1, -1, 1, 1))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._apply_scroll()  # the zoom follows the width, so the passage moved
