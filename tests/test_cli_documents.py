"""The document commands as a user runs them: a real subprocess, real SQLite, chroma and embedder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from assistant.cli_documents import ctrl_c_ends_step, cut_by_ctrl_c, snippet, where
from assistant.errors import UserFacingError
from assistant.knowledge.base import KnowledgeBase
from tests.knowledge.helpers import assert_consistent, wait_for, write_corpus

CLI = [sys.executable, "-m", "assistant.cli"]


def run_cli(*args, cwd=None, timeout=300):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=os.environ.copy())


def test_an_empty_path_is_refused_instead_of_meaning_the_current_folder(core, tmp_path):
    kb = KnowledgeBase(core)
    for blank in ("", "  "):
        with pytest.raises(UserFacingError, match="The path is empty"):
            kb.collections.source_path(blank)
        with pytest.raises(UserFacingError, match="The path is empty"):
            kb.collections.add_source("x", blank)
    here = tmp_path / "cwd"
    write_corpus(here, files=1)
    result = run_cli("index", "", "--collection", "x", cwd=here)  # an unset $DIR in a script
    assert result.returncode == 1 and "error: The path is empty: give a folder or file." in result.stderr
    assert kb.collections.find("x") is None


def test_index_refuses_several_collections_instead_of_using_the_last(core, tmp_path):
    write_corpus(tmp_path / "docs", files=1)
    result = run_cli("index", str(tmp_path / "docs"), "--collection", "a", "--collection", "b")
    assert result.returncode == 1, result.stderr
    assert "several --collection were given: 'a', 'b'" in result.stderr
    assert KnowledgeBase(core).collections.list() == []


def test_index_says_a_renamed_folder_replaced_the_old_one(core, tmp_path):
    old = tmp_path / "Dossiers"
    write_corpus(old, files=2)
    assert run_cli("index", str(old), "--collection", "office").returncode == 0
    new = old.rename(tmp_path / "Dossiers 2026")
    result = run_cli("index", str(new), "--collection", "office")
    assert result.returncode == 0, result.stderr
    assert "2 moved" in result.stdout and "0 skipped" in result.stdout
    assert f"{str(old)!r} is not there, and every file indexed from it is in another folder" in result.stdout
    status = run_cli("collections", "status", "office")
    listed = [line.strip() for line in status.stdout.splitlines()]
    assert str(old) not in listed and str(new) in listed


def test_a_folder_is_removed_from_a_collection_and_its_documents_forgotten(core, tmp_path):
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    write_corpus(kept, files=2)
    dropped.mkdir()
    (dropped / "lease.md").write_text("# Lease\n\nThe zebra clause covers striped tenants.\n", encoding="utf-8")
    for folder in (kept, dropped):
        assert run_cli("index", str(folder), "--collection", "office").returncode == 0
    assert "zebra" in run_cli("search", "zebra", "--collection", "office", "--mode", "keyword").stdout

    typo = run_cli("collections", "remove-source", "office", str(kept), str(tmp_path / "nowhere"))
    assert typo.returncode == 1 and "is not a folder or file of the collection 'office'" in typo.stderr
    assert str(dropped) in typo.stderr  # it says which there are
    kb = KnowledgeBase(core)
    assert len(kb.collections.sources("office")) == 2  # nothing removed by a command that failed

    result = run_cli("collections", "remove-source", "office", str(dropped))
    assert result.returncode == 0, result.stderr
    assert f"removed {dropped} from office; their documents are forgotten now" in result.stdout
    assert kb.collections.sources("office") == [kept]
    none = run_cli("search", "zebra", "--collection", "office", "--mode", "keyword")
    assert none.stdout == "" and "No results." in none.stderr
    assert kb.collections.status("office").indexed == 2
    assert_consistent(kb)  # its chunks and vectors were collected too


def test_ignore_patterns_are_shown_replaced_and_cleared(core, tmp_path):
    docs = tmp_path / "docs"
    write_corpus(docs, files=2)
    (docs / "draft.md").write_text("# Draft\n\nNot final.\n", encoding="utf-8")
    help_text = run_cli("index", "--help").stdout
    assert "a new --ignore replaces all earlier" in " ".join(help_text.split())
    assert run_cli("index", str(docs), "--collection", "c", "--ignore", "draft*").returncode == 0
    status = run_cli("collections", "status", "c")
    assert "left out (--ignore): draft*" in status.stdout and "2 files indexed" in status.stdout
    assert json.loads(run_cli("collections", "status", "c", "--json").stdout)["ignore"] == ["draft*"]

    cleared = run_cli("collections", "ignore", "c")
    assert cleared.returncode == 0 and "the patterns were cleared" in cleared.stdout
    assert "left out (--ignore): nothing" in run_cli("collections", "status", "c").stdout
    assert run_cli("collections", "reindex", "c").returncode == 0
    assert KnowledgeBase(core).collections.status("c").indexed == 3

    assert run_cli("index", str(docs), "--collection", "c", "--ignore", "doc*").returncode == 0
    assert run_cli("index", str(docs), "--collection", "c", "--no-ignore").returncode == 0
    assert KnowledgeBase(core).collections.ignore_globs("c") == []
    blank = run_cli("collections", "ignore", "c", " ")
    assert blank.returncode == 1 and "An ignore pattern is empty" in blank.stderr
    typo = run_cli("index", str(docs), "--collection", "new", "--ignore", "")
    assert typo.returncode == 1 and "An ignore pattern is empty" in typo.stderr
    assert KnowledgeBase(core).collections.find("new") is None  # refused before anything was recorded


def test_rename_says_what_it_did_and_status_is_readable_unless_json_is_asked(core, tmp_path):
    none = run_cli("collections", "list")
    assert none.returncode == 0 and none.stdout == "" and "No collections yet" in none.stderr
    write_corpus(tmp_path / "docs", files=1)
    assert run_cli("index", str(tmp_path / "docs"), "--collection", "old").returncode == 0
    assert run_cli("collections", "list").stdout.startswith("old: 1 file indexed, 0 skipped,")
    renamed = run_cli("collections", "rename", "OLD", "new")
    assert renamed.returncode == 0 and renamed.stdout.strip() == "renamed old to new"
    same = run_cli("collections", "rename", "new", "new")
    assert same.returncode == 0 and same.stdout.strip() == "new is already its name; nothing changed"
    status = run_cli("collections", "status", "new")
    assert status.stdout.startswith("new: 1 file indexed, 0 skipped,")
    assert f"folders and files:\n  {tmp_path / 'docs'}\n" in status.stdout
    as_json = json.loads(run_cli("collections", "status", "new", "--json").stdout)
    assert as_json["name"] == "new" and as_json["indexed"] == 1
    assert not as_json["interrupted"] and not as_json["unfinished"] and as_json["notes"] == []


def test_search_names_the_section_of_a_file_without_pages_or_lines(core, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "memo.html").write_text(
        "<html><body><h1>Lease terms</h1><h2>Termination notice</h2><p>The tenant must give thirty days "
        "written notice before leaving the premises.</p></body></html>", encoding="utf-8")
    assert run_cli("index", str(docs), "--collection", "memos").returncode == 0
    result = run_cli("search", "thirty days notice", "--collection", "memos", "--k", "1")
    assert f"#1 {docs / 'memo.html'}, section Lease terms > Termination notice " in result.stdout
    # A page or a line range says more than a section, so it comes first.
    assert where({"path": "a.pdf", "page": 3, "heading": "Intro"}) == "a.pdf, page 3"
    assert where({"path": "a.md", "line_start": 4, "line_end": 9, "heading": "Intro"}) == "a.md, lines 4-9"


def test_search_shows_the_part_of_a_long_passage_holding_the_words_searched(core, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text("# Lease\n\n" + "The tenant keeps the premises clean and in good repair. " * 8
                                   + "The zanzibarquokka clause covers pets.\n", encoding="utf-8")
    assert run_cli("index", str(docs), "--collection", "lease").returncode == 0
    shown = run_cli("search", "zanzibarquokka", "--collection", "lease", "--k", "1").stdout.splitlines()[1]
    assert shown.startswith("   …") and "The zanzibarquokka clause covers pets." in shown
    # A passage whose opening holds the word, or none of the words, starts at its beginning.
    assert snippet("The zanzibarquokka clause. " + "More. " * 80, "zanzibarquokka").startswith("The zanz")
    assert snippet("Words. " * 80, "absent") == ("Words. " * 80)[:300]
    # Asked as a question: its common words ("what", "the") and words inside others ("there") are no guide.
    notice = "There the other terms apply. " * 12 + "The renewal notice period is ninety days."
    assert "The renewal notice period" in snippet(notice, "What is the renewal notice period?")
    # Chinese has no spaces to start at, and a question is one run of characters.
    chinese = "合同条款。" * 80 + "违约金为五万元人民币。"
    assert "违约金为五万元" in snippet(chinese, "违约金是多少")[:100]


def test_search_in_a_collection_with_nothing_indexed_says_so_and_how_to_index(core, tmp_path):
    nothing = run_cli("search", "rent")
    assert nothing.returncode == 1 and "No documents are indexed yet" in nothing.stderr
    assert "assistant index PATH --collection NAME" in nothing.stderr
    (tmp_path / "new").mkdir()  # a collection just made, over a folder with nothing in it yet
    assert run_cli("index", str(tmp_path / "new"), "--collection", "new cases").returncode == 0
    empty = run_cli("search", "rent", "--collection", "new cases")
    assert empty.returncode == 1 and empty.stdout == "", empty.stderr
    assert "The collection 'new cases' has no indexed documents yet: its folders hold no file it can read." \
        in empty.stderr
    assert "assistant index PATH --collection 'new cases'" in empty.stderr  # as it can be pasted
    assert "No results" not in empty.stderr and "could not find" not in empty.stderr

    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "notes.md").write_text("", encoding="utf-8")  # every file skipped
    assert run_cli("index", str(tmp_path / "blank"), "--collection", "blank").returncode == 0
    skipped = run_cli("search", "rent", "--collection", "blank", "--json")
    assert skipped.returncode == 1 and skipped.stdout == ""
    assert "The collection 'blank' has no indexed documents yet: its file was skipped." in skipped.stderr
    assert "`assistant collections status blank` says why" in skipped.stderr
    assert "assistant index PATH --collection blank" in skipped.stderr
    asked = run_cli("ask", "What is the rent?", "--collection", "blank", "--json")  # no model is loaded for it
    assert asked.returncode == 1 and asked.stdout == ""
    assert "The collection 'blank' has no indexed documents yet: its file was skipped." in asked.stderr

    unknown = run_cli("search", "rent", "--collection", "nosuch")
    assert unknown.returncode == 1
    assert "There is no collection called 'nosuch'. Collections: blank, new cases." in unknown.stderr
    both = run_cli("search", "rent", "--collection", "blank", "--collection", "new cases")
    assert both.returncode == 1 and "None of the collections 'blank', 'new cases' has indexed documents" in both.stderr
    write_corpus(tmp_path / "docs", files=1)
    assert run_cli("index", str(tmp_path / "docs"), "--collection", "full").returncode == 0
    # One collection with passages is enough to search; so is searching them all.
    assert run_cli("search", "rent", "--collection", "blank", "--collection", "full").returncode == 0
    assert run_cli("search", "rent").returncode == 0


def test_search_warns_of_a_file_gone_or_changed_since_it_was_indexed(core, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text("# Lease\n\nThe monthly rent is 1,250 euros.\n", encoding="utf-8")
    (docs / "memo.md").write_text("# Memo\n\nThe deposit is two months of rent.\n", encoding="utf-8")
    assert run_cli("index", str(docs), "--collection", "office").returncode == 0
    fine = run_cli("search", "rent", "--collection", "office")
    assert fine.returncode == 0 and "WARNING" not in fine.stdout
    (docs / "memo.md").unlink()
    (docs / "lease.md").write_text("# Lease\n\nThe monthly rent is 1,400 euros.\n", encoding="utf-8")
    hits = json.loads(run_cli("search", "rent", "--collection", "office", "--json").stdout)
    assert {os.path.basename(h["path"]): h["file_state"] for h in hits} == {"lease.md": "changed", "memo.md": "gone"}
    text = run_cli("search", "rent", "--collection", "office").stdout
    assert f"{docs / 'memo.md'}, lines 1-3 [WARNING: The file is no longer there: it was moved or deleted " \
           "after it was indexed.]  fused" in text
    assert f"{docs / 'lease.md'}, lines 1-3 [WARNING: The file changed after it was indexed" in text


def _holding_the_database(database: Path):
    """The database locked as another program writing to it would: a command waits at opening it."""
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("pragma locking_mode = exclusive")
    conn.execute("begin exclusive")
    conn.execute("select count(*) from documents").fetchone()
    return conn


def test_ctrl_c_while_searching_stops_with_a_short_word_and_exit_130(core, tmp_path, app_paths):
    write_corpus(tmp_path / "docs", files=1)
    assert run_cli("index", str(tmp_path / "docs"), "--collection", "office").returncode == 0
    core.close()  # its connection would keep the lock below from being taken
    held = _holding_the_database(app_paths.database)
    try:
        proc = subprocess.Popen([*CLI, "search", "rent", "--collection", "office"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        child = psutil.Process(proc.pid)
        # The database open: the command is past its imports and waits for the lock, in the search.
        wait_for(lambda: any(f.path == str(app_paths.database) for f in child.open_files()), "the database open")
        proc.send_signal(signal.SIGINT)
    finally:
        held.close()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and out == "" and err == "[stopped]\n", err


def test_a_second_ctrl_c_does_not_wait_for_the_step_under_way():
    stopped = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_ends_step(lambda: stopped.append(True)) as pressed:
        os.kill(os.getpid(), signal.SIGINT)  # as the user pressing Ctrl-C in the terminal
        wait_for(pressed.is_set, "the first Ctrl-C")
        assert stopped == [True]
        os.kill(os.getpid(), signal.SIGINT)
        wait_for(lambda: False, "the second Ctrl-C to stop this", timeout=30)
    # A KeyboardInterrupt inside a native library's first import comes out as an ImportError.
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc
    except ImportError as exc:
        assert cut_by_ctrl_c(exc)
    assert not cut_by_ctrl_c(ImportError("no module named x"))
