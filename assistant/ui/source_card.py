"""One retrieved passage in the Sources panel: its file and place, badges for "in the prompt as
[n]" and "cited", a warning when its file is gone or changed since it was indexed, its scores, an
excerpt with the question's words marked, the sentences the model was shown, and buttons to open it."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from assistant.knowledge.passages import FILE_GONE, file_warning
from assistant.store.source_rows import evidence_lines, source_place
from assistant.ui.source_format import breakable, highlighted_html, score_line, score_tooltip, source_title

EXCERPT_CHARS = 700


def label(text: str, name: str, *, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


class _ElidedLabel(QLabel):
    """One line that fits any width: too long, its name is drawn with '…' in the middle and `keep`
    (the page or lines) stays whole; text() and the tooltip keep it all. A plain QLabel asks for its
    whole width, so one long file name made every card wider than the panel, and the panel cut all
    their right edges off."""

    def __init__(self, text: str, keep: str = ""):
        super().__init__(text)
        self._keep = keep if text.endswith(keep) else ""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance("…") * 6 + metrics.horizontalAdvance(self._keep)
        return QSize(width, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        text, width, metrics = self.text(), self.contentsRect().width(), self.fontMetrics()
        if metrics.horizontalAdvance(text) <= width:
            return text
        name = text[:len(text) - len(self._keep)]
        room = max(0, width - metrics.horizontalAdvance(self._keep))
        return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room) + self._keep

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.shown_text(), QPalette.ColorRole.WindowText)


class SourceCard(QFrame):
    """One retrieved passage. A click selects it; Open shows it in the app's viewer."""

    clicked = Signal(int)  # the passage's rank
    open_clicked = Signal(int)
    system_clicked = Signal(int)

    def __init__(self, row: dict, terms: list[str], parent: QWidget | None = None, *, checked_only: bool = False):
        super().__init__(parent)
        self.row = row
        self.rank = int(row.get("rank") or 0)
        self.setObjectName("sourceCard")
        self.setProperty("selected", False)
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(label(f"#{self.rank}", "sourceRank"))
        place = source_place(row)
        self.title = _ElidedLabel(source_title(row), f" · {place}" if place else "")
        self.title.setObjectName("sourceTitle")
        self.title.setToolTip(row.get("path") or "")
        top.addWidget(self.title, 1)
        self.badge_labels: list[QLabel] = []
        # Held back by the yes/no check, the numbered passages were read by the check alone: there
        # is no prompt for "in prompt" to point at.
        if row.get("in_prompt") and checked_only:
            self._badge(top, f"[{row.get('number')}] read by the check", "badgeInPrompt",
                        "The yes/no check read this passage under this number; the model was not asked to "
                        "answer.")
        elif row.get("in_prompt"):
            self._badge(top, f"[{row.get('number')}] in prompt", "badgeInPrompt",
                        "This passage went into the prompt under this number.")
        else:
            self._badge(top, "not in prompt", "badgeUnused", "Retrieved, but not given to the model.")
        if row.get("cited"):
            self._badge(top, "cited", "badgeCited", "The answer cites this passage.")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(top)
        # Under the title, above all the rest: a citation of a file that is gone or was edited is
        # not evidence of what the file says now, and must not read as if it were.
        self.file_warning = label("", "sourceFileWarning", wrap=True)
        self.file_warning.setTextFormat(Qt.TextFormat.PlainText)
        bold = self.file_warning.font()
        bold.setBold(True)
        self.file_warning.setFont(bold)
        layout.addWidget(self.file_warning)
        if row.get("heading"):
            layout.addWidget(label(row["heading"], "sourceHeading", wrap=True))
        self.scores = label(score_line(row), "sourceScores", wrap=True)
        self.scores.setToolTip(score_tooltip(row))
        layout.addWidget(self.scores)
        self.excerpt = label("", "sourceExcerpt", wrap=True)
        self.excerpt.setTextFormat(Qt.TextFormat.RichText)
        self.excerpt.setText(highlighted_html(row.get("text") or "", terms, EXCERPT_CHARS,
                                              join_lines=bool(row.get("page"))))
        layout.addWidget(self.excerpt)
        shown = evidence_lines(row)
        self.evidence = label("", "sourceEvidence", wrap=True)
        self.evidence.setTextFormat(Qt.TextFormat.RichText)
        reader = "the check" if checked_only else "the model"
        self.evidence.setText(f"<b>Shown to {reader}:</b> " + " … ".join(html.escape(breakable(t)) for t in shown))
        self.evidence.setToolTip(f"The sentences of this passage that best match the question: {reader} reads "
                                 "these, not the whole passage.")
        self.evidence.setVisible(bool(shown))
        layout.addWidget(self.evidence)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openSourceButton")
        self.open_button.setToolTip("Show the passage in its document")
        self.open_button.clicked.connect(lambda: self.open_clicked.emit(self.rank))
        self.system_button = QPushButton("Open in the system viewer")
        self.system_button.setObjectName("cardSystemButton")
        self.system_button.clicked.connect(lambda: self.system_clicked.emit(self.rank))
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.system_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.file_state: str | None = None
        self.set_file_state(row.get("file_state"))

    def set_file_state(self, state: str | None) -> None:
        """Show what the passage's file is now (see passages.check_file): the recorded state at
        first, then the panel's check of the file as it is when the answer is shown."""
        self.file_state = state
        warning = file_warning(state)
        self.file_warning.setText(f"⚠ {warning}" if warning else "")
        self.file_warning.setToolTip("Checked when this answer was shown. Index the collection again to "
                                     "cite the documents as they are now." if warning else "")
        self.file_warning.setVisible(bool(warning))
        there = state != FILE_GONE and Path(self.row.get("path") or "").is_file()
        self.system_button.setEnabled(there)
        self.system_button.setToolTip("" if there else "The file is no longer there.")

    def _badge(self, layout: QHBoxLayout, text: str, name: str, tip: str) -> None:
        badge = label(text, name)
        badge.setToolTip(tip)
        layout.addWidget(badge)
        self.badge_labels.append(badge)

    def badges(self) -> list[str]:
        return [b.text() for b in self.badge_labels]

    @property
    def selected(self) -> bool:
        return bool(self.property("selected"))

    def set_selected(self, on: bool) -> None:
        self.setProperty("selected", on)
        self.style().unpolish(self)
        self.style().polish(self)
        self.updateGeometry()  # a style may change the frame's width, and wrapped text needs relayout

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.rank)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self.open_clicked.emit(self.rank)
        super().mouseDoubleClickEvent(event)
