"""The conversations column: search across every conversation, rename, delete, export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox

from tests.conftest import SMOL
from tests.ui.dialogs import when_modal


def seed(store) -> tuple[int, int, int]:
    tea = store.create(title="About tea")
    store.add_message(tea, "user", "How do I brew green tea?")
    store.add_message(tea, "assistant", "Use water below boiling, about 80 degrees.", model=SMOL)
    trains = store.create(title="About trains")
    store.add_message(trains, "user", "How fast is a TGV?")
    store.add_message(trains, "assistant", "About 320 km/h on the high-speed lines.", model=SMOL)
    kettles = store.create(title="Kettles")
    store.add_message(kettles, "user", "Which kettle boils water fastest?")
    return tea, trains, kettles


def click_item(qtbot, sidebar, conversation_id: int) -> None:
    item = sidebar.item_for(conversation_id)
    qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.list.visualItemRect(item).center())


def test_search_finds_words_in_every_conversation_and_opens_the_hit(qtbot, smol_core, make_window):
    tea, trains, kettles = seed(smol_core.conversations)
    window = make_window()
    sidebar = window.conversation_list
    assert sidebar.ids() == [kettles, trains, tea]  # newest first

    qtbot.keyClicks(sidebar.search, "water")
    qtbot.waitUntil(lambda: sidebar.ids() != [kettles, trains, tea])
    assert sorted(sidebar.ids()) == sorted([tea, kettles])  # in a question of one, an answer of the other
    assert any("[water]" in title for title in sidebar.titles())  # the matching words are shown
    click_item(qtbot, sidebar, tea)
    assert window.conversation_id == tea
    assert window.chat_view.bubbles()[0].text == "How do I brew green tea?"

    sidebar.search.clear()
    qtbot.keyClicks(sidebar.search, "zeppelin")
    qtbot.waitUntil(lambda: sidebar.ids() == [])
    assert sidebar.empty.isVisible()
    sidebar.search.clear()
    qtbot.waitUntil(lambda: sidebar.ids() == [kettles, trains, tea])
    assert not sidebar.empty.isVisible()
    assert sidebar.current_id() == tea  # still marked as the open one


def open_editor(qtbot, sidebar) -> QLineEdit:
    """The line edit the list opened over an item (an earlier one may linger until deleted)."""
    qtbot.waitUntil(lambda: any(e.isVisible() for e in sidebar.list.findChildren(QLineEdit)))
    return next(e for e in sidebar.list.findChildren(QLineEdit) if e.isVisible())


def test_rename_in_place(qtbot, smol_core, make_window):
    tea, trains, _ = seed(smol_core.conversations)
    window = make_window()
    sidebar = window.conversation_list
    click_item(qtbot, sidebar, trains)
    qtbot.keyClick(sidebar.list, Qt.Key.Key_F2)
    editor = open_editor(qtbot, sidebar)
    assert editor.text() == "About trains"
    editor.selectAll()
    with qtbot.waitSignal(sidebar.conversation_renamed) as renamed:
        qtbot.keyClicks(editor, "High-speed rail")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert renamed.args == [trains, "High-speed rail"]
    assert smol_core.conversations.get(trains)["title"] == "High-speed rail"
    assert sidebar.item_for(trains).text() == "High-speed rail"

    # From the menu, and a blank title becomes "Untitled".
    menu = sidebar.menu_for(tea)
    rename = next(a for a in menu.actions() if a.text() == "Rename")
    rename.trigger()
    editor = open_editor(qtbot, sidebar)
    assert editor.text() == "About tea"
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    with qtbot.waitSignal(sidebar.conversation_renamed):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert smol_core.conversations.get(tea)["title"] == "Untitled"
    assert sidebar.item_for(tea).text() == "Untitled"


def test_delete_asks_first_and_clears_the_open_conversation(qtbot, smol_core, make_window):
    tea, trains, kettles = seed(smol_core.conversations)
    window = make_window()
    sidebar = window.conversation_list
    click_item(qtbot, sidebar, tea)
    assert window.chat_view.bubbles()

    # Cancel keeps it.
    when_modal(qtbot, lambda box: box.button(QMessageBox.StandardButton.Cancel).click())
    qtbot.keyClick(sidebar.list, Qt.Key.Key_Delete)
    assert smol_core.conversations.get(tea) is not None and sidebar.ids() == [kettles, trains, tea]

    def press_delete(box):
        assert "About tea" in box.text()
        next(b for b in box.buttons() if b.text() == "Delete").click()

    when_modal(qtbot, press_delete)
    with qtbot.waitSignal(sidebar.conversation_deleted) as deleted:
        qtbot.keyClick(sidebar.list, Qt.Key.Key_Delete)
    assert deleted.args == [tea]
    assert smol_core.conversations.get(tea) is None
    assert smol_core.conversations.search("brew") == []
    smol_core.db.execute("insert into messages_fts(messages_fts, rank) values ('integrity-check', 1)")
    assert sidebar.ids() == [kettles, trains]
    assert window.conversation_id is None and window.chat_view.bubbles() == []
    assert window.status_label.text() == "Conversation deleted"

    # Deleting another one leaves the open conversation open.
    click_item(qtbot, sidebar, trains)
    when_modal(qtbot, lambda box: next(b for b in box.buttons() if b.text() == "Delete").click())
    next(a for a in sidebar.menu_for(kettles).actions() if a.text() == "Delete…").trigger()
    assert sidebar.ids() == [trains] and window.conversation_id == trains


def test_export_writes_markdown_where_the_user_chose(qtbot, smol_core, make_window, tmp_path):
    _tea, trains, _ = seed(smol_core.conversations)
    window = make_window()
    sidebar = window.conversation_list
    asked = []

    def save_as(path: str | None):
        def handle(dialog):  # Qt's own save dialog (offscreen has no native one)
            asked.append(Path(dialog.selectedFiles()[0]).name)
            if path is None:
                dialog.reject()
            else:
                dialog.selectFile(path)
                dialog.accept()
        when_modal(qtbot, handle, QFileDialog)

    save_as(str(tmp_path / "trains.md"))
    with qtbot.waitSignal(sidebar.conversation_exported) as exported:
        next(a for a in sidebar.menu_for(trains).actions() if a.text().startswith("Export")).trigger()
    assert asked == ["About trains.md"]  # the dialog suggested the conversation's title
    assert exported.args == [trains, str(tmp_path / "trains.md")]
    text = (tmp_path / "trains.md").read_text(encoding="utf-8")
    assert text.startswith("# About trains\n")
    assert "## You\n\nHow fast is a TGV?" in text and "About 320 km/h" in text
    # The model by the name the window shows it by, not its id.
    assert f"_{smol_core.registry.get(SMOL).display_name}_" in text and SMOL not in text
    assert window.status_label.text() == f"Exported to {tmp_path / 'trains.md'}"

    # A place that cannot be written is said in the window; nothing crashes.
    save_as(str(tmp_path / "missing" / "x.md"))
    assert sidebar.export(trains) is None
    assert "could not be saved" in window.banner.text
    # Cancelling the dialog writes nothing.
    save_as(None)
    with qtbot.assertNotEmitted(sidebar.conversation_exported):
        assert sidebar.export(trains) is None


def test_unsent_text_stays_with_its_conversation_and_the_last_one_reopens_after_a_restart(qtbot, smol_core,
                                                                                         make_window):
    tea, trains, _kettles = seed(smol_core.conversations)
    window = make_window()
    assert window.conversation_id is None and window.input.toPlainText() == ""
    qtbot.keyClicks(window.input, "A question for a new chat")
    click_item(qtbot, window.conversation_list, tea)
    assert window.input.toPlainText() == ""  # not carried over to another conversation
    qtbot.keyClicks(window.input, "More about tea")
    click_item(qtbot, window.conversation_list, trains)
    assert window.input.toPlainText() == ""
    click_item(qtbot, window.conversation_list, tea)
    assert window.input.toPlainText() == "More about tea"
    # Editing an earlier question puts it in the box; Esc leaves the edit and the draft comes back.
    window.begin_edit(window.chat_view.bubbles()[0].message_id, "How do I brew black tea?")
    assert window.input.toPlainText() == "How do I brew black tea?"
    qtbot.keyClick(window.input, Qt.Key.Key_Escape)
    assert window.input.toPlainText() == "More about tea" and window._editing is None
    window.new_chat()
    assert window.input.toPlainText() == "A question for a new chat"
    click_item(qtbot, window.conversation_list, tea)
    window.close()

    again = make_window()
    assert again.conversation_id == tea and again.conversation_list.current_id() == tea
    assert again.chat_view.bubbles()[0].text == "How do I brew green tea?"
    assert again.input.toPlainText() == "More about tea"
    again.new_chat()
    assert again.input.toPlainText() == "A question for a new chat"
