"""The Models page and the model selector inside the window: a real download from a fake hub on
127.0.0.1 (the status bar says "Downloading…" only then), closing mid-download, and the context length."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from assistant.models.catalog import load_catalog
from assistant.models.download_store import get_download
from assistant.ui.status_bar import DOWNLOADING, OFFLINE
from tests.models.test_download import REPO, hub, make_entry, smol_source  # noqa: F401 (fixtures)
from tests.ui.conftest import LOAD_TIMEOUT_MS, window_threads
from tests.ui.test_models_page import DOWNLOAD_TIMEOUT_MS, NAME, downloading, model_threads


@pytest.fixture
def hub_catalog(hub, smol_source, monkeypatch):  # noqa: F811 - pytest fixtures by name
    """The window's catalog: the real one plus an entry the fake hub serves, slowly enough to watch."""
    starter, _path = smol_source
    entries = [make_entry(starter), *load_catalog()]
    monkeypatch.setattr("assistant.ui.models_page.load_catalog", lambda: list(entries))
    monkeypatch.setattr("assistant.ui.model_selector.load_catalog", lambda: list(entries))
    hub.bytes_per_s = 4_000_000
    return entries


def test_closing_during_a_download_exits_cleanly_and_it_can_resume(qtbot, hub, hub_catalog, smol_core,  # noqa: F811
                                                                     make_window):
    window = make_window()
    label = window.offline_label
    assert label.text() == OFFLINE
    qtbot.mouseClick(window.nav.buttons["models"], Qt.MouseButton.LeftButton)
    page = window.models_page
    assert window.current_page() == "models" and page.isVisible()
    events = []
    page.tasks.downloads.progress.connect(lambda _name, p: events.append(p))
    qtbot.mouseClick(page.catalog_rows[NAME].download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(downloading(events, 2_000_000)), timeout=DOWNLOAD_TIMEOUT_MS)
    # Only now, and only for this download, the status bar says the network is in use.
    entry = next(e for e in hub_catalog if e.name == NAME)
    qtbot.waitUntil(lambda: label.text() == DOWNLOADING)
    assert label.toolTip() == f"Network in use for: download of {entry.display_name}"
    assert window.status_bar.download_label.isVisible()
    assert window.status_bar.download_label.text().startswith("Downloading")

    window.close()
    assert window_threads() == [] and model_threads() == []
    assert get_download(smol_core.db, NAME)["state"] == "pending"  # offered for resuming at the next start
    qtbot.waitUntil(lambda: label.text() == OFFLINE)


def test_the_selectors_context_length_is_kept_and_reloads_the_model(qtbot, smol_core, smol_window):
    window = smol_window
    selector = window.model_selector
    qtbot.mouseClick(selector.button, Qt.MouseButton.LeftButton)
    selector.popup.ctx_spin.setValue(2048)
    with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
        selector.popup.hide()  # the choice counts when the popup closes
    assert smol_core.engine.loaded.n_ctx == 2048  # what llama.cpp was given
    assert smol_core.settings.generation.n_ctx == 2048
    from assistant.config import Settings

    assert Settings.load(smol_core.paths).generation.n_ctx == 2048
