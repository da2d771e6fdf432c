"""Sentence embeddings from the bundled all-MiniLM-L6-v2, offline, batched.

Two backends: "torch" (sentence-transformers) and "onnx" / "onnx-int8"
(onnxruntime, see onnx_encoder.py). Both cost seconds to import, so nothing
here imports them until the first encode: never at app start.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.config import physical_cores
from assistant.errors import ModelUnavailable, UserFacingError

log = logging.getLogger("assistant.knowledge")

DEFAULT_EMBEDDER = "all-minilm-l6-v2"
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx"  # Settings.embedding_backend's default, for a knowledge base without settings


class Embedder:
    def __init__(self, folder: Path, name: str = DEFAULT_EMBEDDER, batch_size: int = 32, backend: str = "torch",
                 cache: Path | None = None):
        if backend not in BACKENDS:
            raise UserFacingError(f"Unknown embedding backend {backend!r}.", hint=f"Use one of {', '.join(BACKENDS)}.")
        if backend == "torch" and cache is not None and importlib.util.find_spec("torch") is None:
            # The desktop bundle leaves torch out (it is most of its size): same model, same vectors.
            log.info("torch is not installed: embedding with the onnx backend instead")
            backend = "onnx"
        if backend != "torch" and cache is None:
            raise ValueError("the ONNX backends need a cache folder for the exported model")
        self.folder = Path(folder)
        self.name = name
        self.batch_size = batch_size
        self.backend = backend
        self.cache = cache
        self._last_query: tuple[str, np.ndarray] | None = None
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                if not (self.folder / "modules.json").is_file():
                    raise ModelUnavailable(f"The embedding model is missing from {self.folder}.",
                                           hint="Run `assistant setup --repair`.")
                if self.backend == "torch":
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(physical_cores())
                    self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
                else:
                    from assistant.knowledge.onnx_encoder import OnnxEncoder

                    self._model = OnnxEncoder(self.folder, self.cache / self.name,
                                              quantized=self.backend == "onnx-int8")
        return self._model

    def prepare(self, cancelled: Callable[[], bool] | None = None) -> None:
        """Load the model now (for ONNX: export it first if needed), so the first encode is quick.
        `cancelled` can stop an ONNX export (InterruptedError)."""
        model = self._load()
        if self.backend != "torch":
            model.prepare(cancelled)  # the encoder itself loads lazily: the export happens here, not at first use

    @property
    def dimension(self) -> int:
        return 384 if self.backend != "torch" else self._load().get_sentence_embedding_dimension()

    @property
    def max_tokens(self) -> int:
        return self._load().max_seq_length

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if self.backend == "torch":
            return model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        return model.encode(texts, batch_size=self.batch_size)

    def encode(self, texts: list[str], cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. Checks `cancelled` between batches.

        Texts are sorted by length first, so each batch pads to similar lengths, as
        the library does when it is given the whole list at once.
        """
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if cancelled is not None:
            self.prepare(cancelled)  # the first run's ONNX export takes tens of seconds: stoppable too
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = []
        for i in range(0, len(texts), self.batch_size):
            if cancelled and cancelled():
                raise InterruptedError("cancelled")
            out.append(self._encode_batch([texts[j] for j in order[i:i + self.batch_size]]))
        vectors = np.concatenate(out).astype(np.float32, copy=False)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    def encode_bare(self, texts: list[str]) -> np.ndarray:
        """The library's own encode over the whole list: the yardstick the indexing benchmark uses."""
        return self._encode_batch(texts)

    def encode_query(self, text: str) -> np.ndarray:
        # An answer embeds its question twice (the search, then its sentence matching): once is enough.
        last = self._last_query
        if last is not None and last[0] == text:
            return last[1]
        vector = self.encode([text])[0]
        self._last_query = (text, vector)
        return vector
