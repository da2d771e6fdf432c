"""A disk that fills up halfway through a model download: a clear message, nothing half-installed, and
the download continues from the bytes kept once there is room again.

The free-space check before the first byte is tests/models/test_download.py::test_too_little_disk_space...;
these are the other case: the check passed, then another program took the space.
"""

from __future__ import annotations

import errno
import pathlib
import sqlite3
import threading

import pytest

from assistant.models import disk
from assistant.models.download import (
    DiskFullDuringDownload,
    download_model,
    pending_downloads,
    resume_pending,
)
from assistant.models.download_store import get_download
from assistant.models.registry import ModelRegistry, sha256_file
from assistant.store.db import open_database
from tests.conftest import _paths
from tests.models.test_download import make_entry, models_folder_files, wait_for
from tests.resilience.small_fs import mounted_tmpfs

HELD_AT = 20_000_000


def _store(home: pathlib.Path):
    paths = _paths(home)
    db = open_database(paths.database)
    return paths, ModelRegistry(db), db


def _assert_nothing_installed_and_the_store_intact(paths, registry, db, entry, error) -> None:
    kept = error.bytes_kept
    assert registry.get(entry.name) is None
    assert models_folder_files(paths) == []  # the partial file lives in .partial/, never listed as a model
    assert sqlite3.connect(paths.database).execute("pragma integrity_check").fetchone()[0] == "ok"
    row = get_download(db, entry.name)
    # Where the database shares the full disk the reason may not be written; the row is pending either way.
    assert row["state"] == "pending" and row["error"] in (None, f"{error}")
    assert [r["name"] for r in pending_downloads(db)] == [entry.name]  # the next start resumes it
    partial = paths.models / ".partial" / f"{entry.filename}.part"
    assert partial.stat().st_size == kept > 0


def test_a_disk_that_fills_up_mid_download_on_a_real_small_file_system(hub, smol_source, tmp_path, monkeypatch):
    starter, _ = smol_source
    # The pre-check's 256 MB margin would need a 360 MB tmpfs (in RAM) to pass; the margin is
    # not what is tested here, the write failing with ENOSPC is.
    monkeypatch.setattr(disk, "HEADROOM_BYTES", 1_000_000)
    with mounted_tmpfs(tmp_path / "small", 110) as small:
        paths, registry, db = _store(small.root / "home")
        entry = make_entry(starter)
        hub.hold_at = HELD_AT
        outcome: list[BaseException] = []

        def run():
            try:
                download_model(entry, paths, registry, db)
            except BaseException as exc:  # noqa: BLE001 - the test inspects whatever came out
                outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        wait_for(hub.held.is_set, what="the download to reach 20 MB")
        small.fill(leave=0)  # another program takes every free byte
        hub.release.set()
        worker.join(timeout=120)
        assert not worker.is_alive()

        (error,) = outcome
        assert isinstance(error, DiskFullDuringDownload), repr(error)
        assert "disk became full" in str(error) and "Free some space" in str(error)
        _assert_nothing_installed_and_the_store_intact(paths, registry, db, entry, error)
        assert error.bytes_kept >= HELD_AT

        small.free_up()
        (model,) = resume_pending(paths, registry, db)

        assert hub.gets()[-1].range_start == error.bytes_kept
        assert sha256_file(model.path) == starter.sha256 and registry.get(entry.name) == model
        assert get_download(db, entry.name)["state"] == "done" and pending_downloads(db) == []
        db.conn.close()


class _FullAfter:
    """A partial file whose disk has `room` bytes left: the write past it fails as the OS fails it."""

    def __init__(self, fh, room: int):
        self._fh, self.room = fh, room

    def write(self, data) -> int:
        if len(data) > self.room:
            self._fh.write(data[: self.room])
            self.room = 0
            self._fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


def test_an_injected_enospc_mid_download_keeps_the_bytes_and_resumes(hub, smol_source, tmp_path, monkeypatch):
    starter, _ = smol_source
    paths, registry, db = _store(tmp_path / "home")
    entry = make_entry(starter)
    room = 30_000_000
    real_open = pathlib.Path.open

    def open_on_a_full_disk(self, mode="r", *args, **kwargs):
        fh = real_open(self, mode, *args, **kwargs)
        return _FullAfter(fh, room) if self.suffix == ".part" and "b" in mode and mode != "rb" else fh

    monkeypatch.setattr(pathlib.Path, "open", open_on_a_full_disk)
    with pytest.raises(DiskFullDuringDownload, match="disk became full") as caught:
        download_model(entry, paths, registry, db)
    assert caught.value.bytes_kept == room
    _assert_nothing_installed_and_the_store_intact(paths, registry, db, entry, caught.value)
    assert get_download(db, entry.name)["error"] == str(caught.value)

    monkeypatch.setattr(pathlib.Path, "open", real_open)  # space freed
    (model,) = resume_pending(paths, registry, db)
    assert hub.gets()[-1].range_start == room
    assert sha256_file(model.path) == starter.sha256 and registry.get(entry.name) == model
    db.conn.close()

