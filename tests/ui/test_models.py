"""Choosing, failing to load and repairing models from the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from assistant.config import Settings
from tests.conftest import QWEN, SMOL
from tests.ui.conftest import LOAD_TIMEOUT_MS, ask_in_window

REPAIR_TIMEOUT_MS = 300_000


@pytest.mark.slow_model
def test_the_selector_loads_the_chosen_model(qtbot, smol_core, smol_window):
    window = smol_window
    selector = window.model_selector
    assert selector.names().index(QWEN) > selector.names().index(SMOL)  # bigger, so further right

    qtbot.mouseClick(selector.button, Qt.MouseButton.LeftButton)
    assert selector.popup.isVisible()
    selector.popup.slider.setValue(selector.names().index(QWEN))
    assert selector.previewed_name() == QWEN
    with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS) as ready:
        qtbot.mouseClick(selector.popup.use_button, Qt.MouseButton.LeftButton)
        qwen_name = smol_core.registry.get(QWEN).display_name
        assert window.status_label.text() == f"Loading {qwen_name}…"
        assert window.busy_bar.isVisible()
        assert not window.send_button.isEnabled()
        assert not selector.isEnabled()
    assert ready.args == [QWEN]
    assert smol_core.model.name == QWEN
    assert qwen_name in window.status_label.text()
    assert selector.current_name() == QWEN and qwen_name in selector.button.text()
    assert window.status_bar.model_label.text() == f"Model: {qwen_name}"
    # The choice is remembered for the next start.
    assert Settings.load(smol_core.paths).default_model == QWEN

    smol_core.settings.generation.max_tokens = 8
    message = ask_in_window(qtbot, window, "Say hi.")
    assert message.model == QWEN and message.status == "complete"
    assert qwen_name in window.chat_view.last_answer().meta.text()


def _point_at_missing_file(core, name, tmp_path):
    model = core.registry.get(name)
    model.path = tmp_path / "gone" / model.path.name
    core.registry.register(model)
    return model


def test_damaged_default_model_is_reported_in_the_window(qtbot, core, make_window, tmp_path):
    model = core.registry.get(SMOL)
    damaged = tmp_path / model.path.name
    with model.path.open("rb") as original:
        damaged.write_bytes(original.read(1024 * 1024))  # a truncated copy
    model.path = damaged
    core.registry.register(model)
    core.settings.default_model = SMOL

    window = make_window(show=False)
    with qtbot.waitSignal(window.model_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.show()
    assert "damaged" in failed.args[0]
    assert window.banner.isVisible() and "damaged" in window.banner.text
    assert window.banner.action_button.text() == "Repair"
    assert core.model is None
    qtbot.keyClicks(window.input, "hello")
    assert not window.send_button.isEnabled()  # no model, no sending
    assert window.model_selector.isEnabled()  # another model can still be chosen


@pytest.mark.parametrize("in_catalog", [True, False])
def test_a_downloaded_default_model_whose_file_is_missing_is_offered_for_downloading_again(
        qtbot, core, make_window, tmp_path, in_catalog):
    """Repair rebuilds starter models only: a downloaded model's file is fetched again from its
    catalog entry, or, when the catalog no longer lists it, the Models page is where to decide."""
    from dataclasses import replace

    from assistant.models.catalog import load_catalog

    entry = next(e for e in load_catalog() if e.downloadable)
    name = entry.name if in_catalog else "a-model-the-catalog-dropped"
    core.registry.register(replace(core.registry.get(SMOL), name=name, source="download",
                                   path=tmp_path / "gone" / "model.gguf"))
    core.settings.default_model = name
    window = make_window(show=False)
    with qtbot.waitSignal(window.model_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.show()
    assert "missing" in failed.args[0] and "Download it again" in failed.args[0]
    assert window.banner.action_button.text() == ("Download again" if in_catalog else "Open Models")


def test_missing_default_model_shows_the_problem_and_repair_fixes_it(qtbot, core, make_window, tmp_path):
    _point_at_missing_file(core, SMOL, tmp_path)
    core.settings.default_model = SMOL

    window = make_window(show=False)
    with qtbot.waitSignal(window.model_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.show()
    message = failed.args[0]
    assert "missing" in message
    assert window.banner.isVisible()
    assert window.banner.text == message
    assert window.banner.action_button.isVisible()
    assert window.banner.action_button.text() == "Repair"
    assert "could not be loaded" in window.status_label.text()
    assert core.model is None
    assert not window.send_button.isEnabled()

    # Repair rebuilds the starter models in the background, then loads the default again.
    with qtbot.waitSignals([window.repair_finished, window.model_ready], timeout=REPAIR_TIMEOUT_MS,
                           check_params_cbs=[lambda ok: ok, lambda name: name == SMOL]):
        window.banner.action_button.click()
        assert window.status_label.text().startswith("Repairing models")
        assert not window.model_selector.isEnabled()
    repaired = core.registry.get(SMOL)
    assert repaired.path.is_file()
    assert repaired.path.parent == core.paths.models
    assert core.model.name == SMOL
    assert not window.banner.isVisible()
    assert "ready" in window.status_label.text()


def test_an_imported_default_model_moved_away_is_located_from_the_banner(qtbot, core, make_window, tmp_path):
    import shutil

    from PySide6.QtWidgets import QFileDialog

    from assistant.models.manage import import_model
    from tests.models.tiny_gguf import write_tiny_gguf
    from tests.ui.dialogs import when_modal

    (tmp_path / "Archive").mkdir()
    first = write_tiny_gguf(tmp_path / "contracts.gguf")
    model = import_model(core, first, reference=True, name="Contracts")
    now = shutil.move(first, tmp_path / "Archive" / "contracts.gguf")
    core.settings.default_model = model.name
    window = make_window(show=False)
    with qtbot.waitSignal(window.model_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.show()
    assert "missing" in failed.args[0]
    # Repair rebuilds starter models only: for an imported file the banner offers to find it.
    assert window.banner.action_button.text() == "Locate…"

    def pick(dialog):
        dialog.selectFile(str(now))
        dialog.accept()

    when_modal(qtbot, pick, QFileDialog)
    with qtbot.waitSignal(window.models_page.import_finished, timeout=LOAD_TIMEOUT_MS):
        window.banner.action_button.click()
    assert window.current_page() == "models"
    assert core.registry.get(model.name).path == now.resolve()
