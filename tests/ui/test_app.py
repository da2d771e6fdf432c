"""Starting the app: the no-display hint, run(), and the excepthook safety net."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from assistant.errors import ModelUnavailable
from tests.conftest import SMOL
from tests.ui.conftest import window_threads
from tests.ui.dialogs import when_modal

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_assistant_without_a_display_prints_a_hint_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["ASSISTANT_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, "-m", "assistant"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "xvfb-run -a make run" in result.stderr
    assert 'assistant ask "' in result.stderr and "assistant chat" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_no_display_check():
    from assistant.__main__ import no_display

    assert no_display({}, "linux")
    assert not no_display({"DISPLAY": ":0"}, "linux")
    assert not no_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not no_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not no_display({}, "darwin") and not no_display({}, "win32")


def test_run_opens_the_window_and_closes_cleanly(qtbot, app_paths):
    """run() on a fresh home (no models yet): the window opens, says what is missing, and quits cleanly."""
    from assistant.ui.app import run
    from assistant.ui.main_window import MainWindow

    seen = {}
    hook_before = sys.excepthook

    def close_when_reported():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, close_when_reported)
            return
        window = windows[0]
        seen["window"] = window

        def on_failed(message):
            seen["message"] = message
            seen["hook_installed"] = sys.excepthook is not hook_before
            window.close()

        window.model_failed.connect(on_failed)

    QTimer.singleShot(0, close_when_reported)
    app_logger = logging.getLogger("assistant")
    handlers_before, level_before = list(app_logger.handlers), app_logger.level
    try:
        assert run(["assistant"]) == 0
    finally:  # run() set up the app's log file in this test's home; leave logging as it was
        for handler in set(app_logger.handlers) - set(handlers_before):
            app_logger.removeHandler(handler)
            handler.close()
        app_logger.setLevel(level_before)
    assert "window shown" in (app_paths.logs / "assistant.log").read_text()

    window = seen["window"]
    assert "No installed model" in seen["message"]
    assert window.banner.action_button.text() == "Repair"
    assert seen["hook_installed"]
    assert sys.excepthook is hook_before  # restored
    assert window.owns_core
    assert window.tasks.closing
    assert window_threads() == []
    window.deleteLater()


def test_a_data_folder_that_cannot_be_made_is_said_in_a_dialog_not_a_traceback(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from assistant.ui.app import run

    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "a-file" / "home"))
    said = []

    def read_and_close(box):
        said.append(box.text())
        box.close()

    when_modal(qtbot, read_and_close, QMessageBox)
    assert run(["assistant"]) == 1
    assert said == [f"The app cannot use the folder {tmp_path / 'a-file' / 'home' / 'logs'}: Not a directory. "
                    "Set ASSISTANT_HOME to a folder you can write to, or fix that one."]


def test_excepthook_shows_errors_and_keeps_the_window(qtbot, core, make_window):
    from assistant.ui.app import install_excepthook

    core.settings.default_model = SMOL
    window = make_window()
    before = sys.excepthook
    restore = install_excepthook(window)
    assert sys.excepthook is not before
    try:
        try:
            raise ValueError("a bug deep inside")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        assert window.banner.text.startswith("Something went wrong")
        assert "a bug deep inside" not in window.banner.text  # the details go to the log
        assert str(core.paths.logs) in window.banner.text

        error = ModelUnavailable("The model file x.gguf is missing.", hint="Install it again.")
        sys.excepthook(type(error), error, None)
        assert window.banner.text == "The model file x.gguf is missing. Install it again."
    finally:
        restore()
    assert window.isVisible()
    assert sys.excepthook is before  # the hook the app found is back


def test_a_display_without_qts_x11_library_gets_a_hint_not_an_abort(monkeypatch):
    import ctypes.util

    from assistant.__main__ import missing_xcb

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert missing_xcb({"DISPLAY": ":0"}, "linux") is True
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}.so.0")
    assert missing_xcb({"DISPLAY": ":0"}, "linux") is False
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert missing_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux") is False
    assert missing_xcb({}, "linux") is False
    assert missing_xcb({"DISPLAY": ":0"}, "darwin") is False
