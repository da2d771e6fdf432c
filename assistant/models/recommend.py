"""Which model to use: the largest that fits in memory and is still fast enough.

Every chat model the app knows (installed, imported, or in the catalog) gets a
memory fit and a speed figure (measured here, else estimated). The
recommendation is the one with the most parameters whose fit is "fits" and
whose speed meets both targets (Settings.target_tokens_per_s and
target_ttft_s, for a ~1,000-token document question).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.models.catalog import CatalogEntry, load_catalog
from assistant.models.estimate import SpeedBook, SpeedFigure
from assistant.models.facts import ModelFacts, facts_from_entry, facts_from_installed
from assistant.models.fit import FitResult, check_fit, engine_rss, system_memory


@dataclass
class Candidate:
    facts: ModelFacts
    fit: FitResult
    speed: SpeedFigure | None
    entry: CatalogEntry | None = None

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def installed(self) -> bool:
        return self.facts.installed

    def meets(self, tokens_per_s: float, ttft_s: float) -> tuple[bool, str]:
        if not self.fit.fits:
            return False, f"memory: {self.fit.verdict} ({self.fit.reason})"
        if self.speed is None:
            return False, "speed unknown: measure a model first (assistant models bench NAME)"
        if self.speed.gen_tokens_per_s < tokens_per_s:
            return False, f"too slow: {self.speed.gen_tokens_per_s:.1f} < {tokens_per_s:g} tok/s"
        if self.speed.ttft_s > ttft_s:
            return False, f"first token too late: {self.speed.ttft_s:.1f} > {ttft_s:g} s"
        return True, "fits and fast enough"


@dataclass
class Recommendation:
    choice: Candidate | None
    target_tokens_per_s: float
    target_ttft_s: float
    candidates: list[Candidate]
    reason: str


def candidates(core, entries: list[CatalogEntry] | None = None, *, available: int | None = None,
               total: int | None = None, reclaimable: int | None = None) -> list[Candidate]:
    """Every chat model: installed ones (facts from their files) and catalog ones not installed.

    `available`/`total` replace the machine's RAM figures (tests, what-if questions);
    `reclaimable` defaults to what the engine's loaded model occupies (freed by a switch).
    """
    entries = load_catalog() if entries is None else entries
    by_name = {e.name: e for e in entries}
    if available is None or total is None:
        sys_available, sys_total = system_memory()
        available = sys_available if available is None else available
        total = sys_total if total is None else total
    reclaim = engine_rss(core.engine) if reclaimable is None else reclaimable
    n_ctx = core.settings.generation.n_ctx
    book = SpeedBook.load(core.db)
    out = []
    installed = {m.name: m for m in core.chat_models()}
    for model in installed.values():
        facts = facts_from_installed(model, by_name.get(model.name))
        out.append(Candidate(facts, check_fit(facts, n_ctx, available=available, total=total, reclaimable=reclaim),
                             book.figure(facts), by_name.get(model.name)))
    for entry in entries:
        if entry.kind != "chat" or entry.name in installed:
            continue
        facts = facts_from_entry(entry)
        out.append(Candidate(facts, check_fit(facts, n_ctx, available=available, total=total, reclaimable=reclaim),
                             book.figure(facts), entry))
    return out


def _size_key(c: Candidate) -> tuple:
    return (c.facts.parameter_count() or 0, c.facts.weight_bytes() or 0)


def recommend(core, tokens_per_s: float | None = None, ttft_s: float | None = None, *,
              pool: list[Candidate] | None = None) -> Recommendation:
    """The largest model that fits and meets both speed targets (defaults: the user's settings)."""
    tokens_per_s = core.settings.target_tokens_per_s if tokens_per_s is None else tokens_per_s
    ttft_s = core.settings.target_ttft_s if ttft_s is None else ttft_s
    pool = candidates(core) if pool is None else pool
    good = [c for c in pool if c.meets(tokens_per_s, ttft_s)[0]]
    if good:
        choice = max(good, key=_size_key)
        return Recommendation(choice, tokens_per_s, ttft_s, pool,
                              f"{choice.facts.display_name} is the largest model that fits in memory and "
                              f"reaches {tokens_per_s:g} tokens/s with a first token within {ttft_s:g}s.")
    if not any(c.speed for c in pool):
        reason = "No model has been measured yet, so speeds are unknown. Run `assistant models bench NAME`."
    else:
        reason = (f"No model both fits in memory and reaches {tokens_per_s:g} tokens/s with a first token "
                  f"within {ttft_s:g}s. Lower the targets or free some memory.")
    return Recommendation(None, tokens_per_s, ttft_s, pool, reason)
