"""Who answers "do these sentences answer the question?" before a document answer, and below
what belief that means no.

The check can be asked of a larger model than the one that answers. Measured on squad2-dev over
the whole set, the 0.5B answering: checked by itself at its threshold, 0.333 of the unanswerable
questions are held back for 3.1 points of accuracy (0.703 -> 0.672); checked by the 1.5B at its own,
0.532 for 2.7 points (0.703 -> 0.676). The 1.5B's threshold was chosen on every 2nd question (0.63;
0.47 of that half held back at 3 points) and held on the other half (0.52 at 2.9 points). It costs a
second engine child holding the 1.5B (1.9 GB), a few seconds to load it (the window does that as
soon as documents are chosen), then about 0.1 s per question (median first token on 8 questions:
1.09 s against 0.97 s). That is the default ("auto"): the catalog's `default_checker` (the 1.5B)
checks a smaller model's answers when it is installed and fits in memory beside it; otherwise the
answering model checks itself, and the answer says why. Settings > Documents > Double-check answers
with can name a model instead, or the answering model (no second engine, no memory beside it).

A model's P(yes) runs higher or lower by model (the 1.5B says yes at 0.63 where the 0.5B says it
at 0.30, and SmolLM2 gives nearly every text under 0.1, answering or not), so each catalog model
carries the threshold calibrated for it: `check_threshold`. SmolLM2's beliefs carry no signal (at
3 points lost they hold back 0.04), so its threshold is 0: its check never holds an answer back,
where 0.30 held back nearly all. A model without one (an imported file) gets FALLBACK_THRESHOLD.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from assistant.config import RetrievalSettings
from assistant.core import Core
from assistant.errors import EngineError, ModelUnavailable
from assistant.llm.client import EngineClient
from assistant.models.catalog import find_entry, load_catalog
from assistant.models.registry import InstalledModel

log = logging.getLogger("assistant.answer_check")

FALLBACK_THRESHOLD = 0.30  # the default 0.5B's calibration
AUTO = "auto"  # RetrievalSettings.check_model: the catalog's default checker when it is installed and fits


@dataclass
class Checker:
    engine: EngineClient
    model: str  # the name of the model that checks
    threshold: float
    problem: str | None = None  # why the chosen check model is not the one checking


@functools.cache
def _catalog_threshold(model_name: str) -> float:
    """The shipped catalog does not change while the app runs: read it once, not on every answer."""
    entry = find_entry(model_name)
    return entry.check_threshold if entry is not None and entry.check_threshold is not None else FALLBACK_THRESHOLD


def calibrated_threshold(model_name: str, retrieval: RetrievalSettings) -> float:
    if retrieval.check_threshold is not None:
        return retrieval.check_threshold
    return _catalog_threshold(model_name)


@functools.cache
def _default_checkers() -> frozenset[str]:
    return frozenset(entry.name for entry in load_catalog() if entry.default_checker)


def automatic_check_model(core: Core, answering: InstalledModel) -> InstalledModel | None:
    """The installed model that checks `answering`'s answers under "auto": the catalog's default
    checker, when it is larger than the answering model (a larger one judges best itself)."""
    larger = [model for model in core.chat_models()
              if model.name in _default_checkers() and model.size_bytes > answering.size_bytes]
    return max(larger, key=lambda model: model.size_bytes, default=None)


def checker_for(core: Core, retrieval: RetrievalSettings) -> Checker:
    """The check model the settings name (loading it on first use), or the answering model when
    none is named or the named one cannot be loaded: an answer is never refused for that."""
    answering = core.require_model()
    problem = None
    wanted = retrieval.check_model
    if wanted == AUTO:
        automatic = automatic_check_model(core, answering)
        wanted = automatic.name if automatic is not None else ""
    if wanted:
        try:
            engine, model = core.check_engine(wanted)
            return Checker(engine, model.name, calibrated_threshold(model.name, retrieval))
        except (ModelUnavailable, EngineError) as exc:
            problem = f"The check model {wanted!r} could not be used ({exc}); the answering model checked."
            log.warning("%s", problem)
    else:
        core.release_check_engine()
    return Checker(core.engine, answering.name, calibrated_threshold(answering.name, retrieval), problem)


def check_model_choices(core: Core) -> list[tuple[str, str]]:
    """(setting, label) of each choice: automatic, the answering model, then each installed chat
    model, the label saying what checking with it takes: a model other than the answering one needs
    memory of its own, which may not be free. Automatic names the model it picks, with that label."""
    answering = core.model.name if core.model is not None else None
    labels = {model.name: (f"{model.display_name} · the answering model, no more memory" if model.name == answering
                           else _label_with_memory(core, model))
              for model in core.chat_models()}
    automatic = automatic_check_model(core, core.model) if core.model is not None else None
    if core.model is None:
        auto = "Automatic (recommended)"
    elif automatic is None:
        auto = "Automatic (recommended): the answering model, no larger check model is installed"
    else:
        auto = f"Automatic (recommended): {labels[automatic.name]}"
    return [(AUTO, auto), ("", "The answering model"), *labels.items()]


def _label_with_memory(core: Core, model: InstalledModel) -> str:
    try:
        fit = core.check_model_fit(model)
    except (OSError, ModelUnavailable) as exc:  # its file unreadable now: still listed, as it is
        log.warning("no memory estimate for %s: %s", model.name, exc)
        return model.display_name
    need = f"needs {fit.needed / 1e9:.1f} GB more"
    room = (f"{fit.available / 1e9:.1f} GB free" if fit.needed <= fit.available else
            f"only {fit.available / 1e9:.1f} GB free: the answering model will check")
    return f"{model.display_name} · {need}, {room}"
