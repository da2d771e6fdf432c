"""The models page with an imported model whose file was moved away: it says where the file was and
offers Locate… and Remove… (never a download or a Repair there is nothing to repair from). Real
widgets, real file dialog, real message box, real GGUF files checked on the imports thread."""

from __future__ import annotations

import shutil

from PySide6.QtWidgets import QApplication, QFileDialog

from assistant.models.manage import import_model
from tests.models.tiny_gguf import write_tiny_gguf
from tests.ui.dialogs import answer, when_modal
from tests.ui.test_models_page import IMPORT_TIMEOUT_MS, click, make_page  # noqa: F401 (fixture)


def _pick(path):
    def handle(dialog):  # Qt's own file dialog (offscreen has no native one)
        assert isinstance(dialog, QFileDialog) and "*.gguf" in dialog.nameFilters()[0]
        assert dialog.windowTitle() == "Where is the file of Tiny Random Llama now?"
        dialog.selectFile(str(path))
        dialog.accept()
    return handle


def test_a_moved_import_is_located_again_or_removed(qtbot, make_page, core, tmp_path):  # noqa: F811
    for folder in ("Documents", "Archive"):
        (tmp_path / folder).mkdir()
    first = write_tiny_gguf(tmp_path / "Documents" / "contracts.gguf")
    model = import_model(core, first, reference=True, name="Contracts")
    now = shutil.move(first, tmp_path / "Archive" / "contracts.gguf")
    other = write_tiny_gguf(tmp_path / "Archive" / "other.gguf", seed=7)
    page = make_page()
    row = page.installed_rows[model.name]

    assert row.problem.isVisible() and row.problem.text() == (
        f"The file of this model is missing: it was at {model.path}. If you moved it, choose Locate… to show "
        "where it is now; if you no longer need it, choose Remove.")
    visible = [b.text() for b in (row.info_button, row.bench_button, row.locate_button, row.delete_button)
               if b.isVisible()]
    assert visible == ["Locate…", "Remove…"]
    assert not row.fit_badge.isVisible() and not row.ram.isVisible() and not row.speed.isVisible()
    QApplication.processEvents()
    page.grab().save("/tmp/models_page_missing.png")

    # Another file is refused with a sentence, and nothing changes.
    when_modal(qtbot, _pick(other), QFileDialog)
    with qtbot.waitSignal(page.import_finished, timeout=IMPORT_TIMEOUT_MS) as finished:
        click(qtbot, row.locate_button)
    assert finished.args[0].error and page.banner.isVisible()
    assert page.banner.text.startswith("other.gguf was not used for Tiny Random Llama. other.gguf is not the file")
    assert core.registry.get(model.name).path == model.path and row.locate_button.isEnabled()

    # The file where it is now is checked and used; the row is a working model again.
    when_modal(qtbot, _pick(now), QFileDialog)
    with qtbot.waitSignals([page.import_finished, page.models_changed], timeout=IMPORT_TIMEOUT_MS):
        click(qtbot, row.locate_button)
    assert core.registry.get(model.name).path == now.resolve()
    assert page.notice.text() == f"Tiny Random Llama uses {now} now."
    assert not row.problem.isVisible() and not row.locate_button.isVisible()
    assert row.info_button.isVisible() and row.bench_button.isEnabled() and row.delete_button.text() == "Delete…"
    assert row.ram.isVisible() and row.fit_badge.text().startswith("Fits")

    # Gone again, and removed: the question says nothing on disk changes, and nothing does.
    shutil.move(now, tmp_path / "gone.gguf")
    page.refresh()
    assert row.delete_button.text() == "Remove…"
    asked = []
    when_modal(qtbot, answer("Remove", asked))
    with qtbot.waitSignal(page.model_deleted, timeout=30_000):
        click(qtbot, row.delete_button)
    assert asked == [f"Remove Tiny Random Llama from the app?\n\nIts file is no longer at {now.resolve()}, so "
                     "nothing on disk changes."]
    assert page.notice.text() == f"Removed {model.name} from the app. Its file {now.resolve()} was already gone."
    assert model.name not in page.installed_rows and (tmp_path / "gone.gguf").exists()
