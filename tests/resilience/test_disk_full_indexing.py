"""A disk that fills up while documents are indexed: a clear message, both stores intact, and the next
run (once there is room) continues where the failed one stopped.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys

import pytest

from assistant.errors import DiskFull
from assistant.knowledge import indexer as indexer_module
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.vectors import VectorStore
from tests.conftest import _paths
from tests.knowledge.helpers import assert_consistent, write_corpus
from tests.resilience.small_fs import mounted_tmpfs

FILES = 12


def assert_committed_state_intact(kb) -> int:
    """What the failed run committed is whole in both stores; returns how many files that is.

    Rows of the batch that was being written may be left unreferenced: the next run
    collects them, as it does after a kill (see the indexer's docstring).
    """
    db_file = kb.core.paths.database
    assert sqlite3.connect(db_file).execute("pragma integrity_check").fetchone()[0] == "ok"
    vector_ids = kb.vectors().ids()  # chroma opens and answers
    indexed = kb.db.execute("select content_hash, n_chunks from documents where status = 'indexed'").fetchall()
    for content_hash, n_chunks in indexed:
        ids = {r[0] for r in kb.db.execute(
            "select id from chunks where content_hash = ? and embedded = 1", [content_hash])}
        assert len(ids) == n_chunks and ids <= vector_ids
    return len(indexed)


def _index_cmd(folder, home):
    return ([sys.executable, "-m", "assistant.cli", "index", str(folder), "--collection", "big"],
            {**os.environ, "ASSISTANT_HOME": str(home)})


def test_indexing_onto_a_real_full_disk_says_so_and_resumes_once_space_is_freed(
        starter_registry, shared_engine, tmp_path):
    folder = tmp_path / "docs"  # the documents are on another disk; the app's data is on the small one
    write_corpus(folder, files=FILES, paragraphs=6, seed=3)
    # Room for the app data and the embedder's exported model in its cache (the ONNX backend's).
    with mounted_tmpfs(tmp_path / "small", 200) as small:
        home = small.root / "home"
        from assistant.core import Core

        with Core(_paths(home), engine=shared_engine) as core:
            for model in starter_registry.values():
                core.registry.register(model)
            kb = KnowledgeBase(core)
            # As for a user with an index already: the stores and the embedder's cache exist before the disk fills.
            kb.vectors()
            kb.embedder().encode(["warm up"])

            small.fill(leave=200_000)  # too little for this run's writes
            cmd, env = _index_cmd(folder, home)
            failed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)

            assert failed.returncode == 1, failed.stdout + failed.stderr
            assert "error: The disk is full, so indexing 'big' stopped" in failed.stderr, failed.stderr
            assert "something went wrong" not in failed.stderr
            assert_committed_state_intact(kb)

            small.free_up()
            report = kb.index("big")  # the window's "index again", in the same process
            assert report.indexed + report.unchanged == FILES and not report.skipped
            assert_consistent(kb)


@pytest.fixture
def small_batches(monkeypatch):
    # Several commits per run, so the disk can fill between two of them.
    monkeypatch.setattr(indexer_module, "EMBED_BATCH_CHUNKS", 8)


def _fill_sqlite(kb):
    # SQLite's own limit on the file's size: the real SQLITE_FULL path, from inside SQLite.
    pages = kb.db.execute("pragma page_count").fetchone()[0]
    kb.db.execute(f"pragma max_page_count = {pages + 12}")
    return lambda: kb.db.execute("pragma max_page_count = 1073741823")


def _fill_chroma(kb, monkeypatch):
    real_upsert = VectorStore.upsert
    calls = []

    def upsert_on_a_full_disk(self, ids, vectors):
        calls.append(len(ids))
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_upsert(self, ids, vectors)

    monkeypatch.setattr(VectorStore, "upsert", upsert_on_a_full_disk)
    return lambda: monkeypatch.setattr(VectorStore, "upsert", real_upsert)


@pytest.mark.parametrize("store", ["sqlite", "chroma"])
def test_a_store_that_runs_out_of_space_mid_run_stops_cleanly_and_the_next_run_finishes(
        core, tmp_path, small_batches, monkeypatch, store):
    folder = tmp_path / "docs"
    write_corpus(folder, files=FILES, paragraphs=6, seed=4)
    kb = KnowledgeBase(core)
    kb.collections.add_source("big", folder)
    kb.vectors()
    free_up = _fill_sqlite(kb) if store == "sqlite" else _fill_chroma(kb, monkeypatch)

    with pytest.raises(DiskFull, match="disk is full.*kept") as caught:
        kb.index("big")
    assert "Free some space" in str(caught.value)
    committed = assert_committed_state_intact(kb)
    assert committed < FILES
    if store == "chroma":  # (a full SQLite may refuse even this small write: best effort there)
        # A failed run is not resumed by itself at the next start: it would fail the same way.
        assert kb.collections.interrupted() == []

    free_up()
    report = kb.index("big")
    assert report.unchanged == committed and report.indexed == FILES - committed and not report.skipped
    assert_consistent(kb)
    assert kb.collections.status("big").indexed == FILES
