"""Indexing one collection while answering from a second and deleting a third: no "database is locked",
no lost writes.

Arranged as the app runs them: the indexer on a thread with its own connection (the Documents page's
queue), answers on another thread through the Core (the engine thread), and the deletion from a
second process (`assistant collections remove`, e.g. a terminal beside the open window).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading

from assistant.answer import ask_documents
from assistant.chat import Finished
from assistant.config import RetrievalSettings
from assistant.knowledge import indexer as indexer_module
from assistant.knowledge.base import KnowledgeBase
from assistant.store.db import open_database
from tests.knowledge.helpers import assert_consistent, wait_for, write_corpus

TO_INDEX = 10
QUESTIONS = ["What does the lease say about the deposit?", "When is the rent due?"]
# One short source per prompt: the prompt is processed on a CPU shared with the indexer.
RETRIEVAL = RetrievalSettings(k=4, prompt_sources=1, source_token_budget=300, check_model="")


def _chunk_ids(kb, name: str) -> set[str]:
    return {r[0] for r in kb.db.execute(
        "select c.id from chunks c join documents d on d.content_hash = c.content_hash "
        "join collections k on k.id = d.collection_id where k.name = ?", [name])}


def test_indexing_answering_and_deleting_at_once(smol_core, tmp_path, monkeypatch):
    # Many small commits, so the indexer writes all through the answers and the deletion.
    monkeypatch.setattr(indexer_module, "EMBED_BATCH_CHUNKS", 8)
    core = smol_core
    kb = KnowledgeBase(core)
    for name, files, seed in (("answer-from", 4, 21), ("to-delete", 4, 22)):
        write_corpus(tmp_path / name, files=files, paragraphs=4, seed=seed)
        kb.collections.add_source(name, tmp_path / name)
        kb.index(name)
    write_corpus(tmp_path / "to-index", files=TO_INDEX, paragraphs=6, seed=23)
    kb.collections.add_source("to-index", tmp_path / "to-index")
    doomed = _chunk_ids(kb, "to-delete")
    kept = kb.collections.status("answer-from")
    assert doomed and kept.indexed == 4

    errors: list[BaseException] = []
    indexing_started, answers_done = threading.Event(), threading.Event()
    reports, finished = [], []

    def removed() -> bool:
        return sqlite3.connect(core.paths.database).execute(
            "select count(*) from collections where name = 'to-delete'").fetchone()[0] == 0

    def index_in_background():
        db = open_database(core.paths.database)
        try:
            def progress(event):
                if event.phase == "indexing" and event.files_done == 1:
                    indexing_started.set()
                if event.phase == "indexing" and event.files_done == TO_INDEX - 1:
                    # Hold the last file until the others are through, so all three overlap.
                    wait_for(lambda: answers_done.is_set() and removed(), "the answers and the removal", timeout=300, every=0.02)

            reports.append(KnowledgeBase.over(db, core.paths).index("to-index", progress))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.conn.close()

    def answer():
        try:
            indexing_started.wait(300)
            for question in QUESTIONS:
                events = list(ask_documents(core, kb, question, ["answer-from"], retrieval=RETRIEVAL))
                finished.append(events[-1])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            answers_done.set()

    threads = [threading.Thread(target=index_in_background), threading.Thread(target=answer)]
    for thread in threads:
        thread.start()
    indexing_started.wait(300)
    remover = subprocess.run([sys.executable, "-m", "assistant.cli", "collections", "remove", "to-delete"],
                             capture_output=True, text=True, timeout=300, env=dict(os.environ))
    for thread in threads:
        thread.join(300)

    assert not errors, errors
    assert remover.returncode == 0 and "locked" not in remover.stderr, remover.stderr

    # The index: every file of the new collection, nothing skipped, both stores agreeing.
    (report,) = reports
    assert report.indexed == TO_INDEX and not report.skipped and not report.cancelled
    assert kb.collections.status("to-index").indexed == TO_INDEX
    # The answers: each stored whole, with its question and sources from its own collection only.
    assert len(finished) == len(QUESTIONS)
    for answer in finished:
        assert isinstance(answer, Finished) and answer.message.status == "complete" and answer.message.content
        stored = core.conversations.messages(answer.message.conversation_id)
        assert [m.role for m in stored] == ["user", "assistant"] and stored[1].content == answer.message.content
        assert all("/answer-from/" in s["path"] for s in stored[1].sources)
    assert len(core.conversations.list()) == len(QUESTIONS)
    # The deletion: the collection and its chunks gone from both stores; the others untouched.
    assert "to-delete" not in [row["name"] for row in kb.collections.list()]
    assert not doomed & kb.vectors().ids()
    assert kb.collections.status("answer-from") == kept
    assert_consistent(kb)
    assert sqlite3.connect(core.paths.database).execute("pragma integrity_check").fetchone()[0] == "ok"
