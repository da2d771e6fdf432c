"""Indexing with the real parsers, embedder, SQLite and chromadb."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from assistant.errors import UserFacingError
from assistant.knowledge.base import KnowledgeBase
from tests.knowledge.helpers import assert_consistent, snapshot, write_corpus


@pytest.fixture
def kb(core):
    return KnowledgeBase(core)


def test_index_search_and_incremental_updates(kb, tmp_path):
    folder = tmp_path / "docs"
    files = write_corpus(folder, files=6)
    (folder / "notes.md").write_text("# Lease\n\nClause 14.2: the tenant may not sublet the premises "
                                     "without written consent.\n", encoding="utf-8")
    (folder / ".hidden.md").write_text("# secret\n\nnever indexed\n")
    (folder / "node_modules").mkdir()
    (folder / "node_modules" / "x.md").write_text("# build junk\n\nnever indexed\n")
    kb.collections.add_source("office", folder)

    first = kb.index("office")
    assert (first.files, first.indexed, first.skipped) == (7, 7, [])
    assert first.chunks_added == first.chunks_total > 7
    assert_consistent(kb)

    again = kb.index("office")
    assert (again.unchanged, again.indexed, again.chunks_added) == (7, 0, 0)

    files[0].write_text("# Changed\n\nCompletely new words about a supplier warranty claim.\n")
    (folder / "doc001.md").rename(folder / "moved.md")
    files[2].unlink()
    third = kb.index("office")
    assert third.indexed == 1 and third.reused == 1 and third.removed == 2  # moved = removed + reused
    assert third.moved == 1  # and said once: the deleted file is the other one removed
    assert third.chunks_added == 1  # only the changed file was embedded again
    assert_consistent(kb)
    status = kb.collections.status("office")
    assert status.indexed == 6 and status.chunks == third.chunks_total

    hits = kb.search("Can the tenant sublet? clause 14.2", ["office"], k=3)
    assert hits[0].path.endswith("notes.md") and "14.2" in hits[0].text
    top = hits[0]
    assert top.rank == 1 and top.scores["fused"] > 0
    assert top.scores["keyword"] is not None and top.scores["vector"] is not None
    assert top.heading == "Lease" and (top.line_start, top.line_end) == (1, 3)  # heading + its paragraph


def test_a_file_restored_with_its_old_size_and_time_is_read_again(kb, tmp_path):
    """A backup restored with cp -p, rsync or unzip keeps size and mtime; only the ctime tells."""
    folder = tmp_path / "docs"
    folder.mkdir()
    fee = folder / "fee.txt"
    fee.write_text("The filing fee is 5,000 dollars.\n")
    os.utime(fee, ns=(1_700_000_000_000_000_000,) * 2)
    kb.collections.add_source("office", folder)
    assert kb.index("office").indexed == 1

    fee.write_text("The filing fee is 9,000 dollars.\n")  # the same size
    os.utime(fee, ns=(1_700_000_000_000_000_000,) * 2)
    second = kb.index("office")
    assert (second.indexed, second.unchanged, second.chunks_added) == (1, 0, 1)
    assert "9,000" in kb.search("filing fee", ["office"], k=1)[0].text
    assert_consistent(kb)

    os.chmod(fee, 0o600)  # a new ctime, the same bytes: hashed, not embedded again
    third = kb.index("office")
    assert (third.indexed, third.unchanged, third.chunks_added) == (0, 1, 0)
    assert kb.index("office").unchanged == 1


def test_a_move_is_counted_once_beside_copies_and_deletions_of_the_same_bytes(kb, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    text = "# Memo\n\nThe supplier delivers on Mondays.\n"
    for name in ("a.md", "x.md", "y.md"):
        (folder / name).write_text(text if name == "a.md" else text.replace("Mondays", "Fridays"))
    kb.collections.add_source("docs", folder)
    kb.index("docs")
    (folder / "a.md").rename(folder / "b.md")  # moved, and copied once more
    (folder / "c.md").write_text(text)
    (folder / "x.md").unlink()  # two copies deleted, one of them arriving elsewhere
    (folder / "y.md").rename(folder / "z.md")
    run = kb.index("docs")
    assert (run.reused, run.removed, run.moved) == (3, 3, 2)  # b and z moved, c a copy, x deleted
    assert_consistent(kb)


def test_collection_filter_and_removal(kb, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "cats.md").write_text("# Cats\n\nCats purr and sleep most of the day.\n")
    (b / "dogs.md").write_text("# Dogs\n\nDogs bark at the postman.\n")
    kb.collections.add_source("pets-a", a)
    kb.collections.add_source("pets-b", b)
    kb.index("pets-a")
    kb.index("pets-b")
    assert {r.path.rsplit("/", 1)[1] for r in kb.search("animals", ["pets-b"], k=5)} == {"dogs.md"}
    assert len(kb.search("animals", None, k=5)) == 2
    kb.collections.remove("pets-b")
    kb.indexer.collect_garbage()
    assert_consistent(kb)
    assert [r.path.rsplit("/", 1)[1] for r in kb.search("bark", None, k=5)] == ["cats.md"]


def test_bad_files_are_skipped_with_reasons_and_good_ones_indexed(kb, tmp_path):
    from tests.knowledge.corpus import bad_files

    folder = tmp_path / "mixed"
    folder.mkdir()
    cases = bad_files(folder)
    # Its 10 MB field is 12,000 chunks of real embedding work: minutes here, and the
    # parser tests already prove it parses. Everything else in the corpus stays.
    (folder / "huge-field.csv").unlink()
    good = write_corpus(folder / "good", files=3)
    kb.collections.add_source("mixed", folder)
    report = kb.index("mixed")
    skipped = dict(report.skipped)
    status = kb.collections.status("mixed")
    for path, reason in cases:
        if reason is None or path.is_dir() or not path.exists() and not path.is_symlink():
            continue  # good files, and folders (never candidates: the walk descends into them)
        if path.suffix.lower() not in {".pdf", ".docx", ".txt", ".md", ".markdown", ".rst", ".html", ".htm",
                                       ".csv", ".tsv"}:
            continue  # inside a folder, unsupported types are not candidates at all
        assert str(path) in skipped, f"{path} was not skipped"
        assert reason.lower() in skipped[str(path)].lower()
    assert status.indexed >= len(good)
    assert_consistent(kb)


def test_office_files_the_app_cannot_read_are_listed_as_skipped_with_what_to_do(kb, tmp_path):
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "memo.md").write_text("# Memo\n\nThe walrus clause applies.\n")
    for name in ("budget.xlsx", "letter.doc", "deck.pptx", "mail.msg"):
        (folder / name).write_bytes(b"PK\x03\x04 not read")
    (folder / "tool.exe").write_bytes(b"MZ")  # not a document: passed over, as before
    kb.collections.add_source("office", folder)
    report = kb.index("office")
    skipped = {os.path.basename(p): reason for p, reason in report.skipped}
    assert report.indexed == 1 and set(skipped) == {"budget.xlsx", "letter.doc", "deck.pptx", "mail.msg"}
    assert skipped["budget.xlsx"] == ("This is a spreadsheet (.xlsx), which the app cannot read. "
                                      "Save each sheet as CSV to include it.")
    assert "Save it as DOCX or PDF" in skipped["letter.doc"] and "Export it as PDF" in skipped["deck.pptx"]
    assert "an e-mail" in skipped["mail.msg"]


def test_a_name_in_another_encoding_is_skipped_and_the_rest_indexed(kb, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "good.md").write_text("# Walrus\n\nThe walrus clause applies.\n")
    odd = os.fsdecode(bytes(folder) + b"/caf\xe9.md")  # Latin-1 bytes: not UTF-8
    with open(odd, "w") as fh:
        fh.write("# Cafe\n\nA cafe.\n")
    kb.collections.add_source("names", folder)
    report = kb.index("names")
    assert report.indexed == 1 and [p for p, _ in report.skipped] == [str(folder / "caf\ufffd.md")]
    assert "not valid text" in report.skipped[0][1] and "Rename" in report.skipped[0][1]
    again = kb.index("names")  # the same on every run: nothing removed, nothing re-read
    assert (again.unchanged, again.removed, len(again.skipped)) == (1, 0, 1)
    assert kb.search("walrus", ["names"], k=1)[0].path.endswith("good.md")
    with pytest.raises(UserFacingError, match="not valid text"):
        kb.collections.add_source("odd", odd)
    assert kb.collections.find("odd") is None  # a refused source leaves no empty collection


def test_a_missing_source_folder_keeps_its_files_until_it_is_back(kb, tmp_path):
    share = tmp_path / "share"
    write_corpus(share, files=3)
    (share / "empty.md").write_text("")  # skipped, so not among the files kept
    kb.collections.add_source("share", share)
    first = kb.index("share")
    chunks = first.chunks_total
    share.rename(tmp_path / "unplugged")
    away = kb.index("share")
    assert (away.files, away.removed, away.chunks_total) == (0, 0, chunks)
    assert away.skipped == [(str(share), away.skipped[0][1])] and "(3 files) is kept" in away.skipped[0][1]
    assert kb.collections.status("share").indexed == 3 and kb.search("the", ["share"], k=1)
    (tmp_path / "unplugged").rename(share)
    back = kb.index("share")
    assert (back.unchanged, back.indexed, back.chunks_added) == (3, 0, 0)  # nothing embedded again
    assert [p for p, _ in back.skipped] == [str(share / "empty.md")]
    # A file named on its own that is deleted is gone, as before.
    single = tmp_path / "single.md"
    single.write_text("# One\n\nA single file source.\n")
    kb.collections.add_source("single", single)
    kb.index("single")
    single.unlink()
    gone = kb.index("single")
    assert kb.collections.status("single").indexed == 0 and "does not exist" in gone.skipped[0][1]
    assert_consistent(kb)


def test_a_renamed_folder_added_again_replaces_the_old_one(kb, tmp_path):
    old = tmp_path / "Clients 2025"
    write_corpus(old, files=3)
    kb.collections.add_source("office", old)
    first = kb.index("office")
    new = old.rename(tmp_path / "Clients")
    kb.collections.add_source("office", new)
    moved = kb.index("office")
    # The old folder's files were all found under the new name: cited and counted once, at the
    # new paths, and the old folder is no longer listed as "not there".
    assert moved.relocated == [str(old)] and moved.moved == 3 and moved.chunks_added == 0
    assert [p for p, _ in moved.skipped] == []
    status = kb.collections.status("office")
    assert status.sources == [str(new)] and status.files == 3 and status.chunks == first.chunks_total
    assert all(h.path.startswith(str(new)) for h in kb.search("the", ["office"], k=10))
    assert_consistent(kb)

    # Only part of a missing folder found elsewhere (a copy of one file): the drive may come back.
    share = tmp_path / "share"
    files = write_corpus(share, files=2, seed=7)
    kb.collections.add_source("office", share)
    kb.index("office")
    (new / "copy.md").write_bytes(files[0].read_bytes())
    share.rename(tmp_path / "unplugged")
    away = kb.index("office")
    assert away.relocated == [] and [p for p, _ in away.skipped] == [str(share)]
    assert str(share) in kb.collections.status("office").sources


def test_a_pdf_with_scanned_pages_is_indexed_and_says_which_pages_cannot_be_searched(kb, tmp_path):
    from tests.knowledge.corpus import DRAWING_ONLY, pdf_bytes, text_content

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "mostly-scanned.pdf").write_bytes(
        pdf_bytes(contents=[text_content(["The lease starts on 1 May."]), DRAWING_ONLY, DRAWING_ONLY]))
    (folder / "plain.md").write_text("# Plain\n\nAll of it is text.\n")
    kb.collections.add_source("scans", folder)
    report = kb.index("scans")
    note = "Indexed, but pages 2, 3: no text (scanned?). Those pages cannot be searched."
    assert report.indexed == 2 and report.skipped == []
    assert report.partial == [(str(folder / "mostly-scanned.pdf"), note)]
    status = kb.collections.status("scans")
    assert status.partial == report.partial and status.skipped == [] and status.indexed == 2
    (folder / "mostly-scanned.pdf").rename(folder / "moved.pdf")  # not parsed again, the note kept
    moved = kb.index("scans")
    assert moved.reused == 1 and kb.collections.status("scans").partial == [(str(folder / "moved.pdf"), note)]


def test_linked_folders_are_read_once_and_office_folders_named_like_build_output_are_read(tmp_path):
    from assistant.knowledge.discovery import discover

    root = tmp_path / "matters"
    for folder in ("Target", "target", "build", "app/build", "app/src", "elsewhere/clients"):
        (root / folder).mkdir(parents=True)
        (root / folder / "note.md").write_text("# Note\n")
    (root / "app" / "package.json").write_text("{}")  # a project: its build folder is output
    (root / "linked").symlink_to(root / "elsewhere" / "clients")  # a folder linked from another place
    (root / "app" / "src" / "up").symlink_to(root)  # a link back up: must not loop
    (root / "everything").symlink_to("/")  # a link above the folder chosen: not walked
    found = [p.relative_to(root).as_posix() for p in discover([root], {".md"})]
    linked = [p for p in found if p in ("elsewhere/clients/note.md", "linked/note.md")]
    assert len(linked) == 1  # one folder, two ways to it: read once
    assert [p for p in found if p not in linked] == ["Target/note.md", "app/src/note.md", "build/note.md",
                                                     "target/note.md"]
    # The linked folder on its own is read through its link.
    assert [p.name for p in discover([root / "linked"], {".md"})] == ["note.md"]


def test_office_owner_files_of_open_documents_are_left_out(tmp_path):
    from assistant.knowledge.discovery import discover

    (tmp_path / "contract.docx").write_bytes(b"PK")
    (tmp_path / "~$contract.docx").write_bytes(b"\x0bJane Doe" + b"\x00" * 150)  # Word has it open
    (tmp_path / "~$dget.xlsx").write_bytes(b"\x00" * 162)
    (tmp_path / "~notes.md").write_text("# A user's own file named with a tilde\n")
    assert [p.name for p in discover([tmp_path], {".docx", ".xlsx", ".md"})] == ["contract.docx", "~notes.md"]


def test_copies_in_one_run_are_counted_as_duplicates(kb, tmp_path):
    folder = tmp_path / "copies"
    folder.mkdir()
    text = "# Lease\n\nThe rent is due on the first day of the month.\n"
    for name in ("a.md", "b.md", "c.md"):
        (folder / name).write_text(text)
    kb.collections.add_source("copies", folder)
    report = kb.index("copies")
    assert (report.indexed, report.reused, report.chunks_added) == (1, 2, 1)
    assert kb.collections.status("copies").indexed == 3
    assert_consistent(kb)


def test_collection_names_are_checked_whoever_creates_them(kb, tmp_path):
    (tmp_path / "f.md").write_text("# F\n\nText.\n")
    kb.collections.add_source("Contracts", tmp_path / "f.md")
    kb.collections.add_source("contracts", tmp_path / "f.md")  # the same collection, typed in lower case
    assert [r["name"] for r in kb.collections.list()] == ["Contracts"]
    for bad, why in (("  ", "needs a name"), ("x" * 81, "at most 80"), ("CONTRACTS", "already exists")):
        with pytest.raises(UserFacingError, match=why):
            kb.collections.create(bad)
    kb.collections.create("Leases")
    with pytest.raises(UserFacingError, match="already exists"):
        kb.collections.rename("Leases", "contracts")
    with pytest.raises(UserFacingError, match="needs a name"):
        kb.collections.rename("Leases", "   ")
    kb.collections.rename("Leases", "LEASES")  # its own name in other case is fine
    assert {r["name"] for r in kb.collections.list()} == {"Contracts", "LEASES"}
    # Answers that drew on a collection name it the new way, so a reopened conversation keeps it.
    store = kb.core.conversations
    conversation = store.create()
    drew = store.add_message(conversation, "assistant", "It is [1].", details={"collections": ["leases", "Contracts"]})
    other = store.add_message(conversation, "assistant", "No.", details={"collections": ["Contracts"], "k": 1})
    plain = store.add_message(conversation, "assistant", "Hello.")
    kb.collections.rename("LEASES", "Tenancies")
    assert store.message(drew).details == {"collections": ["Tenancies", "Contracts"]}
    assert store.message(other).details == {"collections": ["Contracts"], "k": 1}
    assert store.message(plain).details == {}
    with pytest.raises(UserFacingError, match="does not exist"):
        kb.collections.add_source("Never", tmp_path / "missing")
    assert kb.collections.find("Never") is None


def _index_cmd(folder):
    return [sys.executable, "-m", "assistant.cli", "index", str(folder), "--collection", "big"]


def test_kill_during_indexing_then_resume_equals_a_clean_run(core, tmp_path, app_paths):
    folder = tmp_path / "big"
    write_corpus(folder, files=60, paragraphs=12, seed=5)
    rng = random.Random(11)
    db_path = app_paths.database
    kill_points = []
    for _attempt in range(5):
        proc = subprocess.Popen(_index_cmd(folder), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Kill at a different moment each time: once some documents are committed, or mid-embedding.
        target = rng.randint(1, 50)
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done = sqlite3.connect(db_path).execute(
                    "select count(*) from documents where status = 'indexed'").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            if done >= target:
                break
            time.sleep(0.05)
        time.sleep(rng.random() * 0.3)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kill_points.append(done)
    assert len(kill_points) >= 5, f"indexing finished before it could be killed: {kill_points}"
    # The collection knows its run was cut off (the window resumes such runs at its next start).
    assert KnowledgeBase(core).collections.interrupted() == ["big"]

    resumed = subprocess.run(_index_cmd(folder), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    kb = KnowledgeBase(core)
    assert_consistent(kb)
    assert kb.collections.interrupted() == []
    after_kills = snapshot(kb)

    # A clean, uninterrupted run in a fresh home over the same files.
    clean_home = tmp_path / "clean-home"
    env = {**os.environ, "ASSISTANT_HOME": str(clean_home)}
    from assistant.config import Paths
    from assistant.core import Core

    with Core(Paths(clean_home / "data", clean_home / "config", clean_home / "cache", clean_home / "logs"),
              engine=core.engine) as clean_core:
        for model in core.registry.all():
            clean_core.registry.register(model)
    clean = subprocess.run(_index_cmd(folder), capture_output=True, text=True, timeout=600, env=env)
    assert clean.returncode == 0, clean.stderr
    with Core(Paths(clean_home / "data", clean_home / "config", clean_home / "cache", clean_home / "logs"),
              engine=core.engine) as clean_core:
        clean_kb = KnowledgeBase(clean_core)
        assert snapshot(clean_kb) == after_kills
        assert len(after_kills["chunks"]) > 60


def test_a_run_the_app_stops_while_closing_is_resumable_and_one_the_user_stops_is_not(kb, tmp_path):
    folder = tmp_path / "docs"
    write_corpus(folder, files=3)
    kb.collections.add_source("docs", folder)
    closing = kb.index("docs", cancelled=lambda: True, resume_later=lambda: True)
    assert closing.cancelled and kb.collections.interrupted() == ["docs"]
    assert kb.collections.status("docs").interrupted
    by_user = kb.index("docs", cancelled=lambda: True)
    assert by_user.cancelled and kb.collections.interrupted() == []
    kb.index("docs", cancelled=lambda: True, resume_later=lambda: True)
    done = kb.index("docs")
    assert not done.cancelled and done.files == 3 and kb.collections.interrupted() == []


def test_a_stopped_reindex_stays_marked_unfinished_until_a_complete_run(kb, core, tmp_path):
    folder = tmp_path / "docs"
    write_corpus(folder, files=3)
    kb.collections.add_source("docs", folder)
    assert not kb.collections.status("docs").unfinished  # nothing indexed, nothing claimed
    kb.index("docs")
    assert not kb.collections.status("docs").unfinished
    write_corpus(tmp_path / "docs" / "more", files=2, seed=2)
    assert kb.index("docs", cancelled=lambda: True).cancelled
    # After the restart the last complete run's date is all there is: the mark must outlive it.
    again = KnowledgeBase(core)
    status = again.collections.status("docs")
    assert status.unfinished and status.last_indexed_at is not None and not status.interrupted
    from assistant.cli_status import status_notes

    assert status_notes(status) == ["the last run stopped before the end: run `assistant collections reindex docs` "
                                    "for the rest"]
    assert not again.index("docs").cancelled
    assert not again.collections.status("docs").unfinished


def test_files_an_older_parser_read_are_read_again_once_and_shared_copies_follow(kb, tmp_path, monkeypatch):
    from assistant.knowledge import collections as collections_module
    from assistant.knowledge import indexer as indexer_module

    folder = tmp_path / "docs"
    files = write_corpus(folder, files=4)
    copy = tmp_path / "copy" / files[0].name
    copy.parent.mkdir()
    copy.write_bytes(files[0].read_bytes())
    kb.collections.add_source("docs", folder)
    kb.collections.add_source("other", copy.parent)
    current = indexer_module.CHUNKER_VERSION
    for module in (indexer_module, collections_module):
        monkeypatch.setattr(module, "CHUNKER_VERSION", current - 1)
    kb.index("docs")
    kb.index("other")
    old_ids = {r[0] for r in kb.db.execute("select id from chunks")}
    monkeypatch.undo()  # the app is updated: its parsers read some files differently now

    assert kb.collections.status("docs").outdated == 4
    assert kb.collections.status("other").outdated == 1
    # Stopped while the re-read files are embedded (as when their texts changed, so no vector is
    # taken over): their new rows are written, not committed.
    with monkeypatch.context() as changed:
        changed.setattr(kb.indexer, "_vectors_of_same_text", lambda rows: {})
        calls = []
        stopped = kb.index("docs", cancelled=lambda: calls.append(1) or len(calls) > 4)
    assert stopped.cancelled and stopped.indexed == 0
    assert_consistent(kb)
    assert kb.collections.status("docs").outdated == 4
    old_vectors = kb.vectors().get(sorted(old_ids))
    encoded: list[str] = []
    encode = kb.embedder().encode
    monkeypatch.setattr(kb.embedder(), "encode", lambda texts, **kw: encoded.extend(texts) or encode(texts, **kw))
    report = kb.index("docs")
    assert (report.indexed, report.unchanged) == (4, 0)
    assert_consistent(kb)
    new_ids = {r[0] for r in kb.db.execute("select id from chunks")}
    assert not new_ids & old_ids and all(f"-{current}-" in i for i in new_ids)
    # The texts did not change, so their vectors were taken over, not embedded again.
    assert encoded == []
    renamed = {i: i.replace(f"-{current}-", f"-{current - 1}-") for i in new_ids}
    new_vectors = kb.vectors().get(sorted(new_ids))
    assert set(new_vectors) == new_ids
    assert all(np.allclose(new_vectors[i], old_vectors[renamed[i]], atol=1e-6) for i in new_ids)
    # The other collection's copy has the same bytes, so it already has the new chunks.
    assert kb.collections.status("other").outdated == 0
    assert kb.index("other").unchanged == 1
    again = kb.index("docs")
    assert (again.indexed, again.unchanged, again.chunks_added) == (0, 4, 0)
    assert_consistent(kb)
    hits = kb.search("tenant notice", ["docs"], k=20)
    assert hits and len({h.chunk_id for h in hits}) == len(hits)


def test_a_run_waiting_for_another_runs_lock_says_so_and_can_be_cancelled(kb, tmp_path):
    import fcntl

    folder = tmp_path / "docs"
    write_corpus(folder, files=2)
    kb.collections.add_source("docs", folder)
    phases = []
    with open(kb.indexer.lock_path, "a+") as other_run:  # another process's run holds the lock
        fcntl.flock(other_run, fcntl.LOCK_EX)
        report = kb.index("docs", progress=lambda p: phases.append(p.phase),
                          cancelled=lambda: "waiting" in phases)
    assert report.cancelled and phases[0] == "waiting" and "scanning" not in phases
    status = kb.collections.status("docs")
    assert status.files == 0 and not status.interrupted and not status.unfinished  # it never began
    assert kb.index("docs").indexed == 2


def test_a_collection_another_run_is_indexing_cannot_be_removed_under_it(kb, tmp_path):
    import fcntl

    folder = tmp_path / "docs"
    write_corpus(folder, files=1)
    kb.collections.add_source("docs", folder)
    kb.index("docs")
    row = kb.collections.get("docs")
    kb.db["collections"].update(row["id"], {"index_started_at": "2026-11-25T10:00:00+00:00"})  # as a run marks it
    with open(kb.indexer.lock_path, "a+") as other_run:  # ... and holds the lock while it goes on
        fcntl.flock(other_run, fcntl.LOCK_EX)
        with pytest.raises(UserFacingError, match="is being indexed right now") as refused:
            kb.collections.remove("docs", kb.indexer.lock_path)
        assert "Stop that run" in refused.value.hint
    assert kb.collections.get("docs")["name"] == "docs"
    # A run killed earlier leaves the mark, and a run of another collection holds the lock: it can go.
    from assistant.knowledge.collections import lock_owner
    from assistant.knowledge.index_lock import exclusive

    with exclusive(kb.indexer.lock_path, owner=lock_owner(row["id"] + 1)):
        kb.collections.remove("docs", kb.indexer.lock_path)
    assert kb.collections.find("docs") is None
    assert kb.indexer.lock_path.read_text() == ""  # the owner goes with the lock
