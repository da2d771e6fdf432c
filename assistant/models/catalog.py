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
    # Architecture facts from the base model's config.json, for the memory estimate
    # (KV cache = 2 * layers * kv_heads * head_dim * bytes per element, per token).
    base_model: str | None = None
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    # Only when the exact byte count is unknown: the rounded size the model page states.
    size_gb_approx: float | None = None
    # P(yes) below which this model's "do these sentences answer the question?" means no; its
    # beliefs run higher or lower by model, so each is calibrated (see assistant.answer_check).
    check_threshold: float | None = None
    # Checks the answers of smaller models by default when it is installed and fits beside them
    # (RetrievalSettings.check_model "auto"; see assistant.answer_check).
    default_checker: bool = False

    @property
    def is_starter(self) -> bool:
        return self.starter is not None

    @property
    def downloadable(self) -> bool:
        return bool(self.repo_id and self.filename and self.kind == "chat")

    @property
    def download_url(self) -> str | None:
        if not self.downloadable:
            return None
        return f"https://huggingface.co/{self.repo_id}/resolve/main/{self.filename}"

    @property
    def approx_size_bytes(self) -> int | None:
        """Exact size when known, else the page's rounded size; None when neither is known."""
        if self.size_bytes is not None:
            return self.size_bytes
        if self.size_gb_approx is not None:
            return int(self.size_gb_approx * 1e9)
        return None

    def kv_bytes_per_token(self, bytes_per_element: float = 2.0) -> int | None:
        """KV-cache bytes one token of context costs (keys and values, every layer); None if unknown."""
        if not (self.layers and self.kv_heads and self.head_dim):
            return None
        return int(2 * self.layers * self.kv_heads * self.head_dim * bytes_per_element)


_KNOWN = set(CatalogEntry.__dataclass_fields__) - {"extra"}


def load_catalog(path: Path = CATALOG_FILE) -> list[CatalogEntry]:
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = []
    for raw in data["models"]:
        known = {k: raw.get(k) for k in _KNOWN}
        known["kind"] = known["kind"] or "chat"
        known["description"] = known["description"] or ""
        known["default_checker"] = bool(known["default_checker"])
        entries.append(CatalogEntry(**known, extra={k: v for k, v in raw.items() if k not in _KNOWN}))
    return entries


def find_entry(name: str, entries: list[CatalogEntry] | None = None) -> CatalogEntry | None:
    for entry in entries if entries is not None else load_catalog():
        if entry.name == name:
            return entry
    return None
