"""The main window's model handling: the toolbar selector and the Models page, loading in the
background, reporting failures, repairing.

A mixin of MainWindow (it uses the window's widgets, signals and EngineTasks),
kept apart so the window module stays readable. The selector and the page share
one ModelTasks (downloads, imports, speed measurements on their own threads);
deleting a model runs on the window's EngineTasks, the one thread that may
touch the engine.
"""

from __future__ import annotations

import logging
import sys
import threading
from functools import partial

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QShowEvent

from assistant.errors import ModelUnavailable
from assistant.ui.background_measure import BackgroundMeasuring
from assistant.ui.formatting import status_for_loaded
from assistant.ui.model_selector import ModelSelector
from assistant.ui.model_tasks import ModelTasks
from assistant.ui.models_page import ModelsPage
from assistant.ui.workers import repair_job

log = logging.getLogger("assistant.ui")

PRELOAD_DELAY_MS = 1000  # after the model is ready: the window has settled
ENGINE_CHECK_MS = 3000  # how soon an engine killed while idle (out of memory, say) is noticed


class ModelLoading:
    def _build_models(self) -> None:
        self.model_tasks = ModelTasks(self.core, self)
        self.model_selector = ModelSelector(self.core, tasks=self.model_tasks)
        self.model_selector.model_chosen.connect(self._on_model_chosen)
        self.model_selector.context_changed.connect(self._on_context_chosen)
        self.models_page = ModelsPage(self.core, tasks=self.model_tasks, engine_tasks=self.tasks)
        self.models_page.models_changed.connect(self._refresh_models)
        self.models_page.measurement_finished.connect(lambda _name: self.model_selector.refresh())
        self.models_page.model_deleted.connect(self._on_model_deleted)
        self._engine_check = QTimer(self)
        self._engine_check.setInterval(ENGINE_CHECK_MS)
        self._engine_check.timeout.connect(self._check_engine)
        self._engine_check.start()

    @Slot()
    def _check_engine(self) -> None:
        """Notice an engine that died while idle, instead of saying "ready" until the next question
        fails. Busy (answering, loading), the engine reports its own end."""
        if self._closed or self.generating or self._loading is not None or self.core.model is None:
            return
        error = self.core.engine.check_alive()
        if error is not None:
            self.engine_lost(error.message)

    def engine_lost(self, message: str) -> None:
        """The loaded model is gone with its engine: say so, and offer to load it again."""
        name = self._wanted_model or self.core.settings.default_model
        self.model_selector.set_current(None)  # not "in use": choosing it again loads it
        self._set_status(status_for_loaded(None))
        self._show_model_in_status()
        self.show_problem(message, kind="model", action="Load again", on_action=partial(self.load_model, name))
        self._update_controls()

    def _preload_knowledge(self) -> None:
        """Once, shortly after the first model is ready: import the document libraries on a
        background thread while the user is still reading or typing (see preload_libraries)."""
        if self.knowledge_preloaded.is_set() or getattr(self, "_preloading", False):
            return
        self._preloading = True

        def run() -> None:
            from assistant.knowledge.base import preload_libraries

            try:
                preload_libraries()
            except Exception:  # noqa: BLE001 - only a head start: indexing imports them anyway
                # Closed mid-import, the interpreter winds down under it (chromadb's imports then
                # fail to start threads): nothing is wrong, and nothing is said.
                if not (self._closed or sys.is_finalizing()):
                    log.warning("could not preload the document libraries", exc_info=True)
            finally:
                self.knowledge_preloaded.set()

        threading.Thread(target=run, name="knowledge-preload", daemon=True).start()

    def _resume_indexing(self) -> None:
        """Once per start: continue indexing runs the last exit cut off."""
        if getattr(self, "_resumed_indexing", False) or self._closed:
            return
        if not self.knowledge_preloaded.is_set():
            # After the preload: two threads importing the same libraries at once can trip
            # Python's import locks.
            QTimer.singleShot(200, self, self._resume_indexing)
            return
        self._resumed_indexing = True
        names = self.documents_page.resume_interrupted()
        if names:
            self._set_status("Continuing to index " + ", ".join(names) + ", interrupted when the app last closed.")

    def _wire_background_work(self) -> None:
        """After the first model is ready: preload the document libraries, and measure the
        unmeasured models while the app is idle."""
        measuring = self.background_measuring = BackgroundMeasuring(self.core, self.model_tasks, self)
        self.knowledge_preloaded = threading.Event()
        # Documents need no chat model: a start whose model fails to load still gets them.
        for settled in (self.model_ready, self.model_failed):
            settled.connect(lambda _arg: QTimer.singleShot(PRELOAD_DELAY_MS, self, self._preload_knowledge))
            settled.connect(lambda _arg: QTimer.singleShot(PRELOAD_DELAY_MS, self, self._resume_indexing))
        self.model_ready.connect(lambda _name: measuring.start())
        self.model_loading.connect(lambda _name: measuring.set_busy("loading", True))
        self.model_ready.connect(lambda _name: measuring.set_busy("loading", False))
        self.model_failed.connect(lambda _text: measuring.set_busy("loading", False))
        self.answer_started.connect(lambda _conversation: measuring.set_busy("answer", True))
        self.answer_finished.connect(lambda _message: measuring.set_busy("answer", False))
        self.answer_failed.connect(lambda _text: measuring.set_busy("answer", False))
        self.documents_page.indexing_active.connect(lambda active: measuring.set_busy("indexing", active))
        measuring.status.connect(self.status_bar.set_measure_text)
        measuring.measured.connect(lambda _name: self.model_selector.refresh())
        self.status_bar.measure_stop_requested.connect(measuring.stop_by_user)
        measuring.turned_off.connect(lambda: self._set_status(
            "Background speed measuring is off; measure a model from the Models page, or turn it "
            "back on in Settings."))

    def _shutdown_models(self) -> None:
        """Cancel downloads (resumable at the next start), imports and measurements."""
        self.background_measuring.shutdown()
        self.model_selector.shutdown()
        self.models_page.shutdown(timeout=10.0)
        self.model_tasks.shutdown(timeout=10.0)

    def model_usable(self) -> bool:
        return self._loading is None and self.core.model is not None and self.core.engine.loaded is not None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._started:
            self._started = True
            # Queued behind the first paint: the window is up before the model is read.
            QTimer.singleShot(0, self, self._load_default_model)

    @Slot()
    def _load_default_model(self) -> None:
        self.load_model(self.core.settings.default_model)

    def _refresh_models(self) -> None:
        # Added to, not replaced: a model just deleted is still named as the user knows it (the
        # page reports the change before the deletion, whose sentence names it).
        self._display_names.update({m.name: m.display_name for m in self.core.registry.all("chat")})
        self.model_selector.refresh()
        self.model_selector.set_current(self._loading or self._wanted_model)

    def _display(self, name: str | None) -> str:
        if not name:
            return "no model"
        return self._display_names.get(name, name)

    def _show_model_in_status(self) -> None:
        model = self.core.model if self.model_usable() else None
        self.status_bar.set_model(f"Model: {model.display_name}" if model else "No model loaded",
                                  str(model.path) if model else "")

    @Slot(str)
    def _on_model_chosen(self, name: str) -> None:
        if name != self._loading:
            self.load_model(name, remember=True)

    def load_model(self, name: str, *, remember: bool = False) -> None:
        """Load `name` in the background; model_ready or model_failed follows."""
        if self._closed:
            return
        self._loading = self._wanted_model = name
        self._dismiss_problem("model")
        self.model_selector.set_current(name)
        self._set_status(f"Loading {self._display(name)}…", busy=True)
        self._show_model_in_status()
        self._update_controls()
        self.model_loading.emit(name)
        self.tasks.run(partial(self.core.load_model, name), partial(self._on_model_loaded, name, remember),
                       partial(self._on_model_failed, name))

    def _on_model_loaded(self, name: str, remember: bool, loaded) -> None:
        self._loading = None
        model = self.core.model
        if self.core.engine.loaded_settings.load_key() != self.core.settings.generation.load_key():
            # Settings saved while it loaded (reload_if_needed skips a model still loading):
            # it was read with the ones before, so it is loaded again with the new ones.
            self.load_model(model.name, remember=remember)
            return
        log.info("model %s ready (loaded in %.2fs)", model.name, loaded.load_s)
        self._set_status(status_for_loaded(model, loaded.load_s))
        if remember and self.core.settings.default_model != model.name:
            self.core.settings.default_model = model.name  # the next start opens with it
            try:
                self.core.settings.save(self.core.paths)
            except OSError as exc:
                log.warning("could not save the chosen model as default: %s", exc)
        self._show_model_in_status()
        self._update_controls()
        self.model_ready.emit(model.name)

    def _on_model_failed(self, name: str, exc: BaseException) -> None:
        self._loading = None
        message = self.describe_error(exc)
        log.warning("model %s could not be loaded: %s", name, message)
        current = self.core.model if self.model_usable() else None
        self.model_selector.set_current(current.name if current else name)
        self._set_status(f"{status_for_loaded(current)}  ·  {self._display(name)} could not be loaded")
        if isinstance(exc, ModelUnavailable):
            action, on_action = self._file_action(name)
            self.show_problem(message, kind="model", action=action, on_action=on_action)
        else:
            self.show_problem(message, kind="model", action="Try again", on_action=partial(self.load_model, name))
        self._show_model_in_status()
        self._update_controls()
        self.model_failed.emit(message)

    def _file_action(self, name: str) -> tuple[str, object]:
        """What the banner offers for a model that cannot be loaded: Repair rebuilds only the starter
        models, so a downloaded model's file is fetched again (on the Models page), and an imported
        one's is located there; a file that is fine (memory ran short) is tried again."""
        model = self.core.registry.get(name)
        if model is None:
            return "Repair", self.repair_models  # a starter model never registered, or lost from the registry
        try:
            self.core.registry.check(model)
        except ModelUnavailable:
            if model.source == "starter":
                return "Repair", self.repair_models
            if model.source == "import":
                return "Locate…", partial(self._locate_model, name)
            if model.source == "download" and name in self.models_page.catalog_rows:  # the catalog still has it
                return "Download again", partial(self._download_model_again, name)
            return "Open Models", partial(self.show_page, "models")
        return "Try again", partial(self.load_model, name)

    def _locate_model(self, name: str) -> None:
        self.show_page("models")
        self.models_page.locate(name)

    def _download_model_again(self, name: str) -> None:
        self.show_page("models")
        self.models_page.refresh()  # its row learns the file is gone before the download starts
        self.models_page.download_again(name)

    def _on_model_deleted(self, name: str, was_loaded: bool) -> None:
        if was_loaded or self.core.model is None:
            self._show_model_in_status()
            self._set_status(status_for_loaded(None))
            self.show_problem(f"{self._display(name)} was deleted. Choose another model in the toolbar.",
                              kind="model")
        self._update_controls()

    @Slot(int, int)
    def _on_context_chosen(self, n_ctx: int, n_threads: int) -> None:
        """The selector's context length and threads: kept in the settings, the model reloaded with them."""
        generation = self.core.settings.generation
        before = generation.load_key()
        generation.n_ctx, generation.n_threads = n_ctx, n_threads or None
        try:
            self.core.settings.save(self.core.paths)
        except OSError as exc:
            log.warning("could not save the context length: %s", exc)
        self.reload_if_needed(before)

    def reload_if_needed(self, before_key: tuple) -> bool:
        """After the settings changed: load the model again if what it is loaded with changed."""
        if (self.core.settings.generation.load_key() == before_key or not self.model_usable()
                or self.generating):
            return False
        self.load_model(self.core.model.name)
        return True

    def repair_models(self) -> None:
        """Rebuild the starter models (assistant setup --repair) in the background, then load again."""
        if self._closed or self._repairing:
            return
        self._repairing = True
        wanted = self._wanted_model or self.core.settings.default_model
        self._set_status("Repairing models…", busy=True)
        self._update_controls()
        job = repair_job(self.core, self.tasks, report=partial(self._set_status, busy=True))
        self.tasks.run(job, partial(self._on_repaired, wanted), self._on_repair_failed)

    def _on_repaired(self, wanted: str, _installed) -> None:
        self._repairing = False
        self._dismiss_problem("model")
        self._refresh_models()
        self.repair_finished.emit(True)
        self.load_model(wanted)

    def _on_repair_failed(self, exc: BaseException) -> None:
        self._repairing = False
        self._refresh_models()
        self._set_status(status_for_loaded(self.core.model if self.model_usable() else None))
        self.show_problem(self.describe_error(exc), kind="model", action="Repair", on_action=self.repair_models)
        self._update_controls()
        self.repair_finished.emit(False)
