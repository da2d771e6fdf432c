"""The transcript: one bubble per message, the answer growing as it streams, rendered as Markdown.

Under a question: Edit. Under an answer: Copy, and on the last one Regenerate.
The view only reports those clicks; the window decides what they do.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal, Slot
from PySide6.QtGui import QClipboard, QGuiApplication, QMouseEvent, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from assistant.citations import CITATION_RE, outside_code
from assistant.store.conversations import Message
from assistant.ui.answer_copy import answer_mime
from assistant.ui.formatting import answer_timings
from assistant.ui.source_format import ZERO_WIDTH_SPACE, breakable

CURSOR = " ▍"
_BODY_STYLE = re.compile(r"<body [^>]*>")
EMPTY_HINT = "Ask anything. Everything stays on this computer."
CODE_BACKGROUND = "rgba(127, 127, 127, 0.12)"  # reads on light and dark bubbles alike


# Citations (assistant.citations) pass through the Markdown conversion as private-use markers,
# which become links in the HTML.
CITE_SCHEME = "cite:"
_MARKER_RE = re.compile(r"\ue000(\d+)\ue001")
# One colour for both themes: an answer already drawn keeps its link colour when the theme changes.
_LINK = ('<a href="' + CITE_SCHEME + '{n}" style="color:#3b82f6; text-decoration:none; font-weight:600;">'
         "[{n}]</a>")


# A QLabel wraps only at word boundaries, so one long unbroken run (a URL, a hash, a code line
# without spaces) would set the bubble's minimum width and push the view sideways. breakable()
# puts zero-width spaces into such runs; copying out of a bubble strips them again.
_TAG_RE = re.compile(r"(<[^>]*>)")


def breakable_html(html: str) -> str:
    """breakable() applied to the text of `html`'s body, leaving tags, links and the head alone."""
    head, sep, body = html.partition("<body")
    if not sep:
        head, body = "", html
    parts = _TAG_RE.split(body)
    return head + sep + "".join(p if i % 2 else breakable(p) for i, p in enumerate(parts))


def _mark_citations(text: str, count: int) -> str:
    return outside_code(text, lambda part: CITATION_RE.sub(
        lambda m: f"\ue000{m.group(1)}\ue001" if 1 <= int(m.group(1)) <= count else m.group(0), part))


def markdown_html(text: str, citations: int = 0) -> str:
    """An answer's Markdown as rich text whose code blocks wrap instead of widening the window.
    Citation markers [1]..[citations] become `cite:n` links."""
    doc = QTextDocument()
    doc.setMarkdown(_mark_citations(text, citations) if citations else text)
    html = doc.toHtml().replace('<pre style="', f'<pre style=" white-space:pre-wrap; background-color:{CODE_BACKGROUND};')
    html = breakable_html(_MARKER_RE.sub(lambda m: _LINK.format(n=m.group(1)), html))
    return _BODY_STYLE.sub("<body>", html, count=1)  # keep the label's own font


def cited_sources(message: Message) -> int:
    """How many numbered sources the answer's prompt had (its citations run 1..this)."""
    return sum(1 for row in message.sources or [] if row.get("in_prompt"))


class MessageBubble(QFrame):
    """One message: its text, and for an answer a line with model, speed and how it ended."""

    citation_clicked = Signal(int)  # the n of a clicked [n]
    pressed = Signal()  # a click anywhere on the bubble
    action_clicked = Signal(str)  # "copy", "regenerate" or "edit"

    def __init__(self, role: str, text: str = "", meta: str = "", *, streaming: bool = False,
                 status: str = "complete", message_id: int | None = None, citations: int = 0,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.role = role
        self.status = status
        self.message_id = message_id
        self.citations = citations
        self._text = text
        self._streaming = streaming
        self.setObjectName("userBubble" if role == "user" else "answerBubble")
        self.setProperty("status", status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.who = QLabel("You" if role == "user" else "Assistant")
        self.who.setObjectName("bubbleWho")
        self.body = QLabel()
        self.body.setObjectName("bubbleBody")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText if role == "user" else Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard
                                          | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.body.setOpenExternalLinks(False)
        self.body.linkActivated.connect(self._on_link)
        self.body.installEventFilter(self)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.notes = QLabel()
        self.notes.setObjectName("bubbleNotes")
        self.notes.setWordWrap(True)
        self.notes.hide()
        self.meta = QLabel(meta)
        self.meta.setObjectName("bubbleMeta")
        self.meta.setWordWrap(True)
        self.meta.setVisible(bool(meta))
        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(4)
        actions.addStretch(1)
        for key, label, tip in (("edit", "Edit", "Change this question and ask it again"),
                                ("copy", "Copy", "Copy the answer to paste into a document or an e-mail, formatting and all"),
                                ("regenerate", "Regenerate", "Ask the last question again for a new answer")):
            if (key == "edit") != (role == "user"):
                continue
            button = QPushButton(label)
            button.setObjectName(f"{key}Button")
            button.setProperty("bubbleAction", True)
            button.setToolTip(tip)
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _checked=False, k=key: self.action_clicked.emit(k))
            actions.addWidget(button)
            self.buttons[key] = button
        layout.addWidget(self.who)
        layout.addWidget(self.body)
        layout.addWidget(self.notes)
        layout.addWidget(self.meta)
        layout.addLayout(actions)
        self._render()

    @property
    def text(self) -> str:
        """The message's own text (the body may show it rendered as Markdown)."""
        return self._text

    @property
    def streaming(self) -> bool:
        return self._streaming

    def append(self, chunk: str, replace: bool = False) -> None:
        self._text = chunk if replace else self._text + chunk
        self._render()

    def add_note(self, note: str) -> None:
        current = self.notes.text()
        self.notes.setText(f"{current}\n{note}" if current else note)
        self.notes.show()

    def finish(self, text: str, meta: str, status: str, *, message_id: int | None = None,
               citations: int = 0) -> None:
        self._text = text
        self.message_id = message_id if message_id is not None else self.message_id
        self.citations = citations
        self._streaming = False
        self.status = status
        self.setProperty("status", status)
        self.style().unpolish(self)
        self.style().polish(self)
        self.meta.setText(meta)
        self.meta.setVisible(bool(meta))
        self._render()

    def set_actions(self, **shown: bool) -> None:
        """Show or hide action buttons by key (edit=, copy=, regenerate=); a streaming answer has none."""
        for key, on in shown.items():
            if key in self.buttons:
                self.buttons[key].setVisible(on and not self._streaming)

    def _render(self) -> None:
        text = self._text
        if self._streaming:
            text = (text + CURSOR) if text else "…"
        elif not text and self.role == "assistant":
            text = "(no text)"
        citations = 0 if self._streaming else self.citations
        self.body.setText(breakable(text) if self.role == "user" else markdown_html(text, citations))

    @Slot(str)
    def _on_link(self, href: str) -> None:
        if href.startswith(CITE_SCHEME) and href[len(CITE_SCHEME):].isdigit():
            self.citation_clicked.emit(int(href[len(CITE_SCHEME):]))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # The body label takes the clicks on the text (to select it); a press there still
        # counts as a click on the bubble.
        if watched is self.body and event.type() == QEvent.Type.MouseButtonPress:
            self.pressed.emit()
        return super().eventFilter(watched, event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self.pressed.emit()
        super().mousePressEvent(event)


class ChatView(QScrollArea):
    """The shown conversation. The last answer can grow while it streams."""

    answer_text_changed = Signal(str)  # the live answer's whole text, after each batch
    citation_clicked = Signal(int, int)  # (answer message id, n) for a click on [n] in an answer
    answer_selected = Signal(int)  # the message id of an answer the user clicked
    edit_requested = Signal(int, str)  # (question message id, its text)
    regenerate_requested = Signal(int)  # the answer's message id
    copied = Signal(int)  # an answer went to the clipboard, as rich and plain text (its message id)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setWidgetResizable(True)
        # Text, code and long unbroken runs all wrap (see breakable); only something that cannot
        # wrap, such as a table with many columns, brings a horizontal bar.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._inner = QWidget()
        self._inner.setObjectName("chatInner")
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(16, 16, 16, 16)
        self._layout.setSpacing(10)
        self._empty = QLabel(EMPTY_HINT)
        self._empty.setObjectName("emptyHint")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)  # unwrapped, the hint alone made a narrow view scroll sideways
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)
        self.setWidget(self._inner)
        self._bubbles: list[MessageBubble] = []
        self._live: MessageBubble | None = None
        self._busy = False
        self._stick_to_bottom = True
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)
        clipboard = QGuiApplication.clipboard()
        # Bound slots, not lambdas: Qt drops them when this view goes, so a copy made after that
        # does not reach a deleted view.
        clipboard.dataChanged.connect(self._clean_clipboard)
        if clipboard.supportsSelection():  # X11: selecting text is a copy the middle button pastes
            clipboard.selectionChanged.connect(self._clean_selection)

    # reading (tests and the window) ------------------------------------------
    def bubbles(self) -> list[MessageBubble]:
        return list(self._bubbles)

    def live_text(self) -> str:
        """The text of the answer being written, or '' when none is."""
        return self._live.text if self._live is not None else ""

    def last_answer(self) -> MessageBubble | None:
        answers = [b for b in self._bubbles if b.role == "assistant"]
        return answers[-1] if answers else None

    # writing --------------------------------------------------------------------
    def clear(self) -> None:
        for bubble in self._bubbles:
            self._layout.removeWidget(bubble)
            bubble.deleteLater()
        self._bubbles.clear()
        self._live = None
        self._empty.show()

    def truncate_from(self, message_id: int) -> None:
        """Drop the bubble of `message_id` and every one after it (an edited question's old tail)."""
        at = next((i for i, b in enumerate(self._bubbles) if b.message_id == message_id), None)
        if at is None:
            return
        for bubble in self._bubbles[at:]:
            self._layout.removeWidget(bubble)
            bubble.deleteLater()
        del self._bubbles[at:]
        if self._live is not None and self._live not in self._bubbles:
            self._live = None
        self._empty.setVisible(not self._bubbles)
        self._update_actions()

    def set_busy(self, busy: bool) -> None:
        """While an answer is written, nothing can be edited or regenerated."""
        self._busy = busy
        self._update_actions()

    def _update_actions(self) -> None:
        last = self.last_answer()
        for bubble in self._bubbles:
            bubble.set_actions(edit=not self._busy and bubble.message_id is not None, copy=True,
                               regenerate=not self._busy and bubble is last and bubble.message_id is not None)

    def show_messages(self, messages: list[Message], meta_for) -> None:
        """Replace the transcript. `meta_for(message)` gives an answer's meta line."""
        self.clear()
        for m in messages:
            if m.role not in ("user", "assistant"):
                continue
            meta = meta_for(m) if m.role == "assistant" else ""
            bubble = self._add(MessageBubble(m.role, m.content, meta, status=m.status, message_id=m.id,
                                             citations=cited_sources(m) if m.role == "assistant" else 0))
            bubble.meta.setToolTip(answer_timings(m) if m.role == "assistant" else "")
        self._stick_to_bottom = True
        self._update_actions()

    def add_user(self, text: str, message_id: int | None = None) -> MessageBubble:
        self._stick_to_bottom = True
        return self._add(MessageBubble("user", text, message_id=message_id))

    def set_question_id(self, bubble: MessageBubble, message_id: int) -> None:
        """The question shown before it was stored now has its id (and so can be edited)."""
        bubble.message_id = message_id
        self._update_actions()

    def begin_answer(self) -> MessageBubble:
        self._live = self._add(MessageBubble("assistant", streaming=True, status="streaming"))
        return self._live

    def append_to_answer(self, chunk: str, replace: bool = False) -> None:
        """Add `chunk` to the answer being written; with `replace`, it replaces the text so far."""
        if self._live is None or not (chunk or replace):
            return
        self._live.append(chunk, replace=replace)
        self.answer_text_changed.emit(self._live.text)

    def add_note(self, note: str) -> None:
        if self._live is not None:
            self._live.add_note(note)

    def finish_answer(self, message: Message, meta: str) -> None:
        if self._live is None:
            return
        self._live.finish(message.content, meta, message.status, message_id=message.id,
                          citations=cited_sources(message))
        self._live.meta.setToolTip(answer_timings(message))
        self._live = None
        self._update_actions()

    def bubble_for(self, message_id: int) -> MessageBubble | None:
        return next((b for b in self._bubbles if b.message_id == message_id), None)

    def _add(self, bubble: MessageBubble) -> MessageBubble:
        if bubble.role == "assistant":
            bubble.citation_clicked.connect(lambda n, b=bubble: self._on_citation(b, n))
            bubble.pressed.connect(lambda b=bubble: self._on_pressed(b))
        bubble.action_clicked.connect(lambda key, b=bubble: self._on_action(b, key))
        self._empty.hide()
        self._layout.insertWidget(self._layout.count() - 1, bubble)  # above the stretch
        self._bubbles.append(bubble)
        self._update_actions()
        return bubble

    def _on_action(self, bubble: MessageBubble, key: str) -> None:
        if bubble.message_id is None:
            return
        if key == "copy":
            QGuiApplication.clipboard().setMimeData(answer_mime(bubble.text))
            self.copied.emit(bubble.message_id)
        elif key == "edit":
            self.edit_requested.emit(bubble.message_id, bubble.text)
        elif key == "regenerate":
            self.regenerate_requested.emit(bubble.message_id)

    def _on_citation(self, bubble: MessageBubble, number: int) -> None:
        if bubble.message_id is not None:
            self.citation_clicked.emit(bubble.message_id, number)

    def _on_pressed(self, bubble: MessageBubble) -> None:
        if bubble.message_id is not None:
            self.answer_selected.emit(bubble.message_id)

    @Slot()
    def _clean_clipboard(self) -> None:
        self._clean_copied(QClipboard.Mode.Clipboard)

    @Slot()
    def _clean_selection(self) -> None:
        self._clean_copied(QClipboard.Mode.Selection)

    def _clean_copied(self, mode: QClipboard.Mode) -> None:
        """Text copied out of a bubble (or, on X11, selected in one) loses the zero-width spaces
        breakable() put in. Setting the clean text calls this again, and then there is none."""
        # Not every platform reports clipboard ownership, so a selection in a bubble stands for it;
        # it is checked first, so another program's copy is not even read (X11 fetches it).
        if not any(b.body.hasSelectedText() for b in self._bubbles):
            return
        clipboard = QGuiApplication.clipboard()
        # A bubble keeps its selection after the user selects text in another program; X11 does
        # report ownership, so there the other program's text is left alone.
        if clipboard.supportsSelection() and not (
                clipboard.ownsSelection() if mode == QClipboard.Mode.Selection else clipboard.ownsClipboard()):
            return
        data = clipboard.mimeData(mode)
        if data is None or ZERO_WIDTH_SPACE not in data.text():
            return
        clean = QMimeData()
        clean.setText(data.text().replace(ZERO_WIDTH_SPACE, ""))
        if data.hasHtml():
            clean.setHtml(data.html().replace(ZERO_WIDTH_SPACE, "").replace("&#8203;", ""))
        clipboard.setMimeData(clean, mode)

    # keep the newest text in view, unless the user scrolled up to read ----------
    @Slot(int, int)
    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._stick_to_bottom:
            self.verticalScrollBar().setValue(maximum)

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        self._stick_to_bottom = value >= self.verticalScrollBar().maximum() - 8
