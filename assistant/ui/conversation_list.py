"""The left column of the chat: "New chat", a search over every conversation, and the conversations,
newest first, each with Rename, Export and Delete (right click, F2, Delete).

The list only shows and asks; the store does the work (`Conversations` and
`assistant.store.export`), so every action is reachable without Qt too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QDir, QEvent, QObject, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from assistant.store.conversations import Conversations
from assistant.store.export import export_conversation, export_filename, export_target
from assistant.ui.document_dialogs import confirm

ID_ROLE = Qt.ItemDataRole.UserRole
SEARCH_DELAY_MS = 150  # typing a word runs one search, not one per letter
NO_MATCHES = "No conversation mentions this."


EXPORT_FILTERS = {"markdown": "Markdown (*.md)", "json": "JSON (*.json)"}


def choose_export_target(parent: QWidget, title: str | None) -> tuple[Path, str] | None:
    """Ask where and as what to export: (the file, "markdown" or "json"), or None if cancelled."""
    dialog = QFileDialog(parent, "Export conversation")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setNameFilters(list(EXPORT_FILTERS.values()))
    dialog.setDirectory(QDir.homePath())
    dialog.selectFile(export_filename(title))

    # Picking the other type renames "x.md" to "x.json" in the dialog itself (Qt's and the desktops'
    # dialogs do), so the name and the chosen type agree unless the user typed otherwise.
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        chosen = next((f for f, text in EXPORT_FILTERS.items() if text == dialog.selectedNameFilter()), "markdown")
        return export_target(dialog.selectedFiles()[0], chosen)
    finally:
        dialog.deleteLater()


def _snippet(text: str) -> str:
    return " ".join(text.split())


class ConversationList(QWidget):
    conversation_selected = Signal(int)
    new_chat_requested = Signal()
    conversation_renamed = Signal(int, str)
    conversation_deleted = Signal(int)
    conversation_exported = Signal(int, str)  # (id, the file written)
    problem = Signal(str)  # an action failed: the sentence to show

    def __init__(self, store: Conversations, parent: QWidget | None = None, *,
                 model_names: Callable[[], Mapping[str, str]] = dict):
        """`model_names()`: the names models are shown by, by id, for the exported files."""
        super().__init__(parent)
        self.setObjectName("conversationPanel")
        self.store = store
        self._model_names = model_names
        self.busy_id: int | None = None  # the conversation an answer is being written into: not deletable
        self._current: int | None = None
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.new_button = QPushButton("New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_chat_requested)
        self.search = QLineEdit()
        self.search.setObjectName("conversationSearch")
        self.search.setPlaceholderText("Search all conversations")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.refresh)
        self.list = QListWidget()
        self.list.setObjectName("conversationList")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setWordWrap(False)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # elide, not scroll
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)  # F2 renames in place
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_menu)
        # The selection, not the current item: Tab into the list makes its first row current
        # without selecting it, which must not open that conversation.
        self.list.itemSelectionChanged.connect(self._on_selection_changed)
        self.list.itemActivated.connect(self._open)  # Enter on the row the focus is on
        self.list.itemChanged.connect(self._on_item_edited)
        self.empty = QLabel(NO_MATCHES)
        self.empty.setObjectName("conversationsEmpty")
        self.empty.setWordWrap(True)
        self.empty.hide()
        self.list.installEventFilter(self)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)

    # showing ---------------------------------------------------------------------------
    @property
    def searching(self) -> bool:
        return bool(self.search.text().strip())

    @Slot()
    def refresh(self, current_id: int | None = None) -> None:
        """Read the conversations (or the search hits) again and mark `current_id` (default: the marked one)."""
        self._search_timer.stop()
        if current_id is not None:
            self._current = current_id
        query = self.search.text().strip()
        rows = self._search_rows(query) if query else [
            (row["id"], row["title"] or "Untitled", f"last active {str(row.get('updated_at') or '')[:16]}")
            for row in self.store.list()]
        with signals_blocked(self.list):
            self.list.clear()
            for conversation_id, title, tip in rows:
                item = QListWidgetItem(title)
                item.setData(ID_ROLE, conversation_id)
                item.setToolTip(f"{title}\n{tip}")
                # Only a plain list is renamed in place; a hit's text carries its snippet.
                flags = item.flags() | Qt.ItemFlag.ItemIsEditable if not query else item.flags()
                item.setFlags(flags)
                self.list.addItem(item)
        self.empty.setVisible(bool(query) and not rows)
        self.select(self._current)

    def _search_rows(self, query: str) -> list[tuple[int, str, str]]:
        """One row per conversation with a hit, in the order of its best hit; the first hit's words show."""
        rows: dict[int, tuple[int, str, str]] = {}
        for hit in self.store.search(query):
            cid = hit["conversation_id"]
            if cid not in rows:
                snippet = _snippet(hit["snippet"])
                rows[cid] = (cid, f"{hit['title'] or 'Untitled'}\n{snippet}", snippet)
        return list(rows.values())

    def set_conversations(self, _rows: list[dict] | None = None, current_id: int | None = None) -> None:
        """Show the store's conversations again (the rows are read here; the argument is for old callers)."""
        self._current = current_id
        self.refresh()

    def select(self, conversation_id: int | None) -> None:
        """Mark a conversation as the shown one without emitting conversation_selected."""
        self._current = conversation_id
        with signals_blocked(self.list):
            self.list.setCurrentRow(-1)
            self.list.clearSelection()
            item = self.item_for(conversation_id) if conversation_id is not None else None
            if item is not None:
                self.list.setCurrentItem(item)

    # reading (the window and tests) ----------------------------------------------------
    def ids(self) -> list[int]:
        return [self.list.item(row).data(ID_ROLE) for row in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def item_for(self, conversation_id: int) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == conversation_id:
                return self.list.item(row)
        return None

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    # actions ---------------------------------------------------------------------------
    def menu_for(self, conversation_id: int) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("conversationMenu")
        menu.addAction("Rename", lambda: self.start_rename(conversation_id))
        menu.addAction("Export…", lambda: self.export(conversation_id))
        menu.addSeparator()
        delete = menu.addAction("Delete…", lambda: self.delete(conversation_id))
        if conversation_id == self.busy_id:  # the answer's worker is still writing into it
            delete.setEnabled(False)
            delete.setToolTip("An answer is being written into it: stop it or let it finish first")
            menu.setToolTipsVisible(True)
        return menu

    @Slot(QPoint)
    def _show_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is not None and self.isEnabled():
            self.menu_for(item.data(ID_ROLE)).popup(self.list.viewport().mapToGlobal(pos))

    def start_rename(self, conversation_id: int) -> None:
        """Edit the title in place; Enter saves it (see _on_item_edited), Esc keeps the old one."""
        if self.searching:
            self.search.clear()
            self.refresh()
        item = self.item_for(conversation_id)
        if item is not None:
            self.list.setCurrentItem(item)
            self.list.editItem(item)

    @Slot(QListWidgetItem)
    def _on_item_edited(self, item: QListWidgetItem) -> None:
        conversation_id = item.data(ID_ROLE)
        self.rename(conversation_id, item.text())

    def rename(self, conversation_id: int, title: str) -> None:
        self.store.rename(conversation_id, title)
        stored = (self.store.get(conversation_id) or {}).get("title") or "Untitled"
        item = self.item_for(conversation_id)
        if item is not None and item.text() != stored:
            with signals_blocked(self.list):
                item.setText(stored)  # a blank title became "Untitled"
        self.conversation_renamed.emit(conversation_id, stored)

    def delete(self, conversation_id: int | None) -> bool:
        """Ask, then delete the conversation and its messages. True if it was deleted."""
        row = self.store.get(conversation_id) if conversation_id is not None else None
        if row is None or not self.isEnabled() or conversation_id == self.busy_id:
            return False
        if not confirm(self, "Delete conversation",
                            f"Delete “{row['title']}” and all its messages?\n\nThis cannot be undone.", "Delete"):
            return False
        self.store.delete(conversation_id)
        if self._current == conversation_id:
            self._current = None
        self.refresh()
        self.conversation_deleted.emit(conversation_id)
        return True

    def export(self, conversation_id: int) -> Path | None:
        """Ask where and as what, then write the conversation as Markdown or JSON. The written file, or None."""
        row = self.store.get(conversation_id)
        if row is None:
            return None
        chosen = choose_export_target(self, row["title"])
        if chosen is None:
            return None
        target, fmt = chosen
        try:
            written = export_conversation(self.store, conversation_id, target, fmt, self._model_names())
        except OSError as exc:
            self.problem.emit(f"The conversation could not be saved to {target}: {exc.strerror or exc}.")
            return None
        self.conversation_exported.emit(conversation_id, str(written))
        return written

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (watched is self.list and event.type() == QEvent.Type.KeyPress
                and event.matches(QKeySequence.StandardKey.Delete) and self.list.state()
                != QAbstractItemView.State.EditingState):
            self.delete(self.current_id())
            return True
        return super().eventFilter(watched, event)

    @Slot()
    def _on_selection_changed(self) -> None:
        chosen = self.list.selectedItems()
        if chosen:
            self._open(chosen[0])

    @Slot(QListWidgetItem)
    def _open(self, item: QListWidgetItem) -> None:
        if not item.isSelected():
            self.list.setCurrentItem(item)  # selects it, which opens it
            return
        if item.data(ID_ROLE) == self._current:
            return  # the open one, clicked again after a Ctrl+click cleared it: an edit is not lost
        self._current = item.data(ID_ROLE)
        self.conversation_selected.emit(self._current)
