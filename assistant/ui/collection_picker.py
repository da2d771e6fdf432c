"""Above the chat input: which collections the answer draws on ("No documents", or one or more).

A tool button with a checkable menu that stays open while the user ticks
several collections. The selection is a list of names, in the order the
collections are listed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton, QWidget

from assistant.knowledge.collections import Collections

NO_DOCUMENTS = "No documents"
SHOWN_NAMES = 2  # more than this and the button says "+ N more"
# The style draws the menu arrow in the button's corner without keeping room for it, so it sat on
# the last letter. Padding makes the room (both sides: the text is drawn centred) and the arrow
# is placed inside the right-hand part of it.
_ROOM_FOR_ARROW = """
#collectionPicker { padding: 2px 16px; }
#collectionPicker::menu-indicator { subcontrol-origin: padding; subcontrol-position: right center; right: 4px; }
"""



def gone_sentence(gone: list[str], then: str) -> str:
    """Says that collections a conversation drew on were removed, and what happens now."""
    named = ", ".join(f"'{name}'" for name in gone)
    if len(gone) == 1:
        return f"The collection {named} this conversation drew on no longer exists: {then}"
    return f"The collections {named} this conversation drew on no longer exist: {then}"

class _StayOpenMenu(QMenu):
    """Ticking a collection leaves the menu open, so several can be ticked in one go."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        action = self.actionAt(event.position().toPoint())
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        action = self.activeAction()
        if (event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and action is not None
                and action.isCheckable() and action.isEnabled()):
            action.trigger()
            return
        super().keyPressEvent(event)


def shown(text: str) -> str:
    """`text` for a button or menu entry, which would take a lone '&' as a shortcut mark: "Tax & bills"
    showed as "Tax _bills"."""
    return text.replace("&", "&&")


def button_text(selected: list[str]) -> str:
    if not selected:
        return NO_DOCUMENTS
    if len(selected) <= SHOWN_NAMES:
        return "Documents: " + ", ".join(selected)
    return f"Documents: {', '.join(selected[:SHOWN_NAMES - 1])} + {len(selected) - SHOWN_NAMES + 1} more"


class CollectionPicker(QToolButton):
    """`selection_changed(names)` fires whenever the selection changes, except through set_selected()."""

    selection_changed = Signal(list)
    manage_requested = Signal()  # "Manage collections…": the window shows the documents page

    def __init__(self, core, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("collectionPicker")
        self.collections = Collections(core.db)
        self._names: list[str] = []
        self._selected: list[str] = []
        self._menu_names: list[str] | None = None
        self.menu_ = _StayOpenMenu(self)
        self.menu_.setObjectName("collectionMenu")
        self.setMenu(self.menu_)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(_ROOM_FOR_ARROW)
        self.refresh()

    # reading -------------------------------------------------------------------------
    def selected(self) -> list[str]:
        return list(self._selected)

    def names(self) -> list[str]:
        """Every collection the menu offers."""
        return list(self._names)

    def action(self, name: str | None) -> QAction | None:
        """The menu entry for collection `name` (None: "No documents")."""
        for action in self.menu_.actions():
            if action.isCheckable() and action.data() == name:
                return action
        return None

    # changing ------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Read the collections again; the selection keeps those that still exist."""
        self._names = [row["name"] for row in self.collections.list()]
        self._apply([n for n in self._selected if n in self._names])

    def set_selected(self, names: list[str]) -> None:
        """Show `names` (unknown ones dropped) as chosen, quietly: for a window restoring a conversation."""
        self._selected = self.known(names)[0]
        self._rebuild()

    def known(self, names: list[str]) -> tuple[list[str], list[str]]:
        """(the collections of `names` that exist, by their stored names; the names of none). Names
        are matched in any case, as the collections themselves are: answers before the names were
        stored as stored hold them as typed ("office" for "Office")."""
        stored = {n.casefold(): n for n in self._names}
        found = [stored[n.casefold()] for n in names if n.casefold() in stored]
        return [n for n in self._names if n in found], [n for n in names if n.casefold() not in stored]

    @Slot(str, str)
    def rename_collection(self, old: str, new: str) -> None:
        """Keep a renamed collection chosen (connect to DocumentsPage.collection_renamed)."""
        self._names = [row["name"] for row in self.collections.list()]
        self._apply([new if n == old else n for n in self._selected if (new if n == old else n) in self._names])

    def _apply(self, selected: list[str]) -> None:
        ordered = [n for n in self._names if n in set(selected)]
        changed = ordered != self._selected
        self._selected = ordered
        self._rebuild()
        if changed:
            self.selection_changed.emit(self.selected())

    def _rebuild(self) -> None:
        """Entries only when the collections changed: an entry must not be deleted while it
        delivers its own `triggered` (ticking one calls back into here)."""
        if self._menu_names != self._names:
            self._menu_names = list(self._names)
            self.menu_.clear()
            self._fill_menu()
        for action in self.menu_.actions():
            if action.isCheckable():
                name = action.data()
                action.setChecked(name in self._selected if name else not self._selected)
        self.setText(shown(button_text(self._selected)))
        self.setToolTip("Answers draw on: " + ", ".join(self._selected) if self._selected
                        else "Answers come from the model alone. Choose collections to answer from your documents.")

    def _fill_menu(self) -> None:
        menu = self.menu_
        none = menu.addAction(NO_DOCUMENTS)
        none.setCheckable(True)
        none.setData(None)
        none.setToolTip("Chat with the model alone.")
        none.triggered.connect(self._choose_none)
        menu.addSeparator()
        for name in self._names:
            action = menu.addAction(shown(name))
            action.setCheckable(True)
            action.setData(name)
            action.triggered.connect(lambda checked, n=name: self._toggle(n, checked))
        if not self._names:
            menu.addAction("No collections yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Manage collections…").triggered.connect(self.manage_requested)

    @Slot()
    def _choose_none(self) -> None:
        self._apply([])

    def _toggle(self, name: str, checked: bool) -> None:
        if checked:
            self._apply([*self._selected, name])
        else:
            self._apply([n for n in self._selected if n != name])
