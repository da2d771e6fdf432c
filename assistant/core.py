"""The app's core objects, wired once: paths, database, settings, registry, engine.

The GUI, the CLI and the tests all start here, so all three run the same code.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from assistant.config import GenerationSettings, Paths, Settings, paths
from assistant.errors import ModelUnavailable
from assistant.llm.client import EngineClient
from assistant.llm.protocol import Loaded
from assistant.models.facts import facts_from_installed
from assistant.models.fit import FitResult, check_fit, engine_rss
from assistant.models.registry import InstalledModel, ModelRegistry
from assistant.store.conversations import Conversations
from assistant.store.db import open_database

log = logging.getLogger("assistant.core")

# A yes/no check reads at most the sources' token budget and a question.
CHECK_CONTEXT = 2048


class Core:
    def __init__(self, where: Paths | None = None, engine: EngineClient | None = None):
        self.paths = (where or paths()).ensure()
        self.db = open_database(self.paths.database)
        self.settings = Settings.load(self.paths)
        self.registry = ModelRegistry(self.db)
        self.conversations = Conversations(self.db)
        self._owns_engine = engine is None
        self.engine = engine or EngineClient(log_path=self.paths.logs / "engine.log")
        self.model: InstalledModel | None = None
        self._load_lock = threading.Lock()
        self._check_engine: EngineClient | None = None
        self._check_lock = threading.Lock()
        recovered = self.conversations.recover_interrupted()
        if recovered:
            log.info("kept %d answers interrupted by an earlier exit, marked as stopped", recovered)

    def chat_models(self) -> list[InstalledModel]:
        return self.registry.all("chat")

    def default_model_name(self) -> str:
        return self.settings.default_model

    def load_model(self, name: str | None = None, settings: GenerationSettings | None = None) -> Loaded:
        """Make `name` (default: the settings' model) the loaded model. No-op if it already is."""
        settings = settings or self.settings.generation
        with self._load_lock:
            model = self.registry.resolve(name or self.default_model_name())
            path = self.registry.check(model)
            loaded = self.engine.loaded
            if (self.engine.holds_model() and self.model is not None and self.model.name == model.name
                    and self.engine.loaded_settings.load_key() == settings.load_key()):
                return loaded
            self.model = None
            # A copy: the window changes its settings in place, and the engine's record of what
            # it loaded with must not change with them (the next load would think it current).
            # Cut to the trained context: 131,072 tokens asked of SmolLM2 (8,192) took 3.1 GB.
            loaded = self.engine.load(path, replace(settings), max_context=model.context_length)
            self.model = model
            return loaded

    def require_model(self) -> InstalledModel:
        if self.model is None or self.engine.loaded is None:
            raise ModelUnavailable("No model is loaded.", hint="Choose a model first.")
        return self.model

    def check_engine(self, name: str) -> tuple[EngineClient, InstalledModel]:
        """An engine holding the model `name` for the yes/no check of document answers: the chat
        engine when `name` is the loaded model, else a second engine child (its own process, so a
        crash in it cannot take the first down) with a context just big enough for a check.
        Raises ModelUnavailable / EngineError."""
        with self._check_lock:
            model = self.registry.resolve(name)
            if self.model is not None and model.name == self.model.name:
                self._close_check_engine()  # it would hold a second copy of the same model
                return self.engine, model
            path = self.registry.check(model)
            engine = self._check_engine
            loaded = engine.loaded if engine is not None and engine.holds_model() else None  # a crashed one loads again
            if loaded is None or loaded.path != str(path):
                self._refuse_unless_it_fits(model)
                if self._check_engine is None:
                    self._check_engine = EngineClient(log_path=self.paths.logs / "check-engine.log")
                self._check_engine.load(path, replace(self.settings.generation, n_ctx=CHECK_CONTEXT))
            return self._check_engine, model

    def check_model_fit(self, model: InstalledModel) -> FitResult:
        """Whether `model` fits in memory as the check model, beside the answering model (the check
        model loaded now, if any, would give its memory back)."""
        return check_fit(facts_from_installed(model), CHECK_CONTEXT,
                         reclaimable=engine_rss(self._check_engine) if self._check_engine is not None else 0)

    def _refuse_unless_it_fits(self, model: InstalledModel) -> None:
        """A check model runs beside the answering one: loading it into memory that is not free
        would make the whole computer swap, so it is refused and the answering model checks."""
        fit = self.check_model_fit(model)
        if fit.needed > fit.available:
            self._close_check_engine()  # the answering model checks now: an older check model is of no use
            raise ModelUnavailable(
                f"{model.display_name} needs {fit.needed / 1e9:.1f} GB beside the answering model, and "
                f"{fit.available / 1e9:.1f} GB is free.",
                hint="Close other programs, or let the answering model check its own answers.")

    def release_check_engine(self) -> None:
        """Free the second engine's memory (when answers are checked by the answering model again)."""
        with self._check_lock:
            self._close_check_engine()

    def _close_check_engine(self) -> None:
        if self._check_engine is not None:
            self._check_engine.close()
            self._check_engine = None

    def close(self) -> None:
        self.release_check_engine()
        if self._owns_engine:
            self.engine.close()
        self.db.conn.close()

    def __enter__(self) -> Core:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
