"""A strip above the transcript for a problem the user can act on (with one optional action)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class ProblemBanner(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("problemBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel()
        self.label.setObjectName("problemText")
        self.label.setWordWrap(True)
        # Problems quote file paths and names as the user wrote them: "<b>" in one is text, not markup.
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.setObjectName("problemAction")
        self.action_button.clicked.connect(self._on_action)
        self.close_button = QPushButton("✕")
        self.close_button.setObjectName("problemClose")
        self.close_button.setToolTip("Hide this message")
        self.close_button.setFlat(True)
        self.close_button.setFixedWidth(28)
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._action: Callable[[], None] | None = None
        self.kind: str | None = None  # who raised it: "model", "answer", "bug", ...
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text() if not self.isHidden() else ""

    def show_problem(self, text: str, action: str | None = None,
                     on_action: Callable[[], None] | None = None, *, kind: str | None = None) -> None:
        self.kind = kind
        self.label.setText(text)
        self._action = on_action
        self.action_button.setText(action or "")
        self.action_button.setVisible(bool(action and on_action))
        self.action_button.setEnabled(True)
        self.show()

    @Slot()
    def dismiss(self) -> None:
        self._action = None
        self.kind = None
        self.hide()

    @Slot()
    def _on_action(self) -> None:
        action = self._action
        self.action_button.setEnabled(False)  # one click is enough; the window reports the outcome
        if action is not None:
            action()
