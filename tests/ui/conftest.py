"""Fixtures for the window tests: real core, real engine, real threads, offscreen Qt."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import SMOL
from tests.ui.answers import answered, answered_once  # noqa: F401 - session fixtures, made once per run

LOAD_TIMEOUT_MS = 60_000
ANSWER_TIMEOUT_MS = 60_000


def window_threads() -> list[threading.Thread]:
    from assistant.ui.workers import THREAD_PREFIX

    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


@pytest.fixture(autouse=True)
def clipboard_left_empty():
    """Each test leaves the clipboard empty: the offscreen platform crashes at exit (the whole run
    then fails) if its clipboard still holds data made in Python, such as a copied answer's."""
    yield
    from PySide6.QtWidgets import QApplication

    if (app := QApplication.instance()) is not None:
        app.clipboard().clear()


@pytest.fixture
def make_window(qtbot, core):
    """Create MainWindows over the test's core; at the end each is closed and its thread is gone.

    Depends on `core` so it is torn down before the core closes its database.
    """
    from assistant.ui.main_window import MainWindow

    windows = []

    def make(*, show: bool = True, wait_ready: bool = True, measure: bool = False):
        # Background speed measuring stays off unless a test is about it: it would load models
        # in more engine children and slow every other window test.
        core.settings.measure_in_background = measure
        window = MainWindow(core, owns_core=False)
        qtbot.addWidget(window)
        windows.append(window)
        if show and wait_ready:
            with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
                window.show()
        elif show:
            window.show()
        return window

    yield make
    for window in windows:
        window.close()
    leftover = window_threads()
    assert not leftover, f"worker threads still running after the windows closed: {leftover}"
    # No write was left half-done by a worker that was stopped mid-answer.
    assert not core.db.conn.in_transaction


@pytest.fixture
def smol_window(smol_core, make_window):
    """A shown window with SmolLM2 loaded and ready."""
    smol_core.settings.default_model = SMOL
    return make_window()


def ask_in_window(qtbot, window, text: str, *, timeout: int = ANSWER_TIMEOUT_MS):
    """Type `text`, click Send, wait for the stored answer; returns the Message."""
    from PySide6.QtCore import Qt

    qtbot.keyClicks(window.input, text)
    assert window.send_button.isEnabled()
    with qtbot.waitSignal(window.answer_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]
