"""Model work run on a background thread: download, import (and locating a moved import), speed measurement.

Each job gets a JobContext instead of the app's Core: the same paths, a copy
of the settings taken when the job was asked for, and the worker thread's own
database connection. A download writes its `downloads` row at every step and
an import registers a model; on the UI's shared connection those writes would
interleave with the UI's own transactions. JobContext has the attributes the
core functions read from a Core (paths, db, registry, settings, engine,
chat_models), so they run unchanged.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from assistant.config import Paths, Settings
from assistant.errors import UserFacingError
from assistant.models.catalog import CatalogEntry
from assistant.models.download import DownloadCancelled, download_model
from assistant.models.download_store import record_state
from assistant.models.manage import ImportCancelled, import_model
from assistant.models.registry import InstalledModel, ModelRegistry
from assistant.models.relocate import relocate_model
from assistant.models.speed import MeasurementCancelled, measure_model
from assistant.store.model_speed import SpeedMeasurement

log = logging.getLogger("assistant.models.jobs")

Report = Callable[[object], None]

CLOSED_DURING_DOWNLOAD = ("The app was closed during the download. The part already received is kept; "
                          "choose Resume to continue.")


@dataclass
class JobContext:
    paths: Paths
    db: sqlite_utils.Database
    settings: Settings
    closing: threading.Event = field(default_factory=threading.Event)  # the app is shutting down
    engine: None = None  # a measurement then runs in its own engine child, never the chat's

    @property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.db)

    def chat_models(self) -> list[InstalledModel]:
        return self.registry.all("chat")


def run_download(ctx: JobContext, report: Report, cancel: threading.Event, *,
                 entry: CatalogEntry) -> InstalledModel:
    try:
        return download_model(entry, ctx.paths, ctx.registry, ctx.db, progress=report, cancel=cancel)
    except DownloadCancelled as exc:
        if ctx.closing.is_set():
            # Closing the app is not the user stopping the download: mark it pending, so the
            # next start offers to resume it.
            record_state(ctx.db, entry.name, "pending", error=CLOSED_DURING_DOWNLOAD, bytes_done=exc.bytes_kept)
        raise


@dataclass
class ImportProgress:
    path: str
    bytes_done: int
    bytes_total: int


def run_import(ctx: JobContext, report: Report, cancel: threading.Event, *, path: Path) -> InstalledModel:
    return import_model(ctx, path, cancel=cancel,
                        progress=lambda done, total: report(ImportProgress(str(path), done, total)))


def run_locate(ctx: JobContext, report: Report, cancel: threading.Event, *, name: str,
               path: Path) -> InstalledModel:
    return relocate_model(ctx, name, path, cancel=cancel,
                          progress=lambda done, total: report(ImportProgress(str(path), done, total)))


def run_bench(ctx: JobContext, report: Report, cancel: threading.Event, *, name: str,
              **options) -> SpeedMeasurement:
    return measure_model(ctx, name, progress=report, cancel=cancel, **options)


CANCELLED = (DownloadCancelled, ImportCancelled, MeasurementCancelled)

_VERBS = {"download": "downloading", "import": "importing", "bench": "measuring"}


def describe_job_error(kind: str, what: str, exc: BaseException) -> str:
    """The sentence a failed job shows; anything not foreseen is logged with its traceback."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        kept = " The part already received is kept; free some space and choose Resume." if kind == "download" else ""
        return f"The disk filled up while {_VERBS.get(kind, kind)} {what}.{kept}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{_VERBS.get(kind, kind).capitalize()} {what} failed: {exc.strerror or exc}{where}."
    log.error("%s of %s failed", kind, what, exc_info=exc)
    return (f"Something went wrong while {_VERBS.get(kind, kind)} {what}; the details are in the log. "
            "The app is still running.")
