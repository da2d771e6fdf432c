"""The column of page buttons on the left of the window: Chat, Documents, Models."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QSizePolicy, QToolButton, QVBoxLayout, QWidget

PAGES = (("chat", "Chat", "Conversations with the model (Ctrl+1)"),
         ("documents", "Documents", "Collections of your files to answer from (Ctrl+2)"),
         ("models", "Models", "Download, import and compare models (Ctrl+3)"))


class NavBar(QWidget):
    """The column of page buttons on the left; exactly one is checked."""

    page_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("navBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFixedWidth(96)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 8, 6, 8)
        layout.setSpacing(4)
        for key, label, tip in PAGES:
            button = QToolButton()
            button.setObjectName(f"nav_{key}")
            button.setText(label)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _checked=False, k=key: self.page_chosen.emit(k))
            self.group.addButton(button)
            self.buttons[key] = button
            layout.addWidget(button)
        layout.addStretch(1)

    def set_current(self, key: str) -> None:
        self.buttons[key].setChecked(True)
