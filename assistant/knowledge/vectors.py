"""The vector store: chromadb, holding only vectors and the chunk ids that point back to SQLite."""

from __future__ import annotations

from pathlib import Path

import numpy as np

UPSERT_BATCH = 2000


class VectorStore:
    def __init__(self, folder: Path, embedder_name: str):
        import chromadb
        from chromadb.config import Settings

        folder.mkdir(parents=True, exist_ok=True)
        # Telemetry is on by default in chromadb; this app never phones home.
        self._client = chromadb.PersistentClient(
            path=str(folder), settings=Settings(anonymized_telemetry=False, allow_reset=False))
        self._collection = self._client.get_or_create_collection(
            f"chunks-{embedder_name}", metadata={"hnsw:space": "cosine"}, embedding_function=None)

    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        for i in range(0, len(ids), UPSERT_BATCH):
            self._collection.upsert(ids=ids[i:i + UPSERT_BATCH], embeddings=vectors[i:i + UPSERT_BATCH])

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), UPSERT_BATCH):
            self._collection.delete(ids=ids[i:i + UPSERT_BATCH])

    def get(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of `ids` (those it has)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), UPSERT_BATCH):
            got = self._collection.get(ids=ids[i:i + UPSERT_BATCH], include=["embeddings"])
            out.update(zip(got["ids"], (np.asarray(v, dtype=np.float32) for v in got["embeddings"]), strict=True))
        return out

    def ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def count(self) -> int:
        return self._collection.count()

    def query(self, vector: np.ndarray, k: int, only_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) pairs, best first."""
        if self.count() == 0 or (only_ids is not None and not only_ids):
            return []
        kwargs = {"ids": only_ids} if only_ids is not None else {}
        result = self._collection.query(query_embeddings=[vector], n_results=k, include=["distances"], **kwargs)
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]
