"""SQLite, through sqlite-utils: the source of truth for what the app knows."""

from assistant.store.db import open_database

__all__ = ["open_database"]
