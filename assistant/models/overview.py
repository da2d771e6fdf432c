"""What the models page and the model selector show, computed without Qt.

The catalog view pairs every catalog entry with its memory fit, its speed
(measured here, else estimated), whether it is installed, and what an earlier
download of it left behind. The installed view lists installed models with the
same figures for a chosen context length, smallest first, and marks the one the
core recommends among them. Both read only the database and file headers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelUnavailable
from assistant.models.catalog import CatalogEntry, load_catalog
from assistant.models.download_store import entry_of
from assistant.models.estimate import SpeedBook, SpeedFigure
from assistant.models.facts import ModelFacts, facts_from_installed
from assistant.models.fit import FitResult, Memory, read_memory
from assistant.models.recommend import Candidate, Recommendation, candidates, recommend
from assistant.models.registry import InstalledModel
from assistant.store.model_speed import SpeedMeasurement

log = logging.getLogger("assistant.models")

RESUMABLE = ("pending", "cancelled", "failed")


@dataclass
class DownloadState:
    """An unfinished download: its state, the bytes kept on disk for a resume, and why it stopped."""

    entry: CatalogEntry
    state: str  # pending (cut off: app closed or line dropped) | cancelled | failed
    bytes_kept: int
    bytes_total: int | None
    error: str | None


def download_states(db) -> dict[str, DownloadState]:
    """Every download that did not finish, by model name; the partial file's size is the truth."""
    out = {}
    for row in db["downloads"].rows_where("state in (?, ?, ?)", list(RESUMABLE), order_by="started_at"):
        partial = Path(row["partial_path"]) if row.get("partial_path") else None
        kept = partial.stat().st_size if partial is not None and partial.is_file() else 0
        try:
            entry = entry_of(row)
        except (TypeError, ValueError):
            log.warning("download row %s cannot be read back; it is not offered for resuming", row["name"])
            continue
        out[row["name"]] = DownloadState(entry, row["state"], kept, row.get("expected_size") or entry.size_bytes,
                                         row.get("error"))
    return out


@dataclass
class CatalogItem:
    entry: CatalogEntry
    candidate: Candidate | None  # None for a model the engine does not run (the document embedder)
    installed: bool
    download: DownloadState | None  # an unfinished download of it, if any
    recommended: bool = False

    @property
    def name(self) -> str:
        return self.entry.name


@dataclass
class CatalogView:
    items: list[CatalogItem]
    recommendation: Recommendation
    memory: Memory  # what every fit in `items` was measured against
    n_ctx: int


def catalog_view(core, entries: list[CatalogEntry] | None = None, *, memory: Memory | None = None) -> CatalogView:
    """Every catalog entry, plus any entry an unfinished download was started from that the catalog
    no longer lists (so it can still be resumed). `memory`: default, read now."""
    entries = list(load_catalog() if entries is None else entries)
    states = download_states(core.db)
    listed = {e.name for e in entries}
    entries += [s.entry for name, s in states.items() if name not in listed]
    memory = memory or read_memory(core.engine)
    pool = candidates(core, entries, available=memory.available, total=memory.total,
                      reclaimable=memory.reclaimable)
    by_name = {c.name: c for c in pool}
    rec = recommend(core, pool=pool)
    installed = {m.name for m in core.registry.all()}
    items = [CatalogItem(e, by_name.get(e.name) if e.kind == "chat" else None, e.name in installed,
                         states.get(e.name) if e.name not in installed else None,
                         rec.choice is not None and rec.choice.name == e.name)
             for e in entries]
    return CatalogView(items, rec, memory, core.settings.generation.n_ctx)


@dataclass
class InstalledItem:
    model: InstalledModel
    facts: ModelFacts | None
    fit: FitResult | None  # None for the embedder, or a file that is missing
    speed: SpeedFigure | None  # measured here, else estimated from the models that were
    measurement: SpeedMeasurement | None
    problem: str | None = None  # the file is missing or damaged, and what to do about it
    recommended: bool = False
    missing: bool = False  # no file where it was installed
    # Downloaded from the hub, its file gone wrong, and the catalog still names it: fetched again.
    redownloadable: bool = False

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def locatable(self) -> bool:
        """An imported file gone wrong: there is nothing to download it from, but the user may have
        moved it, or may have a good copy to point to."""
        return self.problem is not None and self.model.source == "import"

    @property
    def is_chat(self) -> bool:
        return self.model.kind == "chat"


class FactsCache:
    """Header facts per file, read again only when the file changes (the selector recomputes on
    every context-length step)."""

    def __init__(self):
        self._facts: dict[tuple, ModelFacts] = {}

    def get(self, model: InstalledModel, entry: CatalogEntry | None) -> ModelFacts:
        try:
            stat = model.path.stat()
            key = (model.name, str(model.path), stat.st_size, stat.st_mtime_ns)
        except OSError:
            return facts_from_installed(model, entry)
        if key not in self._facts:
            self._facts[key] = facts_from_installed(model, entry)
        return self._facts[key]


def installed_view(core, n_ctx: int | None = None, entries: list[CatalogEntry] | None = None, *,
                   facts: FactsCache | None = None, memory: Memory | None = None,
                   chat_only: bool = False) -> list[InstalledItem]:
    """Installed models, smallest first, with fit for `n_ctx` (default: the settings') against
    `memory` (default: read now), and speed.

    The recommended one is the core's recommendation among the installed chat models that can
    be loaded, for the user's targets.
    """
    n_ctx = n_ctx or core.settings.generation.n_ctx
    entries = load_catalog() if entries is None else entries
    by_name = {e.name: e for e in entries}
    facts = facts or FactsCache()
    memory = memory or read_memory(core.engine)
    book = SpeedBook.load(core.db)
    items = []
    for model in core.registry.all("chat" if chat_only else None):
        if model.kind != "chat":
            items.append(InstalledItem(model, None, None, None, None))
            continue
        problem, missing = _problem(core, model), not model.path.exists()
        f = facts.get(model, by_name.get(model.name))
        # A file that is not there will not be loaded: a fit for it would only mislead.
        fit = None if missing else memory.fit(f, n_ctx)
        entry = by_name.get(model.name)
        again = problem is not None and model.source == "download" and entry is not None and entry.downloadable
        items.append(InstalledItem(model, f, fit, book.figure(f), book.measurements.get(model.name), problem,
                                   missing=missing, redownloadable=again))
    pool = [Candidate(i.facts, i.fit, i.speed) for i in items if i.is_chat and i.problem is None]
    choice = recommend(core, pool=pool).choice if pool else None
    for item in items:
        item.recommended = choice is not None and item.name == choice.name
    return sorted(items, key=_size_key)


def _size_key(item: InstalledItem) -> tuple:
    weights = item.facts.weight_bytes() if item.facts else None
    params = item.facts.parameter_count() if item.facts else None
    return (not item.is_chat, weights or item.model.size_bytes or 0, params or 0, item.model.display_name)


def _problem(core, model: InstalledModel) -> str | None:
    try:
        core.registry.check(model)
    except ModelUnavailable as exc:
        if model.source != "import":
            return str(exc)
        if not model.path.exists():
            return (f"The file of this model is missing: it was at {model.path}. If you moved it, choose "
                    "Locate… to show where it is now; if you no longer need it, choose Remove.")
        return f"{exc.message} If you have an intact copy, choose Locate… to use it; otherwise choose Delete."
    return None
