"""Model downloads, each a real transfer from a fake hub on 127.0.0.1 serving the SmolLM2 starter GGUF."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant import offline
from assistant.models import disk, download_transfer
from assistant.models.catalog import CatalogEntry
from assistant.models.download import (
    DownloadCancelled,
    DownloadError,
    DownloadInterrupted,
    HashMismatch,
    NetworkForbidden,
    NotEnoughDiskSpace,
    NotOnHub,
    download_model,
    pending_downloads,
    resume_pending,
)
from assistant.models.download_store import get_download
from assistant.models.registry import ModelRegistry, sha256_file
from assistant.models.starter import load_starters, package_files
from assistant.store.db import open_database
from tests.conftest import SMOL
from tests.models.hub_server import FakeHub

REPO = "fake-org/SmolLM2-135M-Instruct-GGUF"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def smol_source():
    """The starter GGUF inside its package, and its pinned SHA-256: what the fake hub serves."""
    starter = next(s for s in load_starters() if s.name == SMOL)
    (path,) = package_files(starter)
    return starter, path


@pytest.fixture
def hub(smol_source, monkeypatch):
    starter, path = smol_source
    server = FakeHub()
    server.add(REPO, starter.filename, path, starter.sha256)
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    # Retries stay real, only their waits are short.
    monkeypatch.setattr(download_transfer, "RETRY_DELAYS", (0.05, 0.05, 0.05))
    yield server
    server.stop()


@pytest.fixture
def store(app_paths):
    db = open_database(app_paths.database)
    yield app_paths, ModelRegistry(db), db
    db.conn.close()


def make_entry(starter, **changes) -> CatalogEntry:
    entry = CatalogEntry(
        name="smol-download", kind="chat", display_name="SmolLM2 135M (downloaded)", family="smollm2",
        repo_id=REPO, filename=starter.filename, quantization=None, size_bytes=starter.size_bytes, sha256=None,
        parameters=None, context_length=None, license="apache-2.0", description="")
    return dataclasses.replace(entry, **changes)


def download_in_thread(entry: CatalogEntry, store) -> tuple[threading.Thread, list, list, threading.Event]:
    """Start downloading `entry` on a thread: (the thread, its progress events, the DownloadError it
    ended with if any, its cancel)."""
    paths, registry, db = store
    events, outcome, cancel = [], [], threading.Event()

    def run():
        try:
            download_model(entry, paths, registry, db, progress=events.append, cancel=cancel)
        except DownloadError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    return worker, events, outcome, cancel


def wait_for(condition, timeout=60.0, what="condition"):
    """Poll until `condition()` is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def models_folder_files(paths) -> list[str]:
    return sorted(p.name for p in paths.models.iterdir() if p.is_file())


def test_a_clean_download_is_verified_registered_and_the_app_is_offline_again(hub, store, smol_source):
    from huggingface_hub import constants

    starter, _ = smol_source
    paths, registry, db = store
    events, network = [], []
    offline.add_network_listener(network.append)
    try:
        model = download_model(make_entry(starter), paths, registry, db, progress=events.append)
    finally:
        offline.remove_network_listener(network.append)

    assert model.path == paths.models / starter.filename and model.source == "download"
    assert sha256_file(model.path) == starter.sha256 == model.sha256
    assert registry.get("smol-download") == model
    assert model.architecture == "llama" and model.has_chat_template is True
    assert model.parameters > 100_000_000 and model.context_length and model.quantization
    phases = [e.phase for e in events]
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p] == [
        "checking", "downloading", "verifying", "installing", "done"]
    downloaded = [e.bytes_done for e in events if e.phase == "downloading"]
    assert downloaded == sorted(downloaded) and downloaded[-1] == starter.size_bytes
    assert {e.bytes_total for e in events if e.phase == "downloading"} == {starter.size_bytes}
    # The network was allowed for exactly this download, and the hub library is offline again.
    assert network == [["download of SmolLM2 135M (downloaded)"], []]
    assert constants.HF_HUB_OFFLINE is True and offline.network_operations() == []
    # The real hub's shape: HEAD on /resolve/ redirected to a CDN, one whole-file GET there.
    assert [(r.method, r.status) for r in hub.log if "/resolve/" in r.path] == [("HEAD", 302)]
    assert [(r.path.startswith("/cdn/"), r.range_start) for r in hub.gets()] == [(True, None)]
    assert models_folder_files(paths) == [starter.filename]
    assert not list((paths.models / ".partial").iterdir())
    assert get_download(db, "smol-download")["state"] == "done" and pending_downloads(db) == []

    requests = len(hub.log)  # asked again: already installed, so no network at all
    assert download_model(make_entry(starter), paths, registry, db) == registry.get("smol-download")
    assert len(hub.log) == requests
    stopped = threading.Event()
    stopped.set()  # a cancel while that copy is hashed again is not a cancelled download
    with pytest.raises(DownloadCancelled, match="check of .* was stopped. The installed copy was not changed"):
        download_model(make_entry(starter), paths, registry, db, cancel=stopped)
    assert registry.get("smol-download").sha256 == model.sha256 and get_download(db, "smol-download")["state"] == "done"

    # A byte of the file damaged on disk: downloading it again fetches it again and repairs it.
    with model.path.open("r+b") as fh:
        fh.seek(5_000_000)
        byte = fh.read(1)
        fh.seek(5_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert sha256_file(model.path) != starter.sha256
    repaired = download_model(make_entry(starter), paths, registry, db)
    assert len(hub.gets()) == 2 and sha256_file(repaired.path) == starter.sha256 == repaired.sha256


def test_a_dropped_connection_is_resumed_from_the_bytes_received(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    hub.drop_at, hub.drops = 30_000_000, 1

    model = download_model(make_entry(starter), paths, registry, db)

    assert [r.range_start for r in hub.gets()] == [None, 30_000_000]  # continued, not started over
    assert sha256_file(model.path) == starter.sha256
    assert registry.get(model.name) is not None


def test_a_connection_that_keeps_dropping_keeps_the_partial_and_the_next_start_resumes_it(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    hub.drop_at, hub.drops = 40_000_000, 100

    with pytest.raises(DownloadInterrupted, match="connection dropped.*are kept") as caught:
        download_model(make_entry(starter), paths, registry, db)

    assert caught.value.bytes_kept == 40_000_000
    assert registry.get("smol-download") is None
    assert models_folder_files(paths) == []  # the partial file is only under .partial/
    assert (paths.models / ".partial" / f"{starter.filename}.part").stat().st_size == 40_000_000
    (row,) = pending_downloads(db)
    assert row["name"] == "smol-download" and row["expected_sha256"] == starter.sha256 and "dropped" in row["error"]

    hub.drops = 0  # the line is back
    (model,) = resume_pending(paths, registry, db)

    assert hub.gets()[-1].range_start == 40_000_000
    assert sha256_file(model.path) == starter.sha256 and pending_downloads(db) == []


def test_a_hub_that_keeps_answering_with_an_error_says_so_and_a_later_try_installs(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    hub.failing_status = 503

    with pytest.raises(DownloadInterrupted) as caught:
        download_model(make_entry(starter), paths, registry, db)

    message = str(caught.value)
    assert "The model hub kept failing" in message and "HTTP 503" in message, message
    assert "Nothing was received yet. Try again later." in message and "connection dropped" not in message
    assert caught.value.bytes_kept == 0 and registry.get("smol-download") is None

    hub.failing_status = None
    (model,) = resume_pending(paths, registry, db)
    assert sha256_file(model.path) == starter.sha256


def test_a_web_page_served_instead_of_the_model_is_named_as_such(hub, store, smol_source, tmp_path):
    starter, _ = smol_source
    paths, registry, db = store
    page = tmp_path / "signin.html"
    page.write_text("<!DOCTYPE html>\n<html><body><form>Sign in to use this Wi-Fi</form></body></html>\n" * 50)
    hub.add(REPO, starter.filename, page, "0" * 64)  # a captive portal answers every URL with its page
    hub.advertised_sha = starter.sha256

    with pytest.raises(DownloadError, match="A web page came instead of the file") as caught:
        download_model(make_entry(starter), paths, registry, db)

    assert "sign in" in str(caught.value) and not isinstance(caught.value, HashMismatch)
    assert registry.get("smol-download") is None and models_folder_files(paths) == []


def test_bytes_sent_past_the_announced_size_are_not_kept_and_the_file_installs(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    hub.extra_bytes = 5000  # a server (or proxy) that pads the body after the file's last byte
    hub.drop_at, hub.drops = 30_000_000, 1  # and on the resumed request too

    model = download_model(make_entry(starter), paths, registry, db)

    assert [r.range_start for r in hub.gets()] == [None, 30_000_000]
    assert model.size_bytes == starter.size_bytes and sha256_file(model.path) == starter.sha256
    assert get_download(db, "smol-download")["state"] == "done"


def test_a_file_with_the_wrong_hash_is_deleted_and_not_registered(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    hub.corrupt_at = 50_000_000  # one byte flipped in transit; the hub still announces the true SHA-256

    with pytest.raises(HashMismatch, match="SHA-256 fingerprint.*The file was deleted and nothing was installed"):
        download_model(make_entry(starter), paths, registry, db)

    assert registry.get("smol-download") is None
    assert models_folder_files(paths) == [] and not list((paths.models / ".partial").iterdir())
    row = get_download(db, "smol-download")
    assert row["state"] == "failed" and "deleted" in row["error"] and pending_downloads(db) == []


def test_a_hub_file_that_differs_from_the_catalog_pin_is_not_downloaded(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store

    with pytest.raises(DownloadError, match="not the one this app's catalog lists"):
        download_model(make_entry(starter, sha256="ab" * 32), paths, registry, db)

    assert hub.gets() == [] and registry.get("smol-download") is None


def test_a_file_not_on_the_hub_is_a_clear_error(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store

    with pytest.raises(NotOnHub, match=f"has no file missing.gguf in {REPO}"):
        download_model(make_entry(starter, filename="missing.gguf"), paths, registry, db)
    with pytest.raises(NotOnHub, match="the repository does not exist"):
        download_model(make_entry(starter, repo_id="nobody/nothing"), paths, registry, db)

    assert [r.status for r in hub.log] == [404, 404] and hub.gets() == []
    assert registry.get("smol-download") is None and get_download(db, "smol-download")["state"] == "failed"
    assert pending_downloads(db) == []


def test_too_little_disk_space_stops_before_the_first_byte(hub, store, smol_source, monkeypatch):
    starter, _ = smol_source
    paths, registry, db = store
    monkeypatch.setattr(disk, "free_bytes", lambda folder: 50_000_000)

    with pytest.raises(NotEnoughDiskSpace, match=r"it needs 367 MB .* only 50 MB is free") as caught:
        download_model(make_entry(starter), paths, registry, db)

    assert caught.value.needed == starter.size_bytes and caught.value.free == 50_000_000
    assert hub.gets() == [] and not list((paths.models / ".partial").iterdir())
    assert get_download(db, "smol-download")["state"] == "failed"


def test_a_cancelled_download_keeps_its_bytes_and_the_next_one_continues(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    # Unthrottled, loopback delivers the whole file between two progress events on a quiet
    # machine, and the cancel would land after the last byte.
    hub.bytes_per_s = 40_000_000
    cancel = threading.Event()

    def stop_at_20_mb(event):
        if event.phase == "downloading" and event.bytes_done >= 20_000_000:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="cancelled.*kept") as caught:
        download_model(make_entry(starter), paths, registry, db, progress=stop_at_20_mb, cancel=cancel)

    partial = paths.models / ".partial" / f"{starter.filename}.part"
    kept = partial.stat().st_size
    assert 20_000_000 <= kept < starter.size_bytes and caught.value.bytes_kept == kept
    assert registry.get("smol-download") is None and models_folder_files(paths) == []
    assert get_download(db, "smol-download")["state"] == "cancelled"
    assert pending_downloads(db) == []  # the user stopped it: the next start does not restart it on its own

    hub.bytes_per_s = None
    model = download_model(make_entry(starter), paths, registry, db)

    assert hub.gets()[-1].range_start == kept
    assert sha256_file(model.path) == starter.sha256 and get_download(db, "smol-download")["state"] == "done"


def test_a_slow_server_still_reports_progress_and_a_cancel_is_prompt(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    hub.bytes_per_s = 4_000_000
    worker, events, outcome, cancel = download_in_thread(make_entry(starter), store)
    measured = lambda: [e for e in list(events) if e.phase == "downloading" and e.speed_bps]  # noqa: E731
    wait_for(lambda: len(measured()) >= 5, what="progress events from the slow server")
    latest = measured()[-1]
    assert 1_000_000 < latest.speed_bps < 12_000_000  # follows the line's 4 MB/s, not loopback's speed
    assert latest.eta_s > 5  # about 98 MB at 4 MB/s is far from done
    asked = time.monotonic()
    cancel.set()
    worker.join(timeout=10)

    assert not worker.is_alive() and time.monotonic() - asked < 2.0
    assert isinstance(outcome[0], DownloadCancelled)
    assert registry.get("smol-download") is None


def test_a_cancel_while_the_hub_has_not_answered_ends_as_cancelled_not_as_unreachable(store, smol_source,
                                                                                      monkeypatch):
    starter, _ = smol_source
    paths, registry, db = store
    silent = socket.socket()  # accepts the connection, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.setattr(download_transfer.constants, "HF_HUB_ETAG_TIMEOUT", 1)
    worker, events, outcome, cancel = download_in_thread(make_entry(starter), store)
    wait_for(lambda: any(e.phase == "checking" for e in list(events)), what="the hub being asked")
    cancel.set()
    worker.join(timeout=30)
    silent.close()
    assert not worker.is_alive()
    assert isinstance(outcome[0], DownloadCancelled), outcome
    assert "cancelled" in str(outcome[0]) and "reached" not in str(outcome[0])
    assert get_download(db, "smol-download")["state"] == "cancelled"


KILLED_CHILD = """
import json, sys
from assistant.config import paths
from assistant.models.catalog import CatalogEntry
from assistant.models.download import download_model
from assistant.models.registry import ModelRegistry
from assistant.store.db import open_database

where = paths().ensure()
db = open_database(where.database)
download_model(CatalogEntry(**json.loads(sys.argv[1])), where, ModelRegistry(db), db)
"""


def _child_holding_25_mb(hub, paths, starter):
    """A download in another process that has received 25 MB and waits for the line to come back.

    Returns its catalog entry, its partial file and the process.
    """
    entry = make_entry(starter)
    partial = paths.models / ".partial" / f"{starter.filename}.part"
    hub.hold_at = 25_000_000
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, json.dumps(dataclasses.asdict(entry))],
                             cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(lambda: hub.held.is_set() and partial.exists() and partial.stat().st_size == 25_000_000
             or child.poll() is not None, what="the child to receive 25 MB")
    assert child.poll() is None, child.stdout.read().decode()
    return entry, partial, child


def test_a_killed_download_is_not_registered_and_resumes_in_the_next_run(hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    entry, partial, child = _child_holding_25_mb(hub, paths, starter)
    try:
        assert get_download(db, entry.name)["state"] == "pending"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        hub.release.set()

    assert child.returncode == -signal.SIGKILL
    assert registry.get(entry.name) is None and models_folder_files(paths) == []
    assert [row["name"] for row in pending_downloads(db)] == [entry.name]
    assert entry.name not in _models_list()  # the partial is never shown

    (model,) = resume_pending(paths, registry, db)

    assert hub.gets()[-1].range_start == 25_000_000
    assert sha256_file(model.path) == starter.sha256 and registry.get(entry.name) == model
    assert entry.name in _models_list()


def test_a_second_download_of_the_same_model_in_another_process_is_refused_and_the_first_finishes(
        hub, store, smol_source):
    starter, _ = smol_source
    paths, registry, db = store
    entry, partial, child = _child_holding_25_mb(hub, paths, starter)
    try:
        # Another window or command asks for the same model: it must not write into the child's partial file.
        with pytest.raises(DownloadError, match="already being downloaded"):
            download_model(entry, paths, registry, db)
        assert partial.stat().st_size == 25_000_000 and get_download(db, entry.name)["state"] == "pending"
    finally:
        hub.release.set()
        output = child.communicate(timeout=120)[0].decode()

    assert child.returncode == 0, output
    assert get_download(db, entry.name)["state"] == "done"
    assert sha256_file(registry.get(entry.name).path) == starter.sha256
    assert not list((paths.models / ".partial").iterdir())  # no partial and no lock file left behind
    assert download_model(entry, paths, registry, db) == registry.get(entry.name)  # the claim was released


def _models_list() -> str:
    listed = subprocess.run([sys.executable, "-m", "assistant.cli", "models", "list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_a_download_aimed_outside_the_machine_is_refused_by_the_network_guard(store, smol_source, monkeypatch):
    from huggingface_hub import constants

    starter, _ = smol_source
    paths, registry, db = store
    monkeypatch.setenv("HF_ENDPOINT", "http://192.0.2.1")  # TEST-NET-1: not this machine

    with pytest.raises(NetworkForbidden, match="refuse all network access"):
        download_model(make_entry(starter), paths, registry, db)

    assert any("192.0.2.1" in attempt for attempt in offline.take_attempts())  # the guard saw it (and forgets it)
    assert constants.HF_HUB_OFFLINE is True and registry.get("smol-download") is None
