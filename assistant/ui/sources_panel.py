"""The interpretability panel: for one answer, every retrieved passage and why it was there.

Passages are listed in rank order with their file, page or lines, fused and
per-retriever scores, and badges for "went into the prompt as [n]" and "cited
by the answer". Each excerpt has the question's words marked, and under it the
sentences of it that the model was shown. A passage whose file is gone or changed
since it was indexed says so (checked each time an answer is shown, not as it was
recorded). A passage opens in the app's viewer (PDF at its page, text at its
lines) or in the system's viewer. Above the list: why the assistant abstained,
if it did, the timings, and the exact prompt.

    panel = SourcesPanel()
    panel.show_message(message)          # a stored Message; None clears the panel
    panel.select_citation(2)             # the source the answer calls [2]
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from assistant.knowledge.highlight import question_terms
from assistant.knowledge.passages import check_row
from assistant.store.conversations import Message
from assistant.store.source_rows import only_checked
from assistant.ui.prompt_dialog import PromptDialog
from assistant.ui.source_card import SourceCard, label
from assistant.ui.source_format import (
    abstain_text,
    check_problem_text,
    no_prompt_reason,
    panel_summary,
    timing_line,
)
from assistant.ui.source_viewer import SourceViewer
from assistant.ui.style import use_sheet

log = logging.getLogger("assistant.ui")

THREAD_PREFIX = "assistant-source-files"
MIN_WIDTH = 300
NOTHING_SHOWN = "Choose an answer to see the passages it was built from."
NO_DOCUMENTS = "This answer did not use your documents."

class SourcesPanel(QWidget):
    """Put it in a dock beside the chat; feed it the selected answer with `show_message`."""

    source_selected = Signal(dict)  # a source row, when one is selected (click or citation)
    open_requested = Signal(dict)  # a source row the user opened; the panel shows it in `viewer`
    files_checked = Signal()  # every card of the answer shown says what its file is now
    _deliver = Signal(object)  # a zero-argument callable to run on the UI thread

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sourcesPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        use_sheet(self, "sources")
        self.setMinimumWidth(MIN_WIDTH)
        # Replaced in tests: launching the desktop's viewer is not something a test does.
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self._message: Message | None = None
        self._question = ""
        self._cards: list[SourceCard] = []
        self._selected: SourceCard | None = None
        self._viewer: SourceViewer | None = None
        self.prompt_dialog: PromptDialog | None = None
        self._files: ThreadPoolExecutor | None = None  # made on first use: most answers need no file read
        self._shown = 0  # counts show_message calls: a file check of an answer no longer shown is dropped
        self._closed = False
        self._deliver.connect(lambda callback: callback(), Qt.ConnectionType.QueuedConnection)
        self._build()
        self.show_message(None)

    def _build(self) -> None:
        self.title = label("Sources", "panelTitle")
        self.question_label = label("", "panelQuestion", wrap=True)
        self.summary = label("", "panelSummary", wrap=True)
        self.abstain_label = label("", "panelAbstain", wrap=True)
        self.timings = label("", "panelTimings", wrap=True)
        # They quote the user's and the model's words, and error messages that may hold a '<'.
        for plain in (self.question_label, self.summary, self.abstain_label, self.timings):
            plain.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt_button = QPushButton("Show prompt")
        self.prompt_button.setObjectName("showPromptButton")
        self.prompt_button.clicked.connect(self.show_prompt)
        self.empty = label(NOTHING_SHOWN, "panelEmpty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._list = QWidget()
        self._list.setObjectName("sourcesList")
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 4, 0)
        self._list_layout.setSpacing(8)
        self._list_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("sourcesScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self._list)
        self.scroll.viewport().setAutoFillBackground(False)
        # Wrapped excerpts settle their heights over a few layout passes; keep the selected card
        # in view until they have.
        self.scroll.verticalScrollBar().rangeChanged.connect(self._keep_selected_visible)
        self._follow_selected = False

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.prompt_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(header)
        for widget in (self.question_label, self.summary, self.timings, self.abstain_label, self.empty):
            layout.addWidget(widget)
        layout.addWidget(self.scroll, 1)

    # showing an answer ------------------------------------------------------------------
    def show_message(self, message: Message | None, question: str | None = None) -> None:
        """Show `message`'s sources and details (None: nothing). `question` defaults to the one
        recorded with the answer."""
        self._message = message
        self._clear_cards()
        details = (message.details or {}) if message else {}
        self._question = question or details.get("question") or _question_from_prompt(details.get("prompt"))
        rows = sorted((message.sources or []) if message else [], key=lambda r: r.get("rank") or 0)
        self.question_label.setText(f"“{self._question}”" if self._question else "")
        self.question_label.setVisible(bool(self._question))
        self.summary.setText(panel_summary(message) if message and rows else "")
        self.summary.setVisible(bool(message and rows))
        why = "\n".join(text for text in (abstain_text(details), check_problem_text(details)) if text)
        self.abstain_label.setText(why)
        self.abstain_label.setVisible(bool(why))
        timing = timing_line(message) if message else ""
        self.timings.setText(timing)
        self.timings.setVisible(bool(timing))
        self.prompt_button.setEnabled(bool(details.get("prompt")))
        self.prompt_button.setToolTip(no_prompt_reason(message) if message else "")
        self.prompt_button.setVisible(message is not None)
        self.empty.setText(NOTHING_SHOWN if message is None else NO_DOCUMENTS)
        self.empty.setVisible(not rows)
        terms = question_terms(self._question)
        checked_only = only_checked(details)
        for row in rows:
            card = SourceCard(row, terms, checked_only=checked_only)
            card.clicked.connect(self.select_rank)
            card.open_clicked.connect(self._open_rank)
            card.system_clicked.connect(self._system_rank)
            self._list_layout.insertWidget(self._list_layout.count() - 1, card)
            self._cards.append(card)
        self._fit_cards()
        self._check_files()

    def _check_files(self) -> None:
        """Each card's file as it is now: an answer reopened days later says so if its file has gone
        or changed since, whatever was recorded then. A stat per file here (as the cards' buttons
        do); a file whose stat moved is hashed on a worker thread, as the viewer's are."""
        self._shown += 1
        shown, pending = self._shown, []
        for card in self._cards:
            check = check_row(card.row, read=False)
            if check is None:
                pending.append(card)
            else:
                card.set_file_state(check.state)
        if not pending or self._closed:
            self.files_checked.emit()
            return
        if self._files is None:
            self._files = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_PREFIX)
            # A panel deleted without shutdown() still lets its idle thread end.
            weakref.finalize(self, self._files.shutdown, wait=False, cancel_futures=True)
        rows = [card.row for card in pending]

        def work() -> None:
            states = []
            for row in rows:
                try:
                    states.append(check_row(row).state)
                except Exception as exc:  # noqa: BLE001 - a bug: logged, and the card keeps what it shows
                    log.error("checking %s failed", row.get("path"), exc_info=exc)
                    states.append(row.get("file_state"))
            try:
                self._deliver.emit(partial(self._show_file_states, shown, pending, states))
            except RuntimeError:  # the panel was deleted meanwhile
                pass

        self._files.submit(work)

    def _show_file_states(self, shown: int, cards: list[SourceCard], states: list[str | None]) -> None:
        if shown != self._shown:
            return  # another answer is shown now; its cards are not these
        for card, state in zip(cards, states, strict=True):
            card.set_file_state(state)
        self.files_checked.emit()

    def _fit_cards(self) -> None:
        """At least as wide as the widest card needs: the list does not scroll sideways, so a
        narrower panel cut the cards' right edges (badges, the ends of lines) off."""
        needed = 0
        for card in self._cards:
            card.ensurePolished()
            needed = max(needed, card.minimumSizeHint().width())
        margins = self.layout().contentsMargins()
        chrome = (margins.left() + margins.right() + self._list_layout.contentsMargins().right()
                  + self.scroll.verticalScrollBar().sizeHint().width() + 2 * self.scroll.frameWidth())
        self.setMinimumWidth(max(MIN_WIDTH, needed + chrome if needed else 0))

    def follow(self, chat_view, load_message: Callable[[int], Message | None]) -> None:
        """Show the answer the user clicks in `chat_view` (a ChatView), and select the source of a
        clicked [n]. `load_message(id)` reads a stored Message (core.conversations.message)."""
        chat_view.answer_selected.connect(lambda message_id: self.show_answer(message_id, load_message))
        chat_view.citation_clicked.connect(
            lambda message_id, number: self.show_answer(message_id, load_message, number))

    def show_answer(self, message_id: int, load_message: Callable[[int], Message | None],
                    citation: int | None = None) -> None:
        """Show the stored answer `message_id` (unless it is shown already), then select [citation]."""
        if self._message is None or self._message.id != message_id:
            self.show_message(load_message(message_id))
        if citation is not None:
            self.select_citation(citation)

    @Slot()
    def _keep_selected_visible(self) -> None:
        if self._follow_selected and self._selected is not None:
            self.scroll.ensureWidgetVisible(self._selected, 0, 8)

    def _clear_cards(self) -> None:
        self._follow_selected = False
        for card in self._cards:
            self._list_layout.removeWidget(card)
            card.deleteLater()
        self._cards.clear()
        self._selected = None

    # selecting --------------------------------------------------------------------------
    @Slot(int)
    def select_rank(self, rank: int) -> bool:
        card = next((c for c in self._cards if c.rank == rank), None)
        if card is None:
            return False
        if self._selected is not None and self._selected is not card:
            self._selected.set_selected(False)
        self._selected = card
        card.set_selected(True)
        self._follow_selected = True
        self.scroll.ensureWidgetVisible(card, 0, 8)
        self.source_selected.emit(card.row)
        return True

    @Slot(int)
    def select_citation(self, number: int) -> bool:
        """Select the source the answer calls [number]; False when there is none."""
        card = next((c for c in self._cards if c.row.get("in_prompt") and c.row.get("number") == number), None)
        return self.select_rank(card.rank) if card is not None else False

    # opening ----------------------------------------------------------------------------
    @Slot(int)
    def _open_rank(self, rank: int) -> None:
        if self.select_rank(rank):
            self.open_source(self._selected.row)

    @Slot(int)
    def _system_rank(self, rank: int) -> None:
        card = next((c for c in self._cards if c.rank == rank), None)
        if card is not None:
            self.open_in_system_viewer(card.row)

    def open_source(self, row: dict) -> SourceViewer:
        """Show `row` in the app's viewer (a window of its own, reused)."""
        self.open_requested.emit(row)
        viewer = self.viewer()
        viewer.open_source(row, self._question)
        viewer.show()
        viewer.raise_()
        return viewer

    def open_in_system_viewer(self, row: dict) -> QUrl:
        """Hand the source's file to the desktop's viewer; returns the URL it was given."""
        url = QUrl.fromLocalFile(row.get("path") or "")
        if row.get("path"):
            self.open_url(url)
        return url

    def viewer(self) -> SourceViewer:
        if self._viewer is None:
            self._viewer = SourceViewer(self)
            self._viewer.open_url = lambda url: self.open_url(url)
            use_sheet(self._viewer, "sources")
        return self._viewer

    @Slot()
    def show_prompt(self) -> PromptDialog | None:
        if self._message is None:
            return None
        if self.prompt_dialog is not None:
            self.prompt_dialog.close()
            self.prompt_dialog.deleteLater()
        self.prompt_dialog = PromptDialog(self._message, self)
        self.prompt_dialog.show()
        return self.prompt_dialog

    # reading (the window and tests) -------------------------------------------------------
    def message(self) -> Message | None:
        return self._message

    def question(self) -> str:
        return self._question

    def cards(self) -> list[SourceCard]:
        return list(self._cards)

    def selected(self) -> dict | None:
        return self._selected.row if self._selected is not None else None

    def shutdown(self) -> None:
        """End the viewer's and the file checks' worker threads (call when the window closes). Idempotent."""
        self._shown += 1
        self._closed = True
        if self._files is not None:
            self._files.shutdown(wait=True, cancel_futures=True)
        if self._viewer is not None:
            self._viewer.shutdown()


def _question_from_prompt(prompt: str | None) -> str:
    """Answers recorded before the question was stored: the prompt ends with it."""
    if not prompt:
        return ""
    at = prompt.rfind("Question: ")
    if at < 0:
        return ""
    return prompt[at + len("Question: "):].split("\n", 1)[0].strip()
