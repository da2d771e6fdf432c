"""Several things at once, or in an odd order: the window keeps what the user asked for."""

from __future__ import annotations

import os
import signal

from PySide6.QtCore import Qt

from tests.conftest import SMOL
from tests.ui.conftest import LOAD_TIMEOUT_MS
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
