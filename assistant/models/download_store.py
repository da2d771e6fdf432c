"""The `downloads` table: what was being downloaded, so a killed app can pick it up again.

A row is written before the first byte and updated at each change of state.
"pending" means started and not finished: in flight, or cut off by a killed app
or a dropped connection; the next start resumes those. "cancelled" and
"failed" wait for the user to start them again.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import sqlite_utils

from assistant.models.catalog import CatalogEntry
from assistant.store.timeutil import now_iso

TABLE = "downloads"


def pending_downloads(db: sqlite_utils.Database) -> list[dict]:
    """Downloads started and not finished (oldest first): what the next start should resume."""
    return list(db[TABLE].rows_where("state = ?", ["pending"], order_by="started_at"))


def get_download(db: sqlite_utils.Database, name: str) -> dict | None:
    try:
        return db[TABLE].get(name)
    except sqlite_utils.db.NotFoundError:
        return None


def record_started(db: sqlite_utils.Database, entry: CatalogEntry, partial: Path, revision: str) -> None:
    """Mark the download pending, keeping what an earlier attempt learnt (the fingerprint of its bytes)."""
    row = {
        "name": entry.name, "display_name": entry.display_name, "repo_id": entry.repo_id,
        "revision": revision, "filename": entry.filename, "partial_path": str(partial),
        "state": "pending", "error": None, "entry": json.dumps(dataclasses.asdict(entry)),
        "updated_at": now_iso(),
    }
    if get_download(db, entry.name) is None:
        row["started_at"] = row["updated_at"]
        db[TABLE].insert(row, pk="name")
    else:
        db[TABLE].update(entry.name, row)


def record_expected(db: sqlite_utils.Database, name: str, size: int | None, sha256: str) -> None:
    db[TABLE].update(name, {"expected_size": size, "expected_sha256": sha256, "updated_at": now_iso()})


def record_state(db: sqlite_utils.Database, name: str, state: str, *, error: str | None = None,
                 bytes_done: int | None = None) -> None:
    changes: dict = {"state": state, "error": error, "updated_at": now_iso()}
    if bytes_done is not None:
        changes["bytes_done"] = bytes_done
    if get_download(db, name) is not None:
        db[TABLE].update(name, changes)


def entry_of(row: dict) -> CatalogEntry:
    """The catalog entry a download was started from, as it was then.

    Fields this version of the app does not know (written by another version) are dropped.
    """
    known = {f.name for f in dataclasses.fields(CatalogEntry)}
    return CatalogEntry(**{k: v for k, v in json.loads(row["entry"]).items() if k in known})
