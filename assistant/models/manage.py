"""Importing, deleting and describing models: the logic behind the models page and CLI.

An imported file is validated before it is registered: the cheap magic/version
check, then the whole header through the gguf package, then a check that the
tensor data the header promises is all there (a truncated copy fails here, not
inside llama.cpp). It is copied into the models folder through a temporary
name and hashed on the way, or referenced where it lies.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.config import DEFAULT_MODEL
from assistant.errors import ModelUnavailable, UserFacingError
from assistant.file_names import storable
from assistant.models.catalog import find_entry, load_catalog
from assistant.models.estimate import SpeedBook, SpeedFigure
from assistant.models.facts import facts_from_header, facts_from_installed
from assistant.models.fit import FitResult, Memory, read_memory
from assistant.models.gguf_check import check_gguf_file
from assistant.models.registry import HASH_CHUNK, InstalledModel, sha256_file
from assistant.models.units import size_text

CopyProgress = Callable[[int, int], None]  # (bytes done, bytes total)


class ImportCancelled(Exception):
    """The user stopped an import; the partial copy was removed."""


def _read_header_checked(path: Path):
    """Validate a GGUF completely enough that llama.cpp will not trip over it. Returns (info, header).

    Truncation is checked first: the gguf package fails on it too, but with a numpy reshape error.
    """
    from assistant.models.gguf_header import read_header
    from assistant.models.gguf_info import read_gguf_info

    check_gguf_file(path)
    header = read_header(path)
    size = path.stat().st_size
    if header.data_end > size:
        raise ModelUnavailable(
            f"{path.name} is truncated: its header describes {header.data_end:,} bytes of model data "
            f"but the file has {size:,}.", hint="Copy or download it again.")
    info = read_gguf_info(path)
    if not info.has_chat_template:
        raise ModelUnavailable(
            f"{path.name} has no chat template, so the app cannot hold a conversation with it.",
            hint="Use an instruct or chat version of the model.")
    return info, header


def _name_for(stem: str) -> str:
    # Accents folded, not cut: "Modèle ünïcode" is "modele-unicode", not "mod-le-n-code".
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9._-]+", "-", folded.lower()).strip("-.") or "model"


def _unique(core, wanted: str) -> str:
    """`wanted`, or it numbered: not a name installed, nor a catalog model's (an import named so
    would show as that model installed, and its download would take the import for it)."""
    name, n = wanted, 2
    while core.registry.get(name) is not None or find_entry(name) is not None:
        name, n = f"{wanted}-{n}", n + 1
    return name


def _as_text(name: str) -> str:
    """A file name SQLite can store: bytes that are not UTF-8 (kept by Python as surrogates) become '_'."""
    return storable(name).replace("\ufffd", "_")


def _free_target(folder: Path, filename: str) -> Path:
    target, n = folder / filename, 2
    while target.exists():
        target, n = folder / f"{Path(filename).stem}-{n}{Path(filename).suffix}", n + 1
    return target


def _copy_hashed(source: Path, target: Path, progress: CopyProgress | None,
                 cancel: threading.Event | None) -> str:
    total = source.stat().st_size
    free = shutil.disk_usage(target.parent).free
    if free < total + 64 * 1024 * 1024:
        raise ModelUnavailable(f"Not enough disk space to import {source.name}: it needs {size_text(total)}, "
                               f"{size_text(free)} is free.", hint="Free some space, or import it with "
                               "--reference to use the file where it is.")
    partial = target.with_name(target.name + ".partial")
    digest, done = hashlib.sha256(), 0
    try:
        with source.open("rb") as src, partial.open("wb") as out:
            while chunk := src.read(HASH_CHUNK):
                if cancel is not None and cancel.is_set():
                    raise ImportCancelled()
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def import_model(core, source: Path | str, *, reference: bool = False, name: str | None = None,
                 progress: CopyProgress | None = None, cancel: threading.Event | None = None) -> InstalledModel:
    """Validate a local .gguf, copy it into the models folder (or reference it in place) and register it.

    Raises ModelUnavailable (a UserFacingError) for a file that is not a usable GGUF chat model,
    UserFacingError for one already installed, ImportCancelled if `cancel` is set mid-copy.
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise UserFacingError(f"There is no file at {source}.")
    source = source.resolve()
    info, _header = _read_header_checked(source)
    wanted = _unique(core, _name_for(name or source.stem))
    if _inside(source, core.paths.models):
        reference = True  # already where it belongs: nothing to copy
    if reference and storable(source) != str(source):
        raise UserFacingError(f"{source} cannot be used where it is: its path is not valid UTF-8 text.",
                              hint="Rename the file (or its folder), or import a copy without --reference.")
    if reference:
        sha = sha256_file(source, (lambda done: progress(done, info.file_size)) if progress else None)
        _refuse_duplicate(core, sha)
        path = source
    else:
        same = [m for m in core.registry.all("chat") if m.size_bytes == info.file_size]
        if same and sha256_file(source) in {m.sha256 for m in same}:
            _refuse_duplicate(core, sha256_file(source))
        path = _free_target(core.paths.models, _as_text(source.name))
        sha = _copy_hashed(source, path, progress, cancel)
    model = InstalledModel(
        name=wanted, kind="chat", display_name=info.name or _as_text(source.stem), path=path,
        size_bytes=path.stat().st_size, sha256=sha, source="import", quantization=info.quantization,
        parameters=info.parameters, context_length=info.context_length, architecture=info.architecture,
        has_chat_template=True, filename=path.name,
    )
    try:
        core.registry.register(model)
    except BaseException:
        if not reference:
            path.unlink(missing_ok=True)  # a copy no row points to would only fill the disk
        raise
    return model


def _refuse_duplicate(core, sha: str) -> None:
    for m in core.registry.all():
        if m.sha256 == sha:
            raise UserFacingError(f"This model is already installed as {m.name}.")


@dataclass
class DeleteResult:
    name: str
    path: Path
    file_deleted: bool
    freed_bytes: int
    was_loaded: bool
    new_default: str | None  # the default model chosen instead of the deleted one, if it was the default
    file_missing: bool = False  # its file was already gone

    @property
    def message(self) -> str:
        if self.file_missing:
            text = f"Removed {self.name} from the app. Its file {self.path} was already gone."
        elif self.file_deleted:
            text = f"Deleted {self.name} and freed {size_text(self.freed_bytes)}."
        else:
            text = (f"Removed {self.name} from the app. Its file {self.path} was used in place, not copied "
                    "into the models folder, so it was left on disk.")
        if self.was_loaded:
            text += " It was loaded, so it was unloaded first."
        if self.new_default:
            text += f" The default model is now {self.new_default}."
        return text


def delete_model(core, name: str) -> DeleteResult:
    """Unload the model if loaded, delete its file if it lies in the models folder, unregister it.

    Speed measurements are kept: they still calibrate estimates for other models.
    """
    model = core.registry.resolve(name, kind=None)
    if model.kind != "chat":
        raise UserFacingError(f"{model.display_name} is the app's document embedder and cannot be deleted.")
    with core._load_lock:
        loaded = core.engine.loaded
        was_loaded = (core.model is not None and core.model.name == model.name) or (
            loaded is not None and Path(loaded.path) == model.path)
        if was_loaded:
            core.engine.unload()
            core.model = None
        owned = _inside(model.path, core.paths.models)
        missing = not model.path.exists()
        freed = 0
        if owned and model.path.is_file():
            freed = model.path.stat().st_size
            try:
                model.path.unlink()
            except OSError as exc:
                raise UserFacingError(f"{model.path} could not be deleted: {exc.strerror or exc}.") from exc
        core.registry.remove(model.name)
    new_default = None
    if core.settings.default_model == model.name:
        remaining = [m.name for m in core.chat_models()]
        if remaining:
            new_default = DEFAULT_MODEL if DEFAULT_MODEL in remaining else remaining[0]
            core.settings.default_model = new_default
            core.settings.save(core.paths)
    return DeleteResult(model.name, model.path, owned and not missing, freed, was_loaded, new_default, missing)


@dataclass
class ModelInfo:
    name: str
    display_name: str
    kind: str
    source: str
    path: str
    in_models_folder: bool  # False: referenced in place
    file_size: int
    sha256: str
    architecture: str | None
    parameters: int | None
    quantization: str | None
    context_length: int | None
    layers: int | None
    kv_heads: int | None
    head_dim: int | None
    vocab_size: int | None
    has_chat_template: bool | None
    fit: FitResult | None
    speed: SpeedFigure | None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fit"] = self.fit.to_dict() if self.fit else None
        return d


def model_info(core, name: str, memory: Memory | None = None) -> ModelInfo:
    """What a model is, from its GGUF header, with its memory fit (against `memory`, default: read
    now) and its speed (measured or estimated)."""
    from assistant.models.gguf_header import read_header

    model = core.registry.resolve(name, kind=None)
    fit = speed = None
    architecture, has_template = model.architecture, model.has_chat_template
    facts = None
    if model.kind == "chat":
        path = core.registry.check(model)
        header = read_header(path)
        facts = facts_from_header(header, path, model.name, model.display_name)
        facts.quantization = model.quantization or facts.quantization
        architecture = header.metadata.get("general.architecture") or architecture
        has_template = bool(header.metadata.get("tokenizer.chat_template"))
        fit = (memory or read_memory(core.engine)).fit(facts, core.settings.generation.n_ctx)
        speed = SpeedBook.load(core.db).figure(facts)
    else:
        facts = facts_from_installed(model, find_entry(model.name, load_catalog()))
    return ModelInfo(
        name=model.name, display_name=model.display_name, kind=model.kind, source=model.source,
        path=str(model.path), in_models_folder=_inside(model.path, core.paths.models) or model.kind != "chat",
        file_size=facts.size_bytes or model.size_bytes, sha256=model.sha256, architecture=architecture,
        parameters=facts.parameter_count(), quantization=facts.quantization, context_length=facts.context_length,
        layers=facts.layers, kv_heads=facts.kv_heads, head_dim=facts.head_dim, vocab_size=facts.vocab_size,
        has_chat_template=has_template, fit=fit, speed=speed,
    )
