"""The models page's imports: Import .gguf… (the file dialog, or a drop) and Locate… for an imported
model whose file was moved. Both read whole files, so both run on ModelTasks' imports thread, and the
page's import box shows either's progress and Cancel.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir
from PySide6.QtWidgets import QFileDialog, QWidget

from assistant.models.units import size_text
from assistant.ui.model_tasks import JobOutcome
from assistant.ui.model_text import import_progress_text
from assistant.ui.model_widgets import guarded

GGUF_FILTER = "GGUF models (*.gguf);;All files (*)"


def choose_gguf(parent: QWidget) -> list[str]:
    files, _filter = QFileDialog.getOpenFileNames(parent, "Import a model", QDir.homePath(), GGUF_FILTER)
    return files


def choose_moved(parent: QWidget, title: str, was: Path) -> str:
    start = was.parent if was.parent.is_dir() else Path(QDir.homePath())
    path, _filter = QFileDialog.getOpenFileName(parent, title, str(start), GGUF_FILTER)
    return path


class ImportsMixin:
    """ModelsPage's import and Locate… handling; the page wires the buttons and lanes to these."""

    _locating: dict[str, str]  # file path -> the imported model it is checked for

    @guarded
    def import_files(self, paths: list[str | Path]) -> None:
        """Import each .gguf in the background (the file dialog and a drop both come here)."""
        for path in [Path(p) for p in paths if str(p)]:
            self.tasks.import_file(path)

    def files_dropped(self, paths: list[str]) -> None:
        self.import_files(paths)

    def _on_imports_active(self, active: bool) -> None:
        self.import_box.setVisible(active)
        if active:
            self.import_cancel.setEnabled(True)
            self.import_label.setText("Checking the file…")
            self.import_bar.setRange(0, 0)

    def _on_import_progress(self, key: str, p) -> None:
        self.import_bar.setRange(0, 1000)
        self.import_bar.setValue(int(1000 * p.bytes_done / p.bytes_total) if p.bytes_total else 0)
        verb = "Checking" if key in self._locating else "Importing"
        self.import_label.setText(f"{verb} {Path(key).name}: {import_progress_text(p)}")

    def _cancel_import(self) -> None:
        running = self.tasks.imports.running()
        if running:
            self.import_cancel.setEnabled(False)
            self.import_label.setText("Cancelling…")
            self.tasks.imports.cancel(running)

    def _on_import_finished(self, outcome: JobOutcome) -> None:
        name = Path(outcome.key).name
        if outcome.key in self._locating:
            self._on_located(self._locating.pop(outcome.key), outcome)
        elif outcome.ok:
            model = outcome.result
            self.show_notice(f"Imported {name} as {model.display_name} ({size_text(model.size_bytes)}).")
        elif outcome.cancelled:
            self.show_notice(f"The import of {name} was cancelled; nothing was added.")
        else:
            self.show_problem(f"{name} was not imported. {outcome.error}")
        self.refresh()
        if outcome.ok:
            self.models_changed.emit()
        self.import_finished.emit(outcome)

    @guarded
    def locate(self, name: str) -> bool:
        """Ask where the file of imported model `name` is now, and check it in the background."""
        model = self.installed_rows[name].item.model
        path = choose_moved(self, f"Where is the file of {model.display_name} now?", model.path)
        if not path:
            return False
        key = str(Path(path))
        if key in self._locating:  # that file is being checked already
            return False
        self._locating[key] = name  # before the job can report: its progress and outcome look it up
        if not self.tasks.locate(name, path):  # the same file is being imported
            del self._locating[key]
            return False
        self.installed_rows[name].locate_button.setEnabled(False)
        return True

    def _on_located(self, name: str, outcome: JobOutcome) -> None:
        row = self.installed_rows.get(name)
        display_name = row.item.model.display_name if row is not None else name
        if outcome.ok:
            self.show_notice(f"{display_name} uses {outcome.key} now.")
        elif outcome.cancelled:
            self.show_notice(f"The check of {Path(outcome.key).name} was cancelled; nothing changed.")
        else:
            self.show_problem(f"{Path(outcome.key).name} was not used for {display_name}. {outcome.error}")

