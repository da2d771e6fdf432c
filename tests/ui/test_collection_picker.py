"""The collection picker above the chat input, over a real database."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from assistant.knowledge.collections import Collections
from assistant.ui.collection_picker import NO_DOCUMENTS, CollectionPicker, button_text


def picker_over(qtbot, core, names) -> tuple[Collections, CollectionPicker]:
    collections = Collections(core.db)
    for name in names:
        collections.create(name)
    picker = CollectionPicker(core)
    qtbot.addWidget(picker)
    return collections, picker


def open_menu(picker: CollectionPicker):
    menu = picker.menu_
    menu.popup(picker.mapToGlobal(QPoint(0, picker.height())))
    assert menu.isVisible()
    return menu


def click(qtbot, menu, action) -> None:
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def test_ticking_collections_keeps_the_menu_open_and_the_selection_survives_refresh(qtbot, core):
    collections, picker = picker_over(qtbot, core, ("Gamma", "Alpha", "Beta"))
    picker.show()
    assert picker.names() == ["Alpha", "Beta", "Gamma"]
    assert picker.selected() == [] and picker.text() == NO_DOCUMENTS
    assert picker.action(None).isChecked()

    menu = open_menu(picker)
    with qtbot.waitSignal(picker.selection_changed) as changed:
        click(qtbot, menu, picker.action("Gamma"))
    assert changed.args == [["Gamma"]]
    assert menu.isVisible(), "the menu closed after one tick"
    with qtbot.waitSignal(picker.selection_changed) as changed:
        click(qtbot, menu, picker.action("Alpha"))
    assert changed.args == [["Alpha", "Gamma"]]  # in list order, not click order
    assert picker.selected() == ["Alpha", "Gamma"]
    assert [a.isChecked() for a in (picker.action(None), picker.action("Alpha"), picker.action("Beta"),
                                    picker.action("Gamma"))] == [False, True, False, True]
    assert picker.text() == "Documents: Alpha, Gamma"
    assert "Alpha, Gamma" in picker.toolTip()
    menu.hide()

    # Refresh with nothing changed: same selection, no signal.
    with qtbot.assertNotEmitted(picker.selection_changed):
        picker.refresh()
    assert picker.selected() == ["Alpha", "Gamma"]

    # A new collection appears unticked; a removed one leaves the selection, which is announced.
    collections.create("Delta")
    collections.remove("Gamma")
    with qtbot.waitSignal(picker.selection_changed) as changed:
        picker.refresh()
    assert changed.args == [["Alpha"]]
    assert picker.names() == ["Alpha", "Beta", "Delta"] and picker.action("Gamma") is None
    assert not picker.action("Delta").isChecked() and picker.action("Alpha").isChecked()

    # Keyboard: Space ticks the highlighted entry, and the menu stays open.
    menu = open_menu(picker)
    menu.setActiveAction(picker.action("Beta"))
    with qtbot.waitSignal(picker.selection_changed) as changed:
        qtbot.keyClick(menu, Qt.Key.Key_Space)
    assert changed.args == [["Alpha", "Beta"]] and menu.isVisible()

    # "No documents" clears every tick.
    with qtbot.waitSignal(picker.selection_changed) as changed:
        click(qtbot, menu, picker.action(None))
    assert changed.args == [[]] and picker.text() == NO_DOCUMENTS
    assert picker.action(None).isChecked() and not picker.action("Alpha").isChecked()
    menu.hide()


def test_set_selected_is_quiet_and_rename_keeps_the_choice(qtbot, core):
    collections, picker = picker_over(qtbot, core, ("Alpha", "Beta", "Gamma"))
    with qtbot.assertNotEmitted(picker.selection_changed):
        picker.set_selected(["Gamma", "Beta", "Nowhere"])
    assert picker.selected() == ["Beta", "Gamma"]
    assert picker.text() == "Documents: Beta, Gamma"

    collections.rename("Beta", "Zeta")
    with qtbot.waitSignal(picker.selection_changed) as changed:
        picker.rename_collection("Beta", "Zeta")
    assert changed.args == [["Gamma", "Zeta"]]
    assert picker.action("Zeta").isChecked() and picker.action("Beta") is None

    picker.set_selected(["Alpha", "Gamma", "Zeta"])
    assert picker.text() == "Documents: Alpha + 2 more" == button_text(["Alpha", "Gamma", "Zeta"])

    with qtbot.waitSignal(picker.manage_requested):
        next(a for a in picker.menu_.actions() if a.text() == "Manage collections…").trigger()


def test_with_no_collections_the_menu_says_so(qtbot, core):
    _collections, picker = picker_over(qtbot, core, ())
    assert picker.names() == [] and picker.text() == NO_DOCUMENTS
    texts = {a.text(): a.isEnabled() for a in picker.menu_.actions() if not a.isSeparator()}
    assert texts == {NO_DOCUMENTS: True, "No collections yet": False, "Manage collections…": True}


def test_an_ampersand_in_a_name_is_shown_not_taken_as_a_shortcut(qtbot, core):
    from PySide6.QtGui import QKeySequence

    _collections, picker = picker_over(qtbot, core, ("Tax & bills", "R&D"))
    picker.set_selected(["Tax & bills", "R&D"])
    for action in (picker.action("Tax & bills"), picker.action("R&D")):
        # iconText is the entry as drawn: a lone '&' vanished from it (and underlined the next letter).
        assert action.iconText() == action.data() and QKeySequence.mnemonic(action.text()).isEmpty()
    assert QKeySequence.mnemonic(picker.text()).isEmpty()
    assert picker.text().replace("&&", "&") == "Documents: R&D, Tax & bills"


def _columns(first, second) -> list[int]:
    """The x of every pixel column where two same-sized images differ."""
    return [x for x in range(first.width())
            if any(first.pixel(x, y) != second.pixel(x, y) for y in range(first.height()))]


def test_the_menu_arrow_does_not_cover_the_text(qtbot, core):
    from PySide6.QtWidgets import QToolButton

    _collections, picker = picker_over(qtbot, core, ("Taxes", "Project Zeta"))
    picker.set_selected(["Taxes", "Project Zeta"])
    picker.resize(picker.sizeHint())
    picker.show()
    qtbot.waitExposed(picker)
    # A twin without a menu draws the same frame, so what differs is the arrow, and with text, the text.
    plain = QToolButton()
    plain.setObjectName("collectionPicker")
    plain.setStyleSheet(picker.styleSheet())
    qtbot.addWidget(plain)
    plain.setFixedSize(picker.size())
    plain.show()
    qtbot.waitExposed(plain)

    with_text = picker.grab().toImage()
    picker.setText("")
    arrow_only = picker.grab().toImage()
    frame = plain.grab().toImage()
    text_columns, arrow_columns = _columns(with_text, arrow_only), _columns(arrow_only, frame)
    assert text_columns and arrow_columns
    # At least 3 px apart: the arrow used to touch the last letter, 1 px off at best.
    assert max(text_columns) < min(arrow_columns) - 2, (max(text_columns), min(arrow_columns))
