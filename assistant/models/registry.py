"""The registry of installed models: one row per model file the app may load.

A row exists only for a file that was verified when it was installed; a
partial or unverified file is never listed. At start the file's size and
mtime are compared with the row (cheap); `verify` re-hashes it (thorough).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from assistant.errors import ModelUnavailable
from assistant.store.timeutil import now_iso

HASH_CHUNK = 4 * 1024 * 1024


@dataclass
class InstalledModel:
    name: str
    kind: str
    display_name: str
    path: Path
    size_bytes: int
    sha256: str
    source: str
    quantization: str | None = None
    parameters: int | None = None
    context_length: int | None = None
    architecture: str | None = None
    has_chat_template: bool | None = None
    repo_id: str | None = None
    filename: str | None = None
    file_mtime_ns: int | None = None
    installed_at: str | None = None
    verified_at: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> InstalledModel:
        fields = {k: row.get(k) for k in cls.__dataclass_fields__}
        fields["path"] = Path(row["path"])
        if row.get("has_chat_template") is not None:
            fields["has_chat_template"] = bool(row["has_chat_template"])
        return cls(**fields)

    def to_row(self) -> dict:
        row = dict(self.__dict__)
        row["path"] = str(self.path)
        if self.has_chat_template is not None:
            row["has_chat_template"] = int(self.has_chat_template)
        return row


def sha256_file(path: Path, progress=None) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done)
    return digest.hexdigest()


def repair_hint(model: InstalledModel) -> str:
    """How to put right a model whose file is missing or damaged: it depends on where it came from."""
    return {
        "starter": "Run `assistant setup --repair` (or the Repair button) to restore it.",
        "download": "Download it again from the Models page (`assistant models download`), or delete it.",
    }.get(model.source, "Import its file again (Models page, or `assistant models import`), or delete it.")


class ModelRegistry:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def register(self, model: InstalledModel) -> None:
        stamp = now_iso()
        model.installed_at = model.installed_at or stamp
        model.verified_at = stamp
        model.file_mtime_ns = model.path.stat().st_mtime_ns if model.path.is_file() else None
        self.db["models"].upsert(model.to_row(), pk="name")

    def remove(self, name: str) -> None:
        self.db["models"].delete_where("name = ?", [name])

    def all(self, kind: str | None = None) -> list[InstalledModel]:
        where, args = ("kind = ?", [kind]) if kind else (None, None)
        rows = self.db["models"].rows_where(where, args, order_by="size_bytes")
        return [InstalledModel.from_row(r) for r in rows]

    def get(self, name: str) -> InstalledModel | None:
        try:
            return InstalledModel.from_row(self.db["models"].get(name))
        except sqlite_utils.db.NotFoundError:
            return None

    def resolve(self, name: str, kind: str = "chat") -> InstalledModel:
        """Find a model by exact name, or by an unambiguous part of its name."""
        exact = self.get(name)
        if exact is not None:
            return exact
        wanted = name.strip().lower()
        installed = ", ".join(m.name for m in self.all(kind)) or "none"
        if not wanted:  # an empty part is in every name: `delete "$UNSET" --yes` must not pick the only model
            raise ModelUnavailable("No model name was given.", hint=f"Installed: {installed}.")
        matches = [m for m in self.all(kind) if wanted in m.name.lower() or wanted in m.display_name.lower()]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ModelUnavailable(f"No installed model is called {name!r}.", hint=f"Installed: {installed}.")
        raise ModelUnavailable(f"{name!r} matches several models: {', '.join(m.name for m in matches)}.")

    def check(self, model: InstalledModel) -> Path:
        """The model's path if its file still looks like the one we verified; else a clear error."""
        repair = repair_hint(model)
        path = model.path
        if not path.exists():
            raise ModelUnavailable(f"The model {model.display_name} is missing from {path}.", hint=repair)
        stat = path.stat()
        if path.is_file() and stat.st_size != model.size_bytes:
            raise ModelUnavailable(
                f"The model {model.display_name} is damaged: its file is {stat.st_size:,} bytes, "
                f"expected {model.size_bytes:,}.", hint=repair)
        return path

    def verify(self, model: InstalledModel, progress=None) -> bool:
        """Re-hash the file and compare with the recorded SHA-256."""
        if not model.path.is_file():
            return False
        ok = sha256_file(model.path, progress) == model.sha256
        if ok:
            self.register(model)
        return ok
