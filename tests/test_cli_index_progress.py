"""Indexing progress as the CLI prints it: to a pipe, when stopped, when another run holds the lock."""

from __future__ import annotations

import fcntl
import re
import signal
import sqlite3
import subprocess
import sys

from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.index_lock import default_lock_path
from tests.knowledge.helpers import wait_for, write_corpus
from tests.test_cli import run_cli

CLI = [sys.executable, "-m", "assistant.cli"]


def _indexed(app_paths) -> int:
    try:
        return sqlite3.connect(app_paths.database).execute(
            "select count(*) from documents where status = 'indexed'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_progress_to_a_pipe_is_one_line_per_update(core, tmp_path):
    write_corpus(tmp_path / "docs", files=3)
    result = run_cli("index", str(tmp_path / "docs"), "--collection", "piped")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("[scanning] ") and re.fullmatch(r"\[done\] 3/3 files, \d+ chunks, 0 skipped", lines[-1])


def test_a_stopped_index_says_how_far_it_got_and_exits_130(core, tmp_path, app_paths):
    folder = tmp_path / "big"
    write_corpus(folder, files=60, paragraphs=12, seed=5)
    proc = subprocess.Popen([*CLI, "index", str(folder), "--collection", "big"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: _indexed(app_paths) >= 5 or proc.poll() is not None, "some files indexed")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    match = re.fullmatch(r"\[stopped\] (\d+)/60 files done, \d+ chunks, 0 skipped", last)
    assert match, err
    indexed = KnowledgeBase(core).collections.status("big").indexed
    assert 5 <= int(match[1]) == indexed < 60
    assert "[cancelled]" in out


def test_a_second_index_says_it_waits_for_the_first(core, tmp_path, app_paths):
    write_corpus(tmp_path / "docs", files=2)
    lock_path = default_lock_path(app_paths.data)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another process's run holds it
        log = tmp_path / "stderr.txt"
        with open(log, "w") as err:
            waiting = subprocess.Popen([*CLI, "index", str(tmp_path / "docs"), "--collection", "w"],
                                       stdout=subprocess.PIPE, stderr=err, text=True)
        wait_for(lambda: "waiting for another indexing run to finish" in log.read_text(), "the waiting line")
        assert waiting.poll() is None
        fcntl.flock(lock, fcntl.LOCK_UN)
        waiting.communicate(timeout=120)
        assert waiting.returncode == 0, log.read_text()
        assert log.read_text().splitlines()[0] == "waiting for another indexing run to finish…"

        # Ctrl-C while waiting ends the command at once, leaving no run marked as cut off.
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(log, "w") as err:
            stopped = subprocess.Popen([*CLI, "collections", "reindex", "w"], stdout=subprocess.PIPE, stderr=err,
                                       text=True)
        wait_for(lambda: "waiting for another" in log.read_text(), "the waiting line")
        stopped.send_signal(signal.SIGINT)
        out, _ = stopped.communicate(timeout=60)
        assert stopped.returncode == 130 and "[cancelled]" in out, log.read_text()
    assert KnowledgeBase(core).collections.interrupted() == []


def test_removing_a_collection_during_another_run_says_it_waits_and_ctrl_c_leaves_the_space_for_later(
        core, tmp_path, app_paths):
    write_corpus(tmp_path / "docs", files=2)
    kb = KnowledgeBase(core)
    for name in ("gone", "stopped"):
        kb.collections.add_source(name, tmp_path / "docs")
    kb.index("gone")
    kb.index("stopped")
    lock_path = default_lock_path(app_paths.data)
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another process's run holds it
        log = tmp_path / "stderr.txt"
        with open(log, "w") as err:
            removing = subprocess.Popen([*CLI, "collections", "remove", "gone"], stdout=subprocess.PIPE,
                                        stderr=err, text=True)
        wait_for(lambda: "waiting for another indexing run to finish" in log.read_text(), "the waiting line")
        assert removing.poll() is None and "gone" not in [r["name"] for r in kb.collections.list()]
        fcntl.flock(lock, fcntl.LOCK_UN)
        out, _ = removing.communicate(timeout=120)
        assert removing.returncode == 0 and out == "removed gone\n", log.read_text()

        # Ctrl-C while waiting: the collection is gone at once, and its chunks wait for a later run.
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(log, "w") as err:
            stopped = subprocess.Popen([*CLI, "collections", "remove", "stopped"], stdout=subprocess.PIPE,
                                       stderr=err, text=True)
        wait_for(lambda: "waiting for another" in log.read_text(), "the waiting line")
        stopped.send_signal(signal.SIGINT)
        out, _ = stopped.communicate(timeout=60)
        assert stopped.returncode == 130, log.read_text()
        assert out == "removed stopped\nstopped waiting: the next index run frees the space stopped took\n"
    assert kb.collections.list() == []
    assert kb.indexer.collect_garbage_exclusive() > 0  # what the stopped removal left behind
    assert core.db.execute("select count(*) from chunks").fetchone()[0] == 0
