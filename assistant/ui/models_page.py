"""The models page: installed models (Info, Measure speed, Delete; Locate… for a moved import), the
catalog with downloads, and Import.

Reads go through the window's `core.db`; they are quick. Downloads, imports
and speed measurements go to ModelTasks, whose threads have their own
connections. Deleting goes to the window's EngineTasks (the one thread that
may touch the engine), because a loaded model is unloaded first. Nothing here
starts network activity on its own: a download left unfinished by an earlier
run is shown with Resume and waits for a click. Memory is read once per
refresh, and every fit and "free" figure on the page comes from that reading.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from assistant.models.catalog import CatalogEntry, load_catalog
from assistant.models.download import DownloadProgress
from assistant.models.fit import Memory, download_warning, read_memory
from assistant.models.manage import delete_model, model_info
from assistant.models.overview import FactsCache, catalog_view, installed_view
from assistant.models.units import size_text
from assistant.ui.document_dialogs import confirm
from assistant.ui.download_row import CatalogRow
from assistant.ui.installed_row import InstalledRow
from assistant.ui.model_info_dialog import ModelInfoDialog
from assistant.ui.model_tasks import JobOutcome, ModelTasks
from assistant.ui.model_text import download_progress_text
from assistant.ui.model_widgets import describe_error, guarded
from assistant.ui.models_import import ImportsMixin, choose_gguf
from assistant.ui.models_layout import ModelsLayout
from assistant.ui.workers import EngineTasks


class ModelsPage(ImportsMixin, ModelsLayout):
    models_changed = Signal()  # the installed set changed (download, import, delete): refresh the selector
    model_deleted = Signal(str, bool)  # (name, whether it was loaded and so was unloaded first)
    downloading_changed = Signal(bool)  # True while a download the user started is queued or running
    download_status = Signal(str)  # a short line for the status bar; "" when no download is running
    network_changed = Signal(list)  # the network operations allowed right now ([] once offline again)
    measurement_finished = Signal(str)  # a speed measurement was stored (the model's name)
    download_finished = Signal(object)  # JobOutcome
    import_finished = Signal(object)  # JobOutcome, also of a Locate…
    bench_finished = Signal(object)  # JobOutcome
    problem_shown = Signal(str)

    def __init__(self, core, parent: QWidget | None = None, *, tasks: ModelTasks | None = None,
                 engine_tasks: EngineTasks | None = None, entries: list[CatalogEntry] | None = None):
        """`tasks`: share one ModelTasks with the ModelSelector; `engine_tasks`: the window's EngineTasks
        (deleting a loaded model unloads it there); `entries`: the catalog (default resources/catalog.json)."""
        super().__init__(parent)
        self.core = core
        self.entries = list(load_catalog() if entries is None else entries)
        self._owns_tasks, self._owns_engine_tasks = tasks is None, engine_tasks is None
        self.tasks = tasks or ModelTasks(core, self)
        self.engine_tasks = engine_tasks or EngineTasks(self)
        self.info_dialog: ModelInfoDialog | None = None
        self.catalog_rows: dict[str, CatalogRow] = {}
        self.installed_rows: dict[str, InstalledRow] = {}
        self._notes: dict[tuple[str, str], tuple[str, bool]] = {}  # (kind, name) -> (sentence, is error)
        self._deleting: set[str] = set()
        self._locating: dict[str, str] = {}  # file path -> the imported model it is checked for
        self._facts = FactsCache()
        self.memory: Memory | None = None  # read at each refresh
        self._closed = False
        self.import_button.clicked.connect(lambda: self.import_files(choose_gguf(self)))
        self.import_cancel.clicked.connect(self._cancel_import)
        self.filter_edit.textChanged.connect(self._apply_filter)
        lanes = self.tasks
        for lane, on_finished in ((lanes.downloads, self._on_download_finished),
                                  (lanes.imports, self._on_import_finished),
                                  (lanes.benches, self._on_bench_finished)):
            lane.finished.connect(on_finished)
        lanes.downloads.started.connect(self._on_download_started)
        lanes.downloads.progress.connect(self._on_download_progress)
        lanes.downloads.active_changed.connect(self._on_downloads_active)
        lanes.imports.progress.connect(self._on_import_progress)
        lanes.imports.active_changed.connect(self._on_imports_active)
        lanes.benches.submitted.connect(self._on_bench_submitted)
        lanes.benches.started.connect(self._on_bench_started)
        lanes.benches.progress.connect(self._on_bench_progress)
        lanes.network_changed.connect(self.network_changed)
        self.refresh()
        self._offer_pending()

    # showing -------------------------------------------------------------------------
    def show_problem(self, text: str) -> None:
        self.banner.show_problem(text, kind="models")
        self.problem_shown.emit(text)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh()  # the CLI may have changed models meanwhile

    @guarded
    def refresh(self) -> None:
        if self._closed:
            return
        self.memory = read_memory(self.core.engine)
        installed = installed_view(self.core, entries=self.entries, facts=self._facts, memory=self.memory)
        view = catalog_view(self.core, self.entries, memory=self.memory)
        self.show_machine(view)
        loaded = self.core.model.name if self.core.model is not None and self.core.engine.loaded else None
        benches, downloads = self.tasks.benches, self.tasks.downloads
        self._sync(self.installed_rows, self.installed_box, [(i.name, i) for i in installed], InstalledRow,
                   self._connect_installed)
        for item in installed:
            row = self.installed_rows[item.name]
            note, is_error = self._notes.get(("bench", item.name), ("", False))
            row.show_item(item, loaded=item.name == loaded, note=note, note_is_error=is_error)
            if benches.is_busy(item.name) and not row.benching:
                row.set_benching(True, queued=benches.running() != item.name)
            row.delete_button.setEnabled(not row.benching and item.name not in self._deleting)
            row.locate_button.setEnabled(item.name not in self._locating.values())
            row.download_again_button.setEnabled(not downloads.is_busy(item.name))
        self.installed_heading.setText(f"Installed ({len(installed)})")
        self.installed_empty.setVisible(not installed)
        self._sync(self.catalog_rows, self.catalog_box, [(i.name, i) for i in view.items], CatalogRow,
                   self._connect_catalog)
        for item in view.items:
            row = self.catalog_rows[item.name]
            if downloads.is_busy(item.name):
                if row.mode not in ("downloading", "queued"):
                    row.set_queued()
                continue
            row.show_item(item, *self._notes.get(("download", item.name), (None, False)))
        self.catalog_heading.setText(f"Catalog ({len(view.items)})")
        self._apply_filter()

    def _sync(self, rows: dict, box, items: list[tuple[str, object]], make, connect) -> None:
        """Add rows for new names and drop rows for names gone, in the order given."""
        wanted = [name for name, _ in items]
        for name in [n for n in rows if n not in wanted]:
            rows.pop(name).deleteLater()
        for index, (name, item) in enumerate(items):
            if name not in rows:
                rows[name] = make(item)
                connect(rows[name])
            elif box.indexOf(rows[name]) == index:
                continue
            else:
                box.removeWidget(rows[name])
            box.insertWidget(index, rows[name])

    def _connect_installed(self, row: InstalledRow) -> None:
        row.info_requested.connect(self.show_info)
        row.bench_requested.connect(self.bench)
        row.bench_cancel_requested.connect(self.cancel_bench)
        row.delete_requested.connect(self.delete)
        row.locate_requested.connect(self.locate)
        row.download_again_requested.connect(self.download_again)

    def _connect_catalog(self, row: CatalogRow) -> None:
        row.download_requested.connect(self.download)
        row.cancel_requested.connect(self.cancel_download)

    @Slot()
    def _apply_filter(self) -> None:
        words = self.filter_edit.text().lower().split()
        for row in self.catalog_rows.values():
            e = row.item.entry
            text = f"{e.name} {e.display_name} {e.family or ''} {e.quantization or ''}".lower()
            row.setVisible(all(w in text for w in words))

    def _offer_pending(self) -> None:
        """Downloads an earlier run left unfinished wait for the user: going online is theirs to decide."""
        pending = [r.item.entry for r in self.catalog_rows.values()
                   if r.mode == "resumable" and r.item.download.state == "pending"]
        if pending:
            names = ", ".join(e.display_name for e in pending)
            self.banner.show_problem(
                f"{'A download was' if len(pending) == 1 else f'{len(pending)} downloads were'} left unfinished "
                f"last time: {names}. The parts received are kept.", "Resume",
                lambda: [self.download(e.name) for e in pending], kind="pending")

    # downloads -----------------------------------------------------------------------
    @Slot(str)
    @guarded
    def download(self, name: str) -> bool:
        """Start (or resume, or queue) the download of catalog model `name`."""
        row = self.catalog_rows[name]
        if row.mode == "available" and not self._agreed_to_download(name):
            return False
        self._notes.pop(("download", name), None)
        if self.banner.kind == "pending":
            self.banner.dismiss()
        if not self.tasks.download(row.item.entry):
            return False
        row.set_queued()
        return True

    @Slot(str)
    @guarded
    def download_again(self, name: str) -> bool:
        """A downloaded model whose file went missing or was damaged: its catalog entry downloads it
        anew (the download hashes what is there and replaces it), with the progress on that entry."""
        if name not in self.catalog_rows or not self.download(name):
            return False
        self.installed_rows[name].download_again_button.setEnabled(False)
        self.scroll.ensureWidgetVisible(self.catalog_rows[name])
        return True

    def _agreed_to_download(self, name: str) -> bool:
        """Ask first when the model is estimated not to fit, or only tightly: gigabytes fetched for a
        model that will not load are wasted. A resumed download was agreed to when it started."""
        self.refresh()  # the question and the row then quote the same, current figures
        item = self.catalog_rows[name].item
        if item.candidate is None:  # the document embedder runs inside the app
            return True
        e = item.entry
        warning = download_warning(item.candidate.fit, e.display_name, e.size_bytes or e.approx_size_bytes)
        return warning is None or confirm(self, "This model may not fit in memory", warning, "Download anyway")

    @Slot(str)
    def cancel_download(self, name: str) -> None:
        if name in self.catalog_rows:
            self.catalog_rows[name].set_cancelling()
        self.tasks.downloads.cancel(name)

    def _on_download_started(self, name: str) -> None:
        row = self.catalog_rows.get(name)
        if row is not None:
            kept = row.item.download.bytes_kept if row.item.download else 0
            row.show_progress(DownloadProgress(name, kept, row.item.entry.size_bytes, None, None, "checking"))

    def _on_download_progress(self, name: str, p: DownloadProgress) -> None:
        row = self.catalog_rows.get(name)
        if row is not None and row.cancel_button.isEnabled():
            row.show_progress(p)
        title = row.item.entry.display_name if row else name
        self.download_status.emit(f"Downloading {title}: {download_progress_text(p)}")

    def _on_download_finished(self, outcome: JobOutcome) -> None:
        entry = self.catalog_rows[outcome.key].item.entry if outcome.key in self.catalog_rows else None
        title = entry.display_name if entry else outcome.key
        if outcome.ok:
            self.show_notice(f"{title} is installed: it is in the model selector now.")
        elif outcome.error:
            self._notes[("download", outcome.key)] = (outcome.error, not outcome.cancelled)
            if not outcome.cancelled:
                self.problem_shown.emit(outcome.error)
        self.refresh()
        if outcome.ok:
            self.models_changed.emit()
        self.download_finished.emit(outcome)

    def _on_downloads_active(self, active: bool) -> None:
        if not active:
            self.download_status.emit("")
        self.downloading_changed.emit(active)

    @property
    def downloading(self) -> bool:
        return self.tasks.downloads.active

    # installed models: info, speed, delete ---------------------------------------------
    @Slot(str)
    @guarded
    def show_info(self, name: str) -> ModelInfoDialog:
        if self.info_dialog is not None:
            self.info_dialog.close()
        self.refresh()  # the dialog and the page then quote the same memory figures
        self.info_dialog = ModelInfoDialog(model_info(self.core, name, self.memory), self)
        self.info_dialog.show()
        return self.info_dialog

    @Slot(str)
    def bench(self, name: str) -> bool:
        return self.tasks.bench(name)

    def _on_bench_submitted(self, name: str) -> None:
        self._notes.pop(("bench", name), None)
        row = self.installed_rows.get(name)
        if row is not None:
            row.set_benching(True, queued=self.tasks.benches.running() not in (None, name))

    @Slot(str)
    def cancel_bench(self, name: str) -> None:
        if name in self.installed_rows:
            self.installed_rows[name].set_bench_cancelling()
        self.tasks.benches.cancel(name)

    def _on_bench_started(self, name: str) -> None:
        if name in self.installed_rows:
            self.installed_rows[name].set_benching(True)

    def _on_bench_progress(self, name: str, p) -> None:
        row = self.installed_rows.get(name)
        if row is not None and row.bench_cancel_button.isEnabled():
            row.show_bench_progress(p)

    def _on_bench_finished(self, outcome: JobOutcome) -> None:
        if outcome.cancelled:
            self._notes[("bench", outcome.key)] = ("The measurement was stopped; nothing was stored.", False)
        elif outcome.error:
            self._notes[("bench", outcome.key)] = (outcome.error, True)
        if outcome.key in self.installed_rows:
            self.installed_rows[outcome.key].set_benching(False)
        self.refresh()
        if outcome.ok:
            self.measurement_finished.emit(outcome.key)
        self.bench_finished.emit(outcome)

    @Slot(str)
    @guarded
    def delete(self, name: str) -> bool:
        """Ask, then delete on the engine's thread (a loaded model is unloaded first). False if not asked."""
        row = self.installed_rows[name]
        if name in self._deleting or row.benching:
            return False
        model = row.item.model
        inside = model.path.resolve().is_relative_to(self.core.paths.models.resolve())
        if row.item.missing:
            question, verb = (f"Remove {model.display_name} from the app?\n\nIts file is no longer at "
                              f"{model.path}, so nothing on disk changes."), "Remove"
        else:
            what = (f"Its file ({size_text(model.size_bytes)}) is deleted from disk." if inside else
                    f"Its file stays where it is ({model.path}); the app only forgets it.")
            question, verb = f"Delete {model.display_name}?\n\n{what}", "Delete"
        if not confirm(self, f"{verb} model", question, verb):
            return False
        self._deleting.add(name)
        row.delete_button.setEnabled(False)
        if self.engine_tasks.busy:  # the engine's thread is answering or loading; the delete queues behind it
            self.show_notice(f"{model.display_name} will be deleted when the model has finished its current "
                             "answer or load.")
        self.engine_tasks.run(partial(delete_model, self.core, name), partial(self._on_deleted, name),
                              partial(self._on_delete_failed, name))
        return True

    def _on_deleted(self, name: str, result) -> None:
        self._deleting.discard(name)
        self._notes.pop(("bench", name), None)
        self.show_notice(result.message)
        self.refresh()
        self.models_changed.emit()
        self.model_deleted.emit(name, result.was_loaded)

    def _on_delete_failed(self, name: str, exc: BaseException) -> None:
        self._deleting.discard(name)
        self.show_problem(describe_error(exc))
        self.refresh()

    # closing -------------------------------------------------------------------------
    def shutdown(self, timeout: float = 10.0) -> bool:
        """Cancel downloads, imports and measurements; wait up to `timeout` s for their threads.
        True if all ended. A download stopped this way is offered for resuming at the next start."""
        self._closed = True
        if self.info_dialog is not None:
            self.info_dialog.close()
        ended = self.tasks.shutdown(timeout) if self._owns_tasks else True
        if self._owns_engine_tasks:
            self.engine_tasks.shutdown()
        return ended

