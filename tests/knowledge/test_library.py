"""The documents page's words and checks, without Qt."""

from __future__ import annotations

import errno
import sqlite3
from datetime import UTC, datetime

from assistant.errors import UserFacingError
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.collections import Collections, CollectionStatus
from assistant.knowledge.library import (
    describe_error,
    describe_failure,
    shown_path,
    source_problem,
    status_line,
    unique_name,
    when,
)
from assistant.store.db import open_database


def test_names_are_checked_for_emptiness_length_and_duplicates_in_any_case(core):
    collections = Collections(core.db)
    collections.create("Office")
    assert collections.name_problem("  ") == "A collection needs a name."
    assert "at most 80" in collections.name_problem("x" * 81)
    assert collections.name_problem("OFFICE ") == "A collection called 'Office' already exists."
    assert collections.name_problem("office", current="Office") is None  # a rename that changes case
    assert collections.name_problem("Home") is None
    # A tab or line break (possible from the command line) would break the picker's one-line entries.
    for odd in ("Tax\tbills", "Tax\nbills", "Tax\x1bbills"):
        assert collections.name_problem(odd) == "A collection name must be one line without tabs or control characters."
    assert collections.name_problem("Café & Co — 2026") is None
    assert unique_name(collections, "office") == "office 2"
    collections.create("office 2")
    assert unique_name(collections, "Office") == "Office 3"
    assert unique_name(collections, "") == "Documents"


def test_sources_say_what_is_wrong_with_them(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    assert source_problem(folder) is None
    kept = " (a drive unplugged?). What was indexed from a folder is kept until it is back or you remove it."
    assert source_problem(tmp_path / "gone") == "This file or folder no longer exists" + kept
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert source_problem(tmp_path / "link") == "This link's target no longer exists" + kept
    assert shown_path(str(folder / "a" / "b.md"), [str(tmp_path), str(folder)]) == "a/b.md"
    assert shown_path("/elsewhere/c.md", [str(folder)]) == "/elsewhere/c.md"


def test_failures_become_sentences():
    assert "disk is full" in describe_failure(OSError(errno.ENOSPC, "No space left on device"))
    assert "disk is full" in describe_failure(sqlite3.OperationalError("database or disk is full"))
    assert describe_failure(PermissionError(errno.EACCES, "Permission denied", "/x/y.pdf")) == (
        "Indexing stopped: permission denied /x/y.pdf.")
    assert "Input/output error (/x)" in describe_failure(OSError(errno.EIO, "Input/output error", "/x"))
    assert describe_failure(UserFacingError("Say this.", hint="Then this.")) == "Say this. Then this."
    assert "something went wrong" in describe_failure(RuntimeError("bug"))
    assert describe_error(PermissionError(errno.EACCES, "Permission denied", "/x")) == "Permission denied: /x."
    assert describe_error(UserFacingError("Say this.")) == "Say this."
    assert describe_error(RuntimeError("bug")).startswith("Something went wrong")


def test_status_line_and_times():
    now = datetime(2025, 5, 3, 14, 0, tzinfo=UTC).astimezone()
    assert when(None) == "never"
    assert when(now.isoformat(), now=now) == f"today {now:%H:%M}"
    assert when("2024-01-02T08:05:00+00:00", now=now).endswith("2024 " + datetime.fromisoformat(
        "2024-01-02T08:05:00+00:00").astimezone().strftime("%H:%M"))
    fresh = CollectionStatus("A", [], 0, 0, [], 0, None)
    assert status_line(fresh) == "Not indexed yet."
    done = CollectionStatus("A", ["/d"], 3, 2, [("/d/x.pdf", "The PDF has no pages.")], 1, None)
    assert status_line(done) == "3 files: 2 indexed  ·  1 chunk  ·  1 file skipped  ·  last updated never"


def test_a_knowledge_base_over_its_own_connection_sees_the_same_collections(core, tmp_path):
    KnowledgeBase(core).collections.add_source("Docs", tmp_path)
    db = open_database(core.paths.database)
    try:
        kb = KnowledgeBase.over(db, core.paths)
        assert kb.db is db and kb.db is not core.db
        assert [str(p) for p in kb.collections.sources("Docs")] == [str(tmp_path)]
        assert kb.embedder().name == "all-minilm-l6-v2"  # found through the registry, not loaded
        assert kb.embedder()._model is None
    finally:
        db.conn.close()
