"""The knowledge base: one object the CLI, the GUI and the tests use for documents."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from assistant.errors import ModelUnavailable
from assistant.knowledge.collections import Collections
from assistant.knowledge.embedder import DEFAULT_BACKEND, DEFAULT_EMBEDDER, Embedder
from assistant.knowledge.index_lock import default_lock_path
from assistant.knowledge.indexer import Indexer, IndexProgress, IndexReport
from assistant.knowledge.retriever import Retriever, SearchResult

# Libraries whose first import holds the GIL for tens of ms at a stretch (native modules, and
# chromadb's and the parsers' import chains): imported once in the background, the first
# indexing run or document question does not pay for them while the window is in use.
HEAVY_LIBRARIES = ("onnxruntime", "tokenizers", "chromadb", "docx", "bs4", "pypdfium2", "charset_normalizer")


def preload_libraries() -> None:
    import importlib

    for name in HEAVY_LIBRARIES:
        importlib.import_module(name)


class KnowledgeBase:
    def __init__(self, core, embedder: Embedder | None = None):
        self.core = core
        self.db = core.db
        self.collections = Collections(core.db)
        self._embedder = embedder
        self._vectors = None
        self.indexer = Indexer(core.db, self.vectors, self.embedder, default_lock_path(core.paths.data))
        self.retriever = Retriever(core.db, self.vectors, self.embedder)

    @classmethod
    def over(cls, db, paths, embedder: Embedder | None = None, settings=None) -> KnowledgeBase:
        """A knowledge base on a given connection, without a Core (and its engine).

        The indexer groups writes with BEGIN IMMEDIATE on its connection, so a
        background thread that indexes must have a connection of its own: a
        transaction opened on a shared one would swallow the other thread's writes.
        """
        from assistant.models.registry import ModelRegistry

        return cls(SimpleNamespace(db=db, paths=paths, registry=ModelRegistry(db), settings=settings), embedder)

    def embedder(self) -> Embedder:
        if self._embedder is None:
            model = self.core.registry.get(DEFAULT_EMBEDDER)
            if model is None:
                raise ModelUnavailable("The embedding model is not installed.",
                                       hint="Run `assistant setup` to install it.")
            settings = getattr(self.core, "settings", None)
            self._embedder = Embedder(model.path, name=model.name,
                                      backend=getattr(settings, "embedding_backend", None) or DEFAULT_BACKEND,
                                      cache=self.core.paths.cache / "embedders")
        return self._embedder

    def vectors(self):
        if self._vectors is None:
            from assistant.knowledge.vectors import VectorStore

            self._vectors = VectorStore(self.core.paths.vectors, self.embedder().name)
        return self._vectors

    def index(self, name: str, progress: Callable[[IndexProgress], None] | None = None,
              cancelled: Callable[[], bool] | None = None,
              resume_later: Callable[[], bool] | None = None) -> IndexReport:
        return self.indexer.index(name, progress, cancelled, resume_later)

    def collection_ids(self, names: list[str] | None) -> list[int] | None:
        if not names:
            return None
        return [self.collections.get(n)["id"] for n in names]

    def search(self, query: str, collections: list[str] | None = None, k: int = 8, mode: str = "hybrid",
               **kwargs) -> list[SearchResult]:
        return self.retriever.search(query, k=k, collection_ids=self.collection_ids(collections), mode=mode,
                                     **kwargs)
