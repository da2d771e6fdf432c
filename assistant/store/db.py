"""Opening the database: WAL mode, foreign keys, and migrations applied."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from assistant.errors import UserFacingError
from assistant.store.migrations import migrations


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the app database with every migration applied.

    WAL lets the UI read while a worker writes; a busy timeout turns brief
    contention into a wait instead of "database is locked".
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise UserFacingError(
            f"The app database at {path} cannot be opened ({exc}).",
            hint="Move it aside to start fresh; your models are kept.",
        ) from exc
    return db


def database_problem(exc: BaseException, path: Path | str) -> UserFacingError | None:
    """What the user can do about a database error met after opening: another program holding
    the write lock past the busy timeout, or a file damaged inside. None for anything else (a bug)."""
    code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.DatabaseError) else None
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return UserFacingError(f"The app database at {path} is busy: another program has been writing to it "
                               "for the last 30 seconds.", hint="Try again when it has finished.")
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return UserFacingError(f"The app database at {path} is damaged ({exc}).",
                               hint="Move it aside to start fresh; your models are kept.")
    return None


@contextmanager
def transaction(db: sqlite_utils.Database):
    """All statements inside commit together or not at all (BEGIN IMMEDIATE ... COMMIT).

    The connection runs in autocommit mode, so this is the only way to group
    writes. Use raw `db.execute` inside: sqlite-utils' table methods commit on
    their own. A nested call joins the transaction already open.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        # SQLite rolls back on its own after some errors (a full disk): a second ROLLBACK would
        # raise "no transaction is active" and hide the error that matters.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def insert_row(db: sqlite_utils.Database, table: str, row: dict) -> int:
    """INSERT one row with plain SQL (usable inside `transaction`); returns its rowid."""
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" for _ in row)
    return db.execute(f"insert into [{table}] ({columns}) values ({marks})", list(row.values())).lastrowid
