"""Collections: a named set of folders and files, and what indexing found in them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from assistant.errors import UserFacingError
from assistant.knowledge.chunker import CHUNKER_VERSION
from assistant.knowledge.index_lock import holder
from assistant.store.db import insert_row, transaction
from assistant.store.timeutil import now_iso

MAX_NAME = 80


@dataclass
class CollectionStatus:
    name: str
    sources: list[str]
    files: int
    indexed: int
    skipped: list[tuple[str, str]]  # (path, reason)
    chunks: int
    last_indexed_at: str | None
    interrupted: bool = False  # a run was under way when the app closed or was killed
    unfinished: bool = False  # the last run stopped early: some files may not be indexed yet
    outdated: int = 0  # indexed files read by an older version of the parsers or chunker
    partial: list[tuple[str, str]] = field(default_factory=list)  # (path, what of it could not be read)


class Collections:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def name_problem(self, name: str, *, current: str | None = None) -> str | None:
        """Why `name` cannot name a (new, or renamed from `current`) collection; None when it can.

        Names differing only in case are refused too: the picker would show both
        and the user could not tell them apart.
        """
        name = name.strip()
        if not name:
            return "A collection needs a name."
        if len(name) > MAX_NAME:
            return f"A collection name can have at most {MAX_NAME} characters."
        if any(not c.isprintable() for c in name):
            # A tab or line break (typed on the command line) would break the picker's one-line entries.
            return "A collection name must be one line without tabs or control characters."
        for row in self.list():
            if row["name"] != current and row["name"].casefold() == name.casefold():
                return f"A collection called {row['name']!r} already exists."
        return None

    def create(self, name: str, ignore_globs: list[str] | None = None) -> int:
        name = name.strip()
        problem = self.name_problem(name)
        if problem:
            raise UserFacingError(problem)
        stamp = now_iso()
        return insert_row(self.db, "collections", {"name": name, "created_at": stamp, "updated_at": stamp,
                                                   "ignore_globs": json.dumps(ignore_globs or [])})

    def find(self, name: str) -> dict | None:
        """The collection called `name`, or else the one whose name differs only in case (names are
        unique regardless of case, so "inc" finds "INC")."""
        rows = list(self.db["collections"].rows_where("name = ?", [name]))
        if not rows:
            rows = [r for r in self.list() if r["name"].casefold() == name.strip().casefold()]
        return rows[0] if rows else None

    def get(self, name: str) -> dict:
        row = self.find(name)
        if row is None:
            known = ", ".join(c["name"] for c in self.list()) or "none yet"
            raise UserFacingError(f"There is no collection called {name!r}.", hint=f"Collections: {known}.")
        return row

    def ensure(self, name: str) -> dict:
        return self.find(name) or self.db["collections"].get(self.create(name))

    def list(self) -> list[dict]:
        return list(self.db["collections"].rows_where(order_by="name"))

    def interrupted(self) -> list[str]:
        """Collections whose last indexing run was cut off by a closing or killed app."""
        return [r["name"] for r in self.db["collections"].rows_where("index_started_at is not null", order_by="name")]

    def rename(self, name: str, new_name: str) -> None:
        row = self.get(name)
        problem = self.name_problem(new_name, current=row["name"])
        if problem:
            raise UserFacingError(problem)
        new_name = new_name.strip()
        with transaction(self.db):
            self.db["collections"].update(row["id"], {"name": new_name, "updated_at": now_iso()})
            # Answers name the collections they drew on (as typed, in any case, by `ask`); Regenerate
            # and a reopened conversation use those names, so they follow the rename.
            self.db.execute(
                "update messages set details = json_set(details, '$.collections', json((select json_group_array("
                "case when lower(value) = lower(:old) then :new else value end) from json_each(messages.details, '$.collections')))) "
                "where json_valid(details) and exists "
                "(select 1 from json_each(messages.details, '$.collections') where lower(value) = lower(:old))",
                {"old": row["name"], "new": new_name})

    def remove(self, name: str, lock_path: Path | None = None) -> None:
        """Forget the collection; its now-unreferenced chunks go at the next garbage collection.
        Given the index lock, refused while a run (of another process: a window, a command) indexes
        it: that run would go on writing documents of a collection that no longer exists."""
        row = self.get(name)
        if lock_path is not None and row.get("index_started_at") and _indexing(row, holder(lock_path)):
            raise UserFacingError(f"The collection {row['name']!r} is being indexed right now (in the app's "
                                  "window or by another command).",
                                  hint="Stop that run, or let it finish, then remove the collection.")
        with transaction(self.db):
            for sql in ("delete from documents where collection_id = ?",
                        "delete from collection_sources where collection_id = ?",
                        "delete from collections where id = ?"):
                self.db.execute(sql, [row["id"]])

    def add_source(self, name: str, path: Path | str) -> None:
        resolved = self.source_path(path)
        row = self.ensure(name)  # only now: a source refused does not leave an empty collection behind
        self.db.execute(
            "insert or ignore into collection_sources (collection_id, path, added_at) values (?, ?, ?)",
            [row["id"], resolved, now_iso()])

    @staticmethod
    def source_path(path: Path | str) -> str:
        """`path` as a source is recorded (absolute), or a UserFacingError saying why it cannot be one."""
        resolved = _absolute(path)
        if not Path(resolved).exists() and not Path(resolved).is_symlink():
            raise UserFacingError(f"{path} does not exist.")
        try:
            resolved.encode("utf-8")
        except UnicodeEncodeError:
            raise UserFacingError(f"{os.fsencode(resolved).decode('utf-8', 'replace')}: the name is not valid text "
                                  "(it was written in another encoding), so it cannot be recorded.",
                                  hint="Rename it and add it again.") from None
        return resolved

    def remove_source(self, name: str, *paths: Path | str) -> None:
        """Stop indexing `paths` in collection `name` (all of them, or none if one is not a source of
        it); their documents go at the next index run."""
        row = self.get(name)
        recorded = [str(p) for p in self.sources(name)]
        resolved = [_absolute(path) for path in paths]
        for path, absolute in zip(paths, resolved, strict=True):
            if absolute not in recorded:  # a typo must not pass for done
                listed = ", ".join(recorded) or "none"
                raise UserFacingError(f"{path} is not a folder or file of the collection {row['name']!r}.",
                                      hint=f"Its folders and files: {listed}.")
        with transaction(self.db):
            for absolute in resolved:
                self.db.execute("delete from collection_sources where collection_id = ? and path = ?",
                                [row["id"], absolute])

    def sources(self, name: str) -> list[Path]:
        row = self.get(name)
        return [Path(r["path"]) for r in self.db["collection_sources"].rows_where(
            "collection_id = ?", [row["id"]], order_by="id")]

    def ignore_globs(self, name: str) -> list[str]:
        return json.loads(self.get(name)["ignore_globs"] or "[]")

    @staticmethod
    def check_ignore_globs(globs: list[str]) -> None:
        if any(not g.strip() for g in globs):
            raise UserFacingError("An ignore pattern is empty: give a pattern such as '*.tmp' or 'Drafts/*'.")

    def set_ignore_globs(self, name: str, globs: list[str]) -> None:
        """Replace the collection's patterns of files to leave out (an empty list clears them)."""
        self.check_ignore_globs(globs)
        row = self.get(name)
        self.db["collections"].update(row["id"], {"ignore_globs": json.dumps(globs), "updated_at": now_iso()})

    def status(self, name: str) -> CollectionStatus:
        row = self.get(name)
        cid = row["id"]
        docs = list(self.db["documents"].rows_where("collection_id = ?", [cid], order_by="path"))
        chunks = self.db.execute(
            "select count(*) from chunks where content_hash in "
            "(select content_hash from documents where collection_id = ? and status = 'indexed')", [cid]
        ).fetchone()[0]
        outdated = self.db.execute(
            "select count(*) from documents d where d.collection_id = ? and d.status = 'indexed' and not exists "
            "(select 1 from chunks c where c.content_hash = d.content_hash and c.embedded = 1 "
            "and coalesce(c.version, 1) = ?)",
            [cid, CHUNKER_VERSION]).fetchone()[0]
        return CollectionStatus(
            name=row["name"], sources=[str(p) for p in self.sources(name)], files=len(docs),
            indexed=sum(d["status"] == "indexed" for d in docs),
            skipped=[(d["path"], d["error"]) for d in docs if d["status"] == "skipped"],
            chunks=chunks, last_indexed_at=row["last_indexed_at"], interrupted=bool(row.get("index_started_at")),
            unfinished=bool(row.get("index_unfinished_at")) or (row["last_indexed_at"] is None and bool(docs)
                                                                and not row.get("index_started_at")),
            partial=[(d["path"], d["error"]) for d in docs if d["status"] == "indexed" and d["error"]],
            outdated=outdated,
        )


def _indexing(row: dict, owner: str | None) -> bool:
    """Whether the run holding the index lock (`owner`, see index_lock.holder) may be indexing the
    collection: a run of another collection does not make an interrupted one's mark current."""
    return owner is not None and owner in ("", lock_owner(row["id"]))


def lock_owner(collection_id: int) -> str:
    return f"collection {collection_id}"


def _absolute(path: Path | str) -> str:
    # Path("") is the current folder: an unset $DIR in a script would otherwise index the home folder.
    if not str(path).strip():
        raise UserFacingError("The path is empty: give a folder or file.")
    return str(Path(path).expanduser().absolute())
