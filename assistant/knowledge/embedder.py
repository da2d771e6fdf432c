"""Sentence embeddings from the bundled all-MiniLM-L6-v2, offline, batched.

sentence-transformers (and torch under it) cost seconds to import, so nothing
here imports them until the first encode: never at app start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.config import physical_cores
from assistant.errors import ModelUnavailable

DEFAULT_EMBEDDER = "all-minilm-l6-v2"


class Embedder:
    def __init__(self, folder: Path, name: str = DEFAULT_EMBEDDER, batch_size: int = 32):
        self.folder = Path(folder)
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                if not (self.folder / "modules.json").is_file():
                    raise ModelUnavailable(f"The embedding model is missing from {self.folder}.",
                                           hint="Run `assistant setup --repair`.")
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(physical_cores())
                self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
        return self._model

    @property
    def dimension(self) -> int:
        return self._load().get_sentence_embedding_dimension()

    @property
    def max_tokens(self) -> int:
        return self._load().max_seq_length

    def encode(self, texts: list[str], cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. Checks `cancelled` between batches."""
        model = self._load()
        out = []
        for i in range(0, len(texts), self.batch_size):
            if cancelled and cancelled():
                raise InterruptedError("cancelled")
            out.append(model.encode(texts[i:i + self.batch_size], batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
