"""A narrow window: the side panels give way, the chat column keeps a readable width."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QApplication

from assistant.ui.side_panels import CHAT_FLOOR, LIST_MIN

SHOTS = os.environ.get("ASSISTANT_SHOTS")  # a folder: the tests leave their screenshots there to look at


def resized(qtbot, window, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == max(width, window.minimumWidth()))
    QApplication.processEvents()  # the deferred re-arranging after a panel came or went
    qtbot.waitUntil(lambda: window.chat_column.width() >= CHAT_FLOOR, timeout=2000)


def shot(window, name: str) -> None:
    if SHOTS:
        window.grab().save(os.path.join(SHOTS, f"{name}.png"))


def shown(window) -> tuple[bool, bool]:
    """(conversation list shown, Sources panel shown)."""
    return window.conversation_list.isVisible(), window.sources_dock.isVisible()


def test_at_its_minimum_width_the_window_keeps_the_list_and_a_readable_chat(qtbot, core, make_window):
    window = make_window(wait_ready=False)
    assert window.minimumWidth() <= 640  # half of a 1280-wide screen, beside another program
    resized(qtbot, window, 300, 500)  # as narrow as the window goes
    shot(window, "narrowest")
    assert window.width() == window.minimumWidth()
    assert window.chat_column.width() >= CHAT_FLOOR
    assert window.conversation_list.width() >= LIST_MIN
    assert shown(window) == (True, False)  # no room for Sources: it waits, hidden
    assert window.side_panels.wanted  # and comes back when there is room
    resized(qtbot, window, 1024, 768)
    shot(window, "1024x768")
    assert shown(window) == (True, True)
    assert window.chat_column.width() >= 400


def test_sources_wait_for_room_and_asked_for_take_the_lists_place(qtbot, core, make_window):
    window = make_window(wait_ready=False)
    resized(qtbot, window, 800, 600)
    shot(window, "800x600")
    assert shown(window) == (True, False) and window.side_panels.wanted  # Sources wait for room
    assert window.chat_column.width() >= 500
    # Asked for, on a screen too small to widen the window enough: the list gives way.
    window.sources_toggle.trigger()
    QApplication.processEvents()
    shot(window, "800x600-sources")
    assert shown(window) == (False, True) and window.chat_column.width() >= CHAT_FLOOR
    assert window.width() <= window.screen().availableGeometry().width()
    window.sources_toggle.trigger()  # hidden again: the list is back
    QApplication.processEvents()
    assert shown(window) == (True, False) and not window.side_panels.wanted
    # From the narrowest window, too: it widens as far as the screen lets it.
    resized(qtbot, window, 300, 500)
    window.sources_toggle.trigger()
    QApplication.processEvents()
    assert shown(window) == (False, True) and window.width() > window.minimumWidth()
    assert window.chat_column.width() >= CHAT_FLOOR


def test_a_citation_click_opens_a_closed_sources_panel(qtbot, core, make_window):
    window = make_window(wait_ready=False)
    resized(qtbot, window, 1024, 700)
    window.sources_toggle.trigger()
    assert not window.sources_dock.isVisible()
    cid = core.conversations.create("Deposit")
    answer = core.conversations.add_message(cid, "assistant", "It is 1,500 euros [1].")
    window.chat_view.citation_clicked.emit(answer, 1)
    assert window.sources_dock.isVisible() and window.side_panels.wanted


def test_the_layout_asked_for_comes_back_after_a_restart(qtbot, core, make_window):
    window = make_window(wait_ready=False)
    resized(qtbot, window, 1024, 700)
    width = window.conversation_list.width()
    resized(qtbot, window, 800, 600)
    window.sources_toggle.trigger()
    QApplication.processEvents()
    assert shown(window) == (False, True)
    window.close()
    again = make_window(wait_ready=False)
    QApplication.processEvents()
    assert shown(again) == (False, True)  # as it was left: Sources where the list was
    resized(qtbot, again, 1024, 700)
    assert shown(again) == (True, True)
    assert abs(again.conversation_list.width() - width) <= 4  # the list at its own width again
