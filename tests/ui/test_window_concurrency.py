"""Several things at once, or in an odd order: the window keeps what the user asked for."""

from __future__ import annotations

import os
import signal
import threading

from PySide6.QtCore import Qt

from tests.conftest import SMOL
from tests.ui.conftest import ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS
from tests.ui.dialogs import answer, when_modal
from tests.ui.test_window_responsiveness import LONG_QUESTION
from tests.ui.test_window_state import retype


def test_a_context_size_saved_while_the_model_loads_is_loaded_with(qtbot, smol_core, make_window):
    smol_core.settings.default_model = SMOL
    smol_core.settings.generation.n_ctx = 1024  # not what the engine holds: the window's load is a real one
    window = make_window(show=False)
    child = smol_core.engine.pid
    os.kill(child, signal.SIGSTOP)  # a slow load: the engine has the request and has not answered yet
    try:
        window.show()
        qtbot.waitUntil(lambda: smol_core.model is None, timeout=LOAD_TIMEOUT_MS)  # the load was sent
        assert not window.model_usable()
        qtbot.mouseClick(window.toolbar.widgetForAction(window.settings_action), Qt.MouseButton.LeftButton)
        dialog = window.settings_dialog
        retype(qtbot, dialog.n_ctx, "2048")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
    finally:
        os.kill(child, signal.SIGCONT)
    with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
        pass
    assert smol_core.engine.loaded.n_ctx == 2048  # the saved size, not the one the load started with
    assert window.model_usable() and not window.busy_bar.isVisible()


def test_deleting_the_model_that_answers_waits_for_the_answer_and_says_which_was_deleted(qtbot, smol_core,
                                                                                        smol_window):
    window = smol_window
    smol_core.settings.generation.max_tokens = 300
    display = smol_core.registry.get(SMOL).display_name
    qtbot.keyClicks(window.input, LONG_QUESTION)
    with qtbot.waitSignal(window.answer_started, timeout=ANSWER_TIMEOUT_MS) as started:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    window.show_page("models")
    page = window.models_page
    when_modal(qtbot, answer("Delete"))
    child = smol_core.engine.pid
    os.kill(child, signal.SIGSTOP)  # the answer cannot end while the delete is asked for
    try:
        with qtbot.waitSignal(page.model_deleted, timeout=ANSWER_TIMEOUT_MS, raising=False) as deleted:
            qtbot.mouseClick(page.installed_rows[SMOL].delete_button, Qt.MouseButton.LeftButton)
            # Without this note the page showed a greyed-out Delete and nothing else until the answer ended.
            assert page.notice.isVisible()
            assert page.notice.text() == f"{display} will be deleted when the model has finished its current answer or load."
            assert not page.installed_rows[SMOL].delete_button.isEnabled()
            os.kill(child, signal.SIGCONT)
    finally:
        os.kill(child, signal.SIGCONT)
    assert deleted.signal_triggered and deleted.args == [SMOL, True]
    assert page.notice.text() != f"{display} will be deleted when the model has finished its current answer or load."
    # The answer was not cut off: the delete waited behind it on the engine's thread.
    stored = smol_core.conversations.messages(started.args[0])[-1]
    assert stored.role == "assistant" and stored.status == "complete" and stored.content
    assert not window.generating and smol_core.model is None
    window.show_page("chat")
    assert window.banner.isVisible()
    assert window.banner.text == f"{display} was deleted. Choose another model in the toolbar."
    assert window.status_bar.model_label.text() == "No model loaded"
    qtbot.keyClicks(window.input, "And then?")
    assert not window.send_button.isEnabled()


def test_closing_the_window_while_a_model_loads_ends_the_load_instead_of_waiting_for_it(qtbot, smol_core,
                                                                                       make_window):
    smol_core.settings.default_model = SMOL
    smol_core.settings.generation.n_ctx = 1024  # not what the engine holds: the window's load is a real one
    window = make_window(show=False)
    child = smol_core.engine.pid
    os.kill(child, signal.SIGSTOP)  # a load that does not end (a hung engine, a model on a slow disk)
    # Without the fix the close would wait forever: let the engine go on after a while, so the test ends.
    watchdog = threading.Timer(30, lambda: os.kill(child, signal.SIGCONT))
    watchdog.start()
    try:
        window.show()
        qtbot.waitUntil(lambda: smol_core.model is None, timeout=LOAD_TIMEOUT_MS)  # the load was sent
        window.close()
    finally:
        watchdog.cancel()
    assert smol_core.model is None and smol_core.engine.loaded is None
    assert smol_core.engine.pid is None  # the stopped child was ended, not left behind
