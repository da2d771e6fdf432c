"""An answer's sources say whether their files are still as indexed: gone, changed, or unchanged,
checked cheaply (a stat; a hash only when the stat moved) when the answer is written and again
when a stored answer is shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest

from assistant.answer import ask_documents
from assistant.chat import Finished
from assistant.config import GenerationSettings
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.passages import (
    FILE_CHANGED,
    FILE_GONE,
    FILE_UNCHANGED,
    FILE_WARNINGS,
    KnownHashes,
    check_file,
    check_row,
)
from tests.conftest import QWEN

LEASE = """# Lease agreement

## 15. Rent

15.1 The monthly rent is 1,250 euros, payable on the first day of each month.
"""
DEPOSIT = """# Deposit

The security deposit is two months of rent, returned within thirty days of the end of the lease.
"""
SETTINGS = GenerationSettings(temperature=0.0, seed=0, max_tokens=40)


@pytest.fixture
def office(core, tmp_path):
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "lease.md").write_text(LEASE, encoding="utf-8")
    (folder / "deposit.md").write_text(DEPOSIT, encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("office", folder)
    kb.index("office")
    core.load_model(QWEN)
    return kb, folder


def answer(core, kb, question: str):
    events = list(ask_documents(core, kb, question, ["office"], settings=SETTINGS))
    return core.conversations.message(next(e for e in events if isinstance(e, Finished)).message.id)


def states(message) -> dict[str, set]:
    out: dict[str, set] = {}
    for row in message.sources:
        out.setdefault(os.path.basename(row["path"]), set()).add(row["file_state"])
    return out


def test_each_source_of_an_answer_says_whether_its_file_is_gone_or_changed_since_indexing(core, office):
    kb, folder = office
    message = answer(core, kb, "How much is the monthly rent?")
    assert states(message) == {"lease.md": {FILE_UNCHANGED}, "deposit.md": {FILE_UNCHANGED}}
    lease = next(r for r in message.sources if r["path"].endswith("lease.md"))
    info = os.stat(lease["path"])
    assert lease["file_stamp"] == [info.st_size, info.st_mtime_ns, info.st_ctime_ns]

    (folder / "deposit.md").unlink()  # moved away or deleted; the index still holds its passage
    with open(folder / "lease.md", "a", encoding="utf-8") as f:
        f.write("\n15.2 From 2026 the rent is 1,400 euros.\n")
    later = answer(core, kb, "How much is the monthly rent?")
    assert states(later) == {"lease.md": {FILE_CHANGED}, "deposit.md": {FILE_GONE}}
    assert all(r["file_stamp"] is None for r in later.sources if r["file_state"] == FILE_GONE)
    # The first answer, stored, keeps what was true when it was written; shown again, it is
    # checked again: each of its rows is what its file is now.
    assert states(core.conversations.message(message.id))["deposit.md"] == {FILE_UNCHANGED}
    assert {check_row(r).state for r in message.sources if r["path"].endswith("deposit.md")} == {FILE_GONE}
    assert {check_row(r).state for r in message.sources if r["path"].endswith("lease.md")} == {FILE_CHANGED}


def test_a_file_touched_but_not_changed_is_unchanged_and_a_restored_one_is_too(core, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    lease = folder / "lease.md"
    lease.write_text(LEASE, encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("docs", folder)
    kb.index("docs")
    (chunk_id,) = [r[0] for r in core.db.execute("select id from chunks")]
    known = KnownHashes()
    os.utime(lease)  # a backup tool or an editor that saved without a change
    assert check_file(str(lease), chunk_id, known).state == FILE_UNCHANGED
    lease.write_text(LEASE.replace("1,250", "1,520"), encoding="utf-8")  # same size, other bytes
    assert check_file(str(lease), chunk_id, known).state == FILE_CHANGED
    lease.write_text(LEASE, encoding="utf-8")  # put back as it was
    assert check_file(str(lease), chunk_id, known).state == FILE_UNCHANGED
    lease.unlink()
    lease.mkdir()  # a folder where the file was
    assert check_file(str(lease), chunk_id, known).state == FILE_GONE
    assert check_file(None, chunk_id, known).state is None  # nothing to check: no warning either


def _read_chars() -> int:
    return psutil.Process().io_counters().read_chars


def test_a_large_file_is_read_only_when_its_stat_moved_since_it_was_indexed_or_checked(core, tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    big = folder / "retention.md"  # 3 MB, of which one sentence is text
    big.write_text("# Records\n\nPatient records are kept for ten years.\n" + " " * 3_000_000 + "\n",
                   encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("records", folder)
    kb.index("records")
    (chunk_id,) = [r[0] for r in core.db.execute("select id from chunks")]
    known = KnownHashes()
    known.learn_indexed(kb.db, [str(big)])  # what indexing recorded: size, mtime, ctime, hash

    before = _read_chars()
    assert check_file(str(big), chunk_id, known).state == FILE_UNCHANGED
    assert _read_chars() - before < 1_000_000  # a stat, not the file

    os.utime(big)  # the stat moves: only the bytes can tell
    before = _read_chars()
    assert check_file(str(big), chunk_id, known).state == FILE_UNCHANGED
    assert _read_chars() - before >= 3_000_000
    before = _read_chars()  # and what was read is known by its new stat after
    assert check_file(str(big), chunk_id, known).state == FILE_UNCHANGED
    assert _read_chars() - before < 1_000_000
    # A stored row's own check stands while the file's stat does: nothing is read to show it again.
    checked = check_file(str(big), chunk_id, KnownHashes())
    row = {"path": str(big), "chunk_id": chunk_id, "file_state": checked.state, "file_stamp": list(checked.stamp)}
    assert check_row(row, KnownHashes(), read=False).state == FILE_UNCHANGED
    os.utime(big)
    assert check_row(row, KnownHashes(), read=False) is None  # the panel hashes it off the UI thread


def test_cli_ask_warns_beside_a_source_whose_file_is_gone_or_changed(core, office):
    kb, folder = office
    (folder / "deposit.md").unlink()
    (folder / "lease.md").write_text(LEASE.replace("1,250", "1,400"), encoding="utf-8")

    def ask(*extra):
        result = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--collection", "office", "--model",
                                 QWEN, "--seed", "0", "--max-tokens", "40", *extra, "How much is the monthly rent?"],
                                capture_output=True, text=True, timeout=300, env=os.environ.copy())
        assert result.returncode == 0, result.stderr
        return result.stdout

    out = json.loads(ask("--json"))
    assert {os.path.basename(s["path"]): s["file_state"] for s in out["sources"]} == \
        {"lease.md": FILE_CHANGED, "deposit.md": FILE_GONE}
    source = out["sources"][0]  # the keys are all still there
    assert {"path", "page", "start", "end", "text", "rank", "scores", "in_prompt", "cited"} <= set(source)
    listed = ask().partition("\nSources:\n")[2].splitlines()
    assert listed, "no sources listed"
    for line in listed:
        name = "lease.md" if "lease.md" in line else "deposit.md"
        warning = FILE_WARNINGS[FILE_CHANGED if name == "lease.md" else FILE_GONE]
        assert f"{name}, lines " in line and f"[WARNING: {warning}] (" in line, line
