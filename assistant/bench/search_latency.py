"""Hybrid search latency at scale (`assistant bench search`).

Synthetic chunks (random words from a fixed vocabulary, random unit vectors)
fill a throw-away app home, so the figure measures the stores and the fusion,
not the corpus. Reported: p50/p95 excluding the query embedding (keyword +
vector + fusion + hydration) and including it, and what an answer adds on top: the
rarity weights of the question's words (one FTS5 prefix count each, uncached).
"""

from __future__ import annotations

import hashlib
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.config import Paths
from assistant.core import Core
from assistant.knowledge.chunker import CHUNKER_VERSION
from assistant.knowledge.indexer import chunk_id

VOCAB_SIZE = 20_000
WORDS_PER_CHUNK = 120
QUERIES = 100


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(VOCAB_SIZE)]


def _fill(core: Core, kb, n: int, rng: random.Random, report) -> list[str]:
    vocab = _vocabulary(rng)
    weights = [1 / (i + 1) for i in range(VOCAB_SIZE)]  # Zipf-like, as in real text
    cid = kb.collections.ensure("bench")["id"]
    dim = 384
    batch = 5000
    for start in range(0, n, batch):
        count = min(batch, n - start)
        digest = hashlib.sha256(f"bench-{start}".encode()).hexdigest()
        rows, ids = [], []
        for i in range(count):
            words = rng.choices(vocab, weights=weights, k=WORDS_PER_CHUNK)
            cid_ = chunk_id(digest, i)
            ids.append(cid_)
            rows.append({"id": cid_, "content_hash": digest, "ordinal": i, "text": " ".join(words),
                         "heading": "", "start": 0, "end": 0, "page": 1, "page_end": 1, "line_start": None,
                         "line_end": None, "embedded": 1, "version": CHUNKER_VERSION})
        core.db["chunks"].insert_all(rows, pk="id")
        core.db["documents"].insert({"collection_id": cid, "path": f"/bench/{start}.txt", "content_hash": digest,
                                     "status": "indexed", "n_chunks": count})
        vectors = np.random.default_rng(start).standard_normal((count, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        kb.vectors().upsert(ids, vectors)
        report(f"  {start + count:,} chunks stored")
    return vocab


def measure(n: int, report=print, backend: str = "torch") -> dict:
    from assistant.knowledge.base import KnowledgeBase
    from assistant.knowledge.evidence import content_terms, rarity

    main = Core()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        root = Path(tmp)
        core = Core(Paths(root / "data", root / "config", root / "cache", root / "logs").ensure(), engine=main.engine)
        for model in main.registry.all():
            core.registry.register(model)
        core.settings.embedding_backend = backend
        kb = KnowledgeBase(core)
        vocab = _fill(core, kb, n, rng, report)
        kb.embedder().encode_query("warm up")
        queries = [" ".join(rng.choices(vocab[:3000], k=rng.randint(3, 8))) for _ in range(QUERIES)]
        kb.search("warm up the search", k=8)  # warm caches (not a timed query: its embedding would be remembered)
        without, with_embedding = [], []
        for q in queries:
            t0 = time.perf_counter()
            vector = kb.embedder().encode_query(q)
            t1 = time.perf_counter()
            keyword = kb.retriever.keyword(q)
            vec = kb.retriever.vector(q, vector=vector)
            from assistant.knowledge.retriever import fuse

            fused = fuse(keyword, vec, fusion="weighted")[:8]
            kb.retriever._hydrate([c for c, _ in fused], None)
            t2 = time.perf_counter()
            without.append((t2 - t1) * 1000)
            with_embedding.append((t2 - t0) * 1000)
        weights_ms = []
        for q in queries:
            kb.retriever.forget_frequencies()
            t0 = time.perf_counter()
            weight = rarity(kb.retriever.document_frequency, kb.retriever.chunk_count())
            for term in content_terms(q):
                weight(term)
            weights_ms.append((time.perf_counter() - t0) * 1000)
        core.close()
    main.close()

    def pct(values, p):
        return statistics.quantiles(values, n=100)[p - 1]

    return {"chunks": n, "queries": QUERIES, "backend": backend,
            "p50_ms": statistics.median(without), "p95_ms": pct(without, 95),
            "p50_with_embedding_ms": statistics.median(with_embedding),
            "p95_with_embedding_ms": pct(with_embedding, 95),
            "word_weights_p50_ms": statistics.median(weights_ms), "word_weights_p95_ms": pct(weights_ms, 95)}
