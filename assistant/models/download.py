"""Downloading a catalog model from the hub: checked, resumable, verified, then installed.

The order is what makes it safe. The hub is asked for the file's size and
SHA-256 first; the disk is checked for room; a row in `downloads` records the
attempt; the bytes go to `models/.partial/<file>.part`, appended to whatever an
earlier attempt left there; only a file whose SHA-256 matches (the catalog's
pin, else the hub's LFS fingerprint) and whose GGUF header reads is moved into
`models/` (one rename) and registered. The network is allowed only inside
`offline.network_allowed_for`, for the length of the download.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from assistant import offline
from assistant.config import Paths
from assistant.errors import ModelUnavailable
from assistant.models import disk
from assistant.models.catalog import CatalogEntry
from assistant.models.download_errors import (
    DiskFullDuringDownload,
    DownloadCancelled,
    DownloadError,
    DownloadInterrupted,
    HashMismatch,
    HubUnreachable,
    NetworkForbidden,
    NotEnoughDiskSpace,
    NotOnHub,
)
from assistant.models.download_store import (
    entry_of,
    get_download,
    pending_downloads,
    record_expected,
    record_started,
    record_state,
)
from assistant.models.download_transfer import RemoteFile, describe_remote, fetch
from assistant.models.download_transfer import file_size as _size
from assistant.models.gguf_info import read_gguf_info
from assistant.models.registry import InstalledModel, ModelRegistry, sha256_file

log = logging.getLogger("assistant.download")

PARTIAL_FOLDER = ".partial"
REVISION = "main"
_EMIT_EVERY_S = 0.1  # a progress callback per network read would flood a UI for nothing
_SPEED_WINDOW_S = 5.0


@dataclass
class DownloadProgress:
    name: str
    bytes_done: int
    bytes_total: int | None
    speed_bps: float | None
    eta_s: float | None
    phase: str  # "checking" | "downloading" | "verifying" | "installing" | "done"


ProgressCallback = Callable[[DownloadProgress], None]


def download_model(entry: CatalogEntry, paths: Paths, registry: ModelRegistry, db: sqlite_utils.Database,
                   progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> InstalledModel:
    """Download, verify and register `entry`; continue from the bytes an earlier attempt left.

    Raises a DownloadError subclass with a sentence for the user. Nothing is
    registered unless the whole file matched its SHA-256.
    """
    cancel = cancel or threading.Event()
    emit = progress or (lambda _p: None)
    if not entry.downloadable:
        raise DownloadError(f"{entry.display_name} cannot be downloaded: the catalog gives no hub file for it.")
    with _claim(entry, paths):
        existing = registry.get(entry.name)
        if existing is not None and _still_intact(existing, entry, registry, emit, cancel):
            emit(DownloadProgress(entry.name, existing.size_bytes, existing.size_bytes, None, None, "done"))
            return existing
        partial = paths.models / PARTIAL_FOLDER / f"{entry.filename}.part"
        emit(DownloadProgress(entry.name, _size(partial), entry.size_bytes, None, None, "checking"))
        before = get_download(db, entry.name)
        if before is not None and before["state"] == "pending":
            _take_back_unregistered(paths.models / entry.filename, partial, registry)
        record_started(db, entry, partial, _revision(entry))
        try:
            with offline.network_allowed_for(f"download of {entry.display_name}"):
                expected, size = _transfer(entry, paths, db, partial, before, emit, cancel)
            model = _verify_and_install(entry, paths, registry, partial, expected, size, emit, cancel)
        except DownloadCancelled as exc:
            _record_stop(db, entry.name, "cancelled", error=str(exc), bytes_done=_size(partial))
            raise
        except (DownloadInterrupted, DiskFullDuringDownload) as exc:
            # Still wanted, only cut off: the next start resumes it.
            _record_stop(db, entry.name, "pending", error=str(exc), bytes_done=_size(partial))
            raise
        except DownloadError as exc:
            if cancel.is_set():  # e.g. a hub that never answered while Cancel was pressed: the cancel is what happened
                kept = _size(partial)
                _record_stop(db, entry.name, "cancelled", error=str(exc), bytes_done=kept)
                raise DownloadCancelled(entry.display_name, kept) from exc
            _record_stop(db, entry.name, "failed", error=str(exc), bytes_done=_size(partial))
            raise
        except BaseException as exc:
            # A bug, or the process being stopped: the row stays pending, the bytes stay on disk.
            _record_stop(db, entry.name, "pending", error=f"{type(exc).__name__}: {exc}", bytes_done=_size(partial))
            raise
        record_state(db, entry.name, "done", bytes_done=model.size_bytes)
        emit(DownloadProgress(entry.name, model.size_bytes, model.size_bytes, None, None, "done"))
        return model


def _record_stop(db: sqlite_utils.Database, name: str, state: str, **fields) -> None:
    """Record why a download stopped, unless the database cannot take the write.

    On a full disk the database shares the disk: its error must not replace the one
    that says what happened. The row then stays "pending", so the next start resumes.
    """
    try:
        record_state(db, name, state, **fields)
    except sqlite3.Error:
        log.warning("could not record that the download of %s is %s", name, state, exc_info=True)


def resume_pending(paths: Paths, registry: ModelRegistry, db: sqlite_utils.Database,
                   progress: ProgressCallback | None = None,
                   cancel: threading.Event | None = None) -> list[InstalledModel]:
    """Finish the downloads an earlier run left pending; the ones that fail again keep their error in the table.

    Call it only when the user agrees to go online (the app is offline by default).
    A cancel stops all of them.
    """
    installed = []
    for row in pending_downloads(db):
        try:
            installed.append(download_model(entry_of(row), paths, registry, db, progress, cancel))
        except DownloadCancelled:
            raise
        except DownloadError as exc:
            log.warning("resuming the download of %s failed: %s", row["name"], exc)
    return installed


def _transfer(entry: CatalogEntry, paths: Paths, db, partial: Path, before: dict | None,
              emit: ProgressCallback, cancel: threading.Event) -> tuple[str, int | None]:
    """Ask the hub, check the disk, fetch the bytes. Returns the SHA-256 to verify and the size."""
    def describe() -> RemoteFile:
        return describe_remote(entry.display_name, entry.repo_id, entry.filename, _revision(entry))

    remote = describe()
    expected = _expected_sha256(entry, remote)
    size = remote.size if remote.size is not None else entry.size_bytes
    if before is None or before.get("expected_sha256") != expected or (size is not None and _size(partial) > size):
        partial.unlink(missing_ok=True)  # bytes of another file (or of nobody's): they cannot be continued
    record_expected(db, entry.name, size, expected)
    if size is not None:
        _check_space(entry, paths.models, size - _size(partial))
    meter = _Meter(entry.name, size, "downloading", emit)
    fetch(remote, partial, display_name=entry.display_name, cancel=cancel, on_bytes=meter.update, refresh=describe)
    meter.update(_size(partial), final=True)
    return expected, size  # a file longer than announced fails the SHA-256 check next


def _revision(entry: CatalogEntry) -> str:
    """A catalog entry may pin a commit ("revision"); otherwise the hub's main branch."""
    return str(entry.extra.get("revision") or REVISION)


def _expected_sha256(entry: CatalogEntry, remote: RemoteFile) -> str:
    """The fingerprint the file must have: the catalog's pin, else the hub's LFS SHA-256."""
    pinned = entry.sha256.lower() if entry.sha256 else None
    if pinned and remote.sha256 and pinned != remote.sha256:
        raise DownloadError(
            f"The file offered by the hub for {entry.display_name} is not the one this app's catalog lists "
            f"(its SHA-256 is {remote.sha256[:12]}…, the catalog expects {pinned[:12]}…). Nothing was downloaded.",
            hint="The model was probably updated on the hub; a newer version of the app's catalog will list it.")
    if pinned or remote.sha256:
        return pinned or remote.sha256
    raise DownloadError(
        f"{entry.display_name} cannot be downloaded safely: neither the catalog nor the hub gives a SHA-256 "
        "fingerprint to check the file against. Nothing was downloaded.")


def _check_space(entry: CatalogEntry, folder: Path, remaining: int) -> None:
    free = disk.free_bytes(folder)
    if free < remaining + disk.HEADROOM_BYTES:
        raise NotEnoughDiskSpace(entry.display_name, remaining, free, disk.HEADROOM_BYTES, str(folder))


def _looks_like_a_web_page(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(1024).lstrip().lower()
    except OSError:
        return False
    return head.startswith((b"<!doctype html", b"<html")) or (head.startswith(b"<") and b"<html" in head)


def _verify_and_install(entry: CatalogEntry, paths: Paths, registry: ModelRegistry, partial: Path,
                        expected: str, size: int | None, emit: ProgressCallback,
                        cancel: threading.Event) -> InstalledModel:
    total = _size(partial)
    meter = _Meter(entry.name, total, "verifying", emit, speed=False)

    def hashed(done: int) -> None:
        if cancel.is_set():  # the bytes are all here: the next attempt only hashes them again
            raise DownloadCancelled(entry.display_name, total)
        meter.update(done)

    actual = sha256_file(partial, hashed)
    meter.update(total, final=True)
    if actual != expected:
        web_page = _looks_like_a_web_page(partial)
        partial.unlink(missing_ok=True)
        if web_page:
            raise DownloadError(
                f"A web page came instead of the file for {entry.display_name} (a network's sign-in page or a "
                "proxy's notice?). It was deleted and nothing was installed.",
                hint="If this network asks you to sign in, do so in a browser, then download again.")
        source = "the app's catalog lists" if entry.sha256 else "the hub publishes"
        raise HashMismatch(entry.display_name, expected, actual, source)
    emit(DownloadProgress(entry.name, total, total, None, None, "installing"))
    try:
        info = read_gguf_info(partial)
    except ModelUnavailable as exc:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"The file downloaded for {entry.display_name} is not a usable model ({exc.message}). "
                            "It was deleted and nothing was installed.") from exc
    target = paths.models / entry.filename
    _fsync(partial)
    os.replace(partial, target)  # same file system: the model appears whole or not at all
    _fsync(target.parent)
    model = InstalledModel(
        name=entry.name, kind=entry.kind, display_name=entry.display_name, path=target, size_bytes=total,
        sha256=actual, source="download", quantization=info.quantization or entry.quantization,
        parameters=info.parameters, context_length=info.context_length, architecture=info.architecture,
        has_chat_template=info.has_chat_template, repo_id=entry.repo_id, filename=entry.filename)
    registry.register(model)
    return model


def _take_back_unregistered(target: Path, partial: Path, registry: ModelRegistry) -> None:
    """A run killed between moving the file in and registering it left an unlisted model: check it again."""
    if partial.exists() or not target.is_file() or any(m.path == target for m in registry.all()):
        return
    os.replace(target, partial)


def _still_intact(model: InstalledModel, entry: CatalogEntry, registry: ModelRegistry,
                  emit: ProgressCallback, cancel: threading.Event) -> bool:
    """Installed already, as the catalog wants it, and the file still holds the bytes verified then:
    asking to download an installed model is how a damaged one is repaired, so it is hashed again."""
    if entry.sha256 and model.sha256 != entry.sha256.lower():
        return False
    try:
        registry.check(model)
    except ModelUnavailable:
        return False
    meter = _Meter(entry.name, model.size_bytes, "verifying", emit, speed=False)

    def hashed(done: int) -> None:
        if cancel.is_set():
            raise DownloadCancelled(entry.display_name, 0, installed_check=True)
        meter.update(done)

    intact = registry.verify(model, hashed)
    if not intact:
        log.warning("%s no longer matches its SHA-256: downloading it again", model.name)
    return intact


class _Meter:
    """Turns byte counts into throttled progress events with speed and time left."""

    def __init__(self, name: str, total: int | None, phase: str, emit: ProgressCallback, *, speed: bool = True):
        self.name, self.total, self.phase, self.emit, self.speed = name, total, phase, emit, speed
        self.samples: deque[tuple[float, int]] = deque()
        self.last_emit = 0.0

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        self.samples.append((now, done))
        # The speed is over the last few seconds, so ETA follows a line that slows down or recovers.
        while len(self.samples) > 2 and now - self.samples[1][0] > _SPEED_WINDOW_S:
            self.samples.popleft()
        if not final and now - self.last_emit < _EMIT_EVERY_S:
            return
        self.last_emit = now
        speed = eta = None
        first_t, first_done = self.samples[0]
        if self.speed and now - first_t > 0.2 and done > first_done:
            speed = (done - first_done) / (now - first_t)
            if self.total is not None:
                eta = max(self.total - done, 0) / speed
        self.emit(DownloadProgress(self.name, done, self.total, speed, eta, self.phase))


@contextmanager
def _claim(entry: CatalogEntry, paths: Paths) -> Iterator[None]:
    """One download per model file at a time, in this process or another (a second window, the CLI).

    Two would append to the same partial file, and the one that finished first would
    move it away under the other. An OS lock goes with the process, so a killed
    download leaves no claim behind; the lock file is removed when done.
    """
    folder = paths.models / PARTIAL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry.filename}.lock"
    while True:
        lock = path.open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise DownloadError(f"{entry.display_name} is already being downloaded.",
                                hint="Wait for that download to finish, or cancel it first.") from None
        if path.exists() and path.stat().st_ino == os.fstat(lock.fileno()).st_ino:
            break
        lock.close()  # the holder finished and removed the file we opened: claim the new one
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while still locked, so no one can claim the removed file
        lock.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "DiskFullDuringDownload", "DownloadCancelled", "DownloadError", "DownloadInterrupted", "DownloadProgress",
    "HashMismatch", "HubUnreachable", "NetworkForbidden", "NotEnoughDiskSpace", "NotOnHub", "download_model",
    "pending_downloads", "resume_pending",
]
