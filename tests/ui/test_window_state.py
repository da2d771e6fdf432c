"""What the window keeps and shows about itself: settings, layout across restarts, the status bar."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import psutil
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from assistant import offline
from assistant.config import Settings, chosen_data_folder
from assistant.ui.status_bar import DOWNLOADING, OFFLINE, memory_in_use
from assistant.ui.style import DARK, apply_theme
from tests.conftest import QWEN, SMOL
from tests.ui.conftest import LOAD_TIMEOUT_MS
from tests.ui.dialogs import when_modal


def retype(qtbot, box, text: str) -> None:
    """Replace a spin box's text the way a user does: select all, type."""
    box.selectAll()
    qtbot.keyClicks(box, text)
    box.interpretText()


def test_settings_are_saved_applied_and_reloaded_when_needed(qtbot, smol_core, smol_window, tmp_path):
    window = smol_window
    qtbot.mouseClick(window.toolbar.widgetForAction(window.settings_action), Qt.MouseButton.LeftButton)
    dialog = window.settings_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.max_tokens.value() == 48  # it opens with the settings in effect
    assert str(smol_core.paths.data) in dialog.folder_note.text()

    retype(qtbot, dialog.temperature, "0.3")
    retype(qtbot, dialog.top_k, "12")
    retype(qtbot, dialog.max_tokens, "100")
    retype(qtbot, dialog.n_ctx, "2048")
    dialog.system_prompt.selectAll()
    qtbot.keyClicks(dialog.system_prompt, "Answer like a pirate.")
    dialog.tabs.setCurrentIndex(1)
    retype(qtbot, dialog.k, "6")
    retype(qtbot, dialog.prompt_sources, "2")
    retype(qtbot, dialog.vector_weight, "0.7")
    retype(qtbot, dialog.min_vector_score, "0.25")
    # The installed chat models can double-check answers. The first choice, the default, is automatic
    # (the tests' core has the answering model check itself: tests/conftest.py).
    assert dialog.check_model.itemData(0) == "auto"
    assert dialog.check_model.itemText(0).startswith("Automatic (recommended)")
    assert dialog.check_model.currentData() == "" and dialog.check_model.findData(QWEN) > 1
    dialog.check_model.setCurrentIndex(dialog.check_model.findData(QWEN))
    dialog.tabs.setCurrentIndex(2)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    assert not dialog.measure_background.isChecked()  # the window tests turn it off
    qtbot.mouseClick(dialog.measure_background, Qt.MouseButton.LeftButton)
    (tmp_path / "elsewhere").mkdir()

    def pick_elsewhere(folders):  # Qt's own folder dialog, opened at the data folder now in use
        assert Path(folders.directory().absolutePath()) == smol_core.paths.data
        folders.setDirectory(str(tmp_path / "elsewhere"))
        folders.accept()

    when_modal(qtbot, pick_elsewhere, QFileDialog)
    qtbot.mouseClick(dialog.change_folder_button, Qt.MouseButton.LeftButton)
    assert dialog.data_folder.text() == str(tmp_path / "elsewhere")
    assert "next start" in dialog.folder_note.text()

    # The context size changed, so the model is loaded again with it; sampling alone would not.
    try:
        with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        assert smol_core.engine.loaded.n_ctx == 2048  # what llama.cpp was given

        saved = json.loads(smol_core.paths.settings_file.read_text())
        assert saved["generation"]["temperature"] == 0.3 and saved["generation"]["top_k"] == 12
        assert saved["generation"]["max_tokens"] == 100 and saved["generation"]["n_ctx"] == 2048
        assert saved["generation"]["seed"] == 42  # what the dialog does not show is kept
        assert saved["system_prompt"] == "Answer like a pirate."
        assert saved["retrieval"]["k"] == 6 and saved["retrieval"]["prompt_sources"] == 2
        assert saved["retrieval"]["vector_weight"] == 0.7 and saved["retrieval"]["min_vector_score"] == 0.25
        assert saved["retrieval"]["check_model"] == QWEN and smol_core.settings.retrieval.check_model == QWEN
        assert saved["theme"] == "dark" and saved["default_model"] == SMOL
        assert saved["measure_in_background"] is True and smol_core.settings.measure_in_background
        loaded = Settings.load(smol_core.paths)
        assert loaded.retrieval.k == 6 and loaded.generation.top_k == 12
        # The running core sees the new values at once (answers read them from there) ...
        assert smol_core.settings.generation.max_tokens == 100 and smol_core.settings.retrieval.k == 6
        # ... but the data folder only at the next start.
        assert chosen_data_folder(smol_core.paths.settings_file) == tmp_path / "elsewhere"
        assert smol_core.paths.data != tmp_path / "elsewhere"
        # The theme is applied: a dark palette and the dark style sheet.
        assert QApplication.palette().window().color().lightness() < 80
        assert DARK["chat"] in window.styleSheet()

        # Opened again, the dialog shows what was saved; Cancel changes nothing.
        window.open_settings()
        assert dialog.k.value() == 6 and dialog.theme.currentData() == "dark"
        assert dialog.check_model.currentData() == QWEN
        retype(qtbot, dialog.k, "9")
        dialog.reject()
        assert smol_core.settings.retrieval.k == 6
        # A check model deleted since it was chosen is shown as such, not silently swapped.
        smol_core.settings.retrieval.check_model = "since-deleted"
        window.open_settings()
        assert dialog.check_model.currentData() == "since-deleted"
        assert "not installed" in dialog.check_model.currentText()
        dialog.reject()
    finally:
        apply_theme(QApplication.instance(), "light")  # the palette is the whole test run's


def test_the_first_window_fits_the_screen_and_starts_centred_on_it(qtbot, smol_core, make_window):
    window = make_window()
    free = window.screen().availableGeometry()
    assert free.width() < 1280  # the offscreen screen is smaller than the size the window prefers
    assert free.contains(window.frameGeometry()), (free, window.frameGeometry())
    assert window.width() >= 0.8 * free.width()
    assert abs(window.frameGeometry().center().x() - free.center().x()) <= 2


def test_window_layout_persists_across_a_restart(qtbot, smol_core, make_window):
    window = make_window()
    window.resize(1000, 560)  # room for the Sources panel beside the list and the chat
    qtbot.waitUntil(window.sources_dock.isVisible)
    window.sources_dock.close()
    window.resize(780, 560)  # within the offscreen screen (800 x 600): restoring keeps a window on its screen
    qtbot.waitUntil(lambda: window.chat_splitter.width() > 600)
    window.chat_splitter.setSizes([300, window.chat_splitter.width() - 300])
    left = window.chat_splitter.sizes()[0]
    assert left == 300
    window.close()
    assert window.window_state.path.exists()

    again = make_window()
    assert again.size() == QSize(780, 560)
    assert not again.sources_dock.isVisible()
    assert abs(again.chat_splitter.sizes()[0] - left) <= 2
    # The dock comes back from the toolbar, and that too is remembered.
    again.sources_toggle.trigger()
    assert again.sources_dock.isVisible()
    again.show_page("documents")
    assert not again.sources_dock.isVisible()  # the panel explains answers: only beside the chat
    again.close()
    third = make_window()
    assert third.sources_dock.isVisible() and third.current_page() == "chat"


def test_pages_switch_from_the_navigation(qtbot, smol_core, make_window):
    window = make_window()
    for key in ("documents", "models", "chat"):
        with qtbot.waitSignal(window.page_changed) as changed:
            qtbot.mouseClick(window.nav.buttons[key], Qt.MouseButton.LeftButton)
        assert changed.args == [key] and window.current_page() == key
        assert window.nav.buttons[key].isChecked()
    # "Manage collections…" in the picker opens the documents page.
    window.collection_picker.manage_requested.emit()
    assert window.current_page() == "documents"
    # The shortcuts the navigation's tooltips name, typed where the focus is.
    window.show_page("chat")
    window.input.setFocus()
    for number, key in ((2, "documents"), (3, "models"), (1, "chat")):
        with qtbot.waitSignal(window.page_changed, timeout=2000) as changed:
            QTest.keySequence(window.focusWidget() or window, QKeySequence(f"Ctrl+{number}"))
        assert changed.args == [key] and window.current_page() == key


def test_offline_turns_to_downloading_only_during_a_download(qtbot, smol_window):
    label = smol_window.offline_label
    assert label.text() == OFFLINE
    inside, leave = threading.Event(), threading.Event()

    def download():  # as a model download runs: on its own thread
        with offline.network_allowed_for("download of model.gguf"):
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=download)
    thread.start()
    try:
        assert inside.wait(30)
        qtbot.waitUntil(lambda: label.text() == DOWNLOADING)
        assert "model.gguf" in label.toolTip()
    finally:
        leave.set()
        thread.join(30)
    qtbot.waitUntil(lambda: label.text() == OFFLINE)
    assert offline.network_operations() == []


def test_memory_counts_the_app_and_its_engine(smol_core):
    engine_pid = smol_core.engine.pid
    assert engine_pid is not None
    own = psutil.Process(os.getpid()).memory_info().rss
    engine = psutil.Process(engine_pid).memory_info().rss
    assert memory_in_use(engine_pid) >= own + engine * 0.9  # both, read a moment apart
