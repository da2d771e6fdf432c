"""The ONNX backends give the same vectors as sentence-transformers (int8: close), and index the same way."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from assistant.bench.synthetic_docs import seed_paragraphs, write_folder
from assistant.knowledge import onnx_encoder
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.embedder import DEFAULT_EMBEDDER, Embedder
from tests.knowledge.helpers import assert_consistent

TEXTS = ["The tenant pays the rent on the first day of each month.",
         "Patient records are kept for ten years.",
         "Quarterly figures are reconciled against bank statements before the board meets. " * 30,  # > 256 tokens
         "Kurz."]


@pytest.fixture(scope="module")
def embedder_folder(starter_registry):
    return starter_registry.get(DEFAULT_EMBEDDER).path


@pytest.fixture(scope="module")
def export_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("embedders")


def test_onnx_matches_torch_and_int8_stays_close(embedder_folder, export_cache, monkeypatch):
    monkeypatch.delenv(onnx_encoder.PREBUILT_ENV, raising=False)  # export here, not from the shared one
    reference = Embedder(embedder_folder).encode(TEXTS)
    onnx = Embedder(embedder_folder, backend="onnx", cache=export_cache)
    vectors = onnx.encode(TEXTS)
    assert vectors.shape == reference.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (vectors * reference).sum(1).min() > 0.9999  # same model, same truncation, same pooling
    assert list(export_cache.rglob("model.onnx"))

    int8 = Embedder(embedder_folder, backend="onnx-int8", cache=export_cache).encode(TEXTS)
    cosine = (int8 * reference).sum(1)
    assert cosine.min() > 0.8, cosine
    # the nearest text to each text is still itself
    assert (np.argmax(int8 @ reference.T, axis=1) == np.arange(4)).all()


def test_onnx_backend_keeps_torch_out_of_the_app_even_when_it_exports(core, tmp_path, embedder_folder):
    """The ONNX backend never imports torch into the app: not to search, and not to export the
    graph the first time (a child process does that), so a first indexing run cannot freeze the window."""
    import os
    import subprocess

    fresh = tmp_path / "fresh-cache"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.knowledge.embedder import Embedder\n"
        f"e = Embedder(Path({str(embedder_folder)!r}), backend='onnx', cache=Path({str(fresh)!r}))\n"
        "v = e.encode_query('rent due date')\n"
        "print(v.shape[0], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != onnx_encoder.PREBUILT_ENV}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["384", "False", "False"]
    assert list(fresh.rglob("model.onnx"))  # exported, by the child


def test_a_first_export_stops_when_indexing_is_cancelled(tmp_path, embedder_folder, monkeypatch):
    """The export runs tens of seconds in a child: cancelling kills the child and leaves no graph,
    finished or partial, so the next run exports afresh."""
    import psutil

    monkeypatch.delenv(onnx_encoder.PREBUILT_ENV, raising=False)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    asked = []

    def cancelled():  # the user presses Cancel about half a second into the export
        asked.append(1)
        return len(asked) > 5

    cache = tmp_path / "cache"
    with pytest.raises(InterruptedError):
        Embedder(embedder_folder, backend="onnx", cache=cache).encode(["rent due date"], cancelled=cancelled)
    assert len(asked) == 6
    assert not [p for p in cache.rglob("*") if p.is_file()]
    assert not [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]


def test_settings_choose_the_backend(core):
    core.settings.embedding_backend = "onnx-int8"
    embedder = KnowledgeBase(core).embedder()
    assert (embedder.backend, embedder.cache) == ("onnx-int8", core.paths.cache / "embedders")


def test_index_with_onnx_backend_is_consistent(core, tmp_path, export_cache, embedder_folder):
    folder = tmp_path / "docs"
    write_folder(folder, seed_paragraphs(None), pdfs=2, docx=1, markdown=1, pdf_pages=2, words=300)
    kb = KnowledgeBase(core, embedder=Embedder(embedder_folder, backend="onnx", cache=export_cache))
    kb.collections.add_source("office", folder)
    done = kb.index("office")
    assert done.indexed == 4 and not done.skipped
    assert kb.embedder().backend == "onnx"
    assert_consistent(kb)
    hits = kb.search("monthly rent payment", ["office"], k=3)
    assert hits and "rent" in hits[0].text.lower()


def test_setup_prepares_the_onnx_graph_ahead_of_the_first_index(core, monkeypatch):
    """`assistant setup` exports the graph, so a first indexing run does not wait for it."""
    from assistant.setup_models import prepare_embedder

    monkeypatch.delenv(onnx_encoder.PREBUILT_ENV, raising=False)
    assert not list((core.paths.cache / "embedders").rglob("model.onnx"))
    prepare_embedder(core)
    assert list((core.paths.cache / "embedders").rglob("model.onnx"))
