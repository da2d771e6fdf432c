"""The left column: a "New chat" button over the saved conversations, newest first."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationList(QWidget):
    conversation_selected = Signal(int)
    new_chat_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("conversationPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.new_button = QPushButton("New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_chat_requested)
        self.list = QListWidget()
        self.list.setObjectName("conversationList")
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # elide, not scroll
        self.list.currentItemChanged.connect(self._on_current_changed)
        layout.addWidget(self.new_button)
        layout.addWidget(self.list, 1)

    def set_conversations(self, rows: list[dict], current_id: int | None) -> None:
        """Show `rows` (as the store lists them: newest first) and mark `current_id`, quietly."""
        with signals_blocked(self.list):
            self.list.clear()
            for row in rows:
                item = QListWidgetItem(row["title"] or "Untitled")
                item.setData(ID_ROLE, row["id"])
                item.setToolTip(f"{row['title']}\nlast active {str(row.get('updated_at') or '')[:16]}")
                self.list.addItem(item)
        self.select(current_id)

    def select(self, conversation_id: int | None) -> None:
        """Mark a conversation as the shown one without emitting conversation_selected."""
        with signals_blocked(self.list):
            self.list.setCurrentRow(-1)
            self.list.clearSelection()
            for row in range(self.list.count()):
                if self.list.item(row).data(ID_ROLE) == conversation_id:
                    self.list.setCurrentRow(row)
                    break

    def ids(self) -> list[int]:
        return [self.list.item(row).data(ID_ROLE) for row in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def item_for(self, conversation_id: int) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == conversation_id:
                return self.list.item(row)
        return None

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is not None:
            self.conversation_selected.emit(current.data(ID_ROLE))
