"""Below the transcript: which documents the answer draws on, the question box, Send and Stop.

While a previous question is being edited, a strip above the box says so and
offers Cancel; the window decides what Send does then.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

EDITING_TEXT = "Editing an earlier question: Send asks it again and replaces everything after it."


class PromptEdit(QPlainTextEdit):
    """The question box: Enter sends, Shift+Enter starts a new line."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("promptEdit")
        self.setPlaceholderText("Ask something…  (Enter sends, Shift+Enter adds a line)")
        self.setTabChangesFocus(True)
        self.setFixedHeight(84)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            event.accept()
            self.submitted.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.insertPlainText("\n")  # Shift+Enter: a plain newline, not a paragraph separator
            event.accept()
            return
        super().keyPressEvent(event)


class InputBar(QWidget):
    """The question box with its Send and Stop buttons (the window decides when each is enabled).
    `above` (the collection picker) sits on the left of the row over the box."""

    cancel_edit_requested = Signal()

    def __init__(self, above: QWidget | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = PromptEdit()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send the question (Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the answer (Esc); what was written is kept")

        self.editing_strip = QFrame()
        self.editing_strip.setObjectName("editingStrip")
        self.editing_label = QLabel(EDITING_TEXT)
        self.editing_label.setObjectName("editingLabel")
        self.editing_label.setWordWrap(True)
        self.cancel_edit_button = QPushButton("Cancel")
        self.cancel_edit_button.setObjectName("cancelEditButton")
        self.cancel_edit_button.setToolTip("Keep the conversation as it is")
        self.cancel_edit_button.clicked.connect(self.cancel_edit_requested)
        strip = QHBoxLayout(self.editing_strip)
        strip.setContentsMargins(8, 4, 4, 4)
        strip.addWidget(self.editing_label, 1)
        strip.addWidget(self.cancel_edit_button)
        self.editing_strip.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        if above is not None:
            top.addWidget(above)
        top.addStretch(1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.editing_strip)
        layout.addLayout(row)

    def set_editing(self, on: bool) -> None:
        self.editing_strip.setVisible(on)
        self.send_button.setText("Resend" if on else "Send")
