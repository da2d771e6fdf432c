"""The app's core objects, wired once: paths, database, settings, registry, engine.

The GUI, the CLI and the tests all start here, so all three run the same code.
"""

from __future__ import annotations

import logging
import threading

from assistant.config import GenerationSettings, Paths, Settings, paths
from assistant.errors import ModelUnavailable
from assistant.llm.client import EngineClient
from assistant.llm.protocol import Loaded
from assistant.models.registry import InstalledModel, ModelRegistry
from assistant.store.conversations import Conversations
from assistant.store.db import open_database

log = logging.getLogger("assistant.core")


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
            if (loaded is not None and self.model is not None and self.model.name == model.name
                    and self.engine.loaded_settings.load_key() == settings.load_key()):
                return loaded
            self.model = None
            loaded = self.engine.load(path, settings)
            self.model = model
            return loaded

    def require_model(self) -> InstalledModel:
        if self.model is None or self.engine.loaded is None:
            raise ModelUnavailable("No model is loaded.", hint="Choose a model first.")
        return self.model

    def close(self) -> None:
        if self._owns_engine:
            self.engine.close()
        self.db.conn.close()

    def __enter__(self) -> Core:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
