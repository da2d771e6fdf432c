"""The curated catalog of models (resources/catalog.json), read as typed entries.

The catalog is the single list the models page, the selector, downloads and the
speed estimate work from. Installed models are matched to it by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
CATALOG_FILE = RESOURCES / "catalog.json"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str
    display_name: str
    family: str | None
    repo_id: str | None
    filename: str
    quantization: str | None
    size_bytes: int | None
    sha256: str | None
    parameters: int | None
    context_length: int | None
    license: str | None
    description: str
    starter: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_starter(self) -> bool:
        return self.starter is not None

    @property
    def downloadable(self) -> bool:
        return bool(self.repo_id and self.filename and self.kind == "chat")


_KNOWN = set(CatalogEntry.__dataclass_fields__) - {"extra"}


def load_catalog(path: Path = CATALOG_FILE) -> list[CatalogEntry]:
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = []
    for raw in data["models"]:
        known = {k: raw.get(k) for k in _KNOWN}
        known["kind"] = known["kind"] or "chat"
        known["description"] = known["description"] or ""
        entries.append(CatalogEntry(**known, extra={k: v for k, v in raw.items() if k not in _KNOWN}))
    return entries


def find_entry(name: str, entries: list[CatalogEntry] | None = None) -> CatalogEntry | None:
    for entry in entries if entries is not None else load_catalog():
        if entry.name == name:
            return entry
    return None
