"""Pointing an imported model at its file again, once the user has moved it (or has a good copy).

An imported model has nowhere to be downloaded from again: only the user knows where its file went.
The file they choose must be the same one, byte for byte (its SHA-256), because the model's name,
settings and speed measurements describe that file and not another.
"""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.errors import UserFacingError
from assistant.file_names import storable
from assistant.models.manage import CopyProgress, ImportCancelled, _read_header_checked
from assistant.models.registry import InstalledModel, sha256_file
from assistant.models.units import size_text

OTHER_FILE_HINT = "Choose the file that was imported, or import this one as a new model (Import .gguf…)."


def relocate_model(core, name: str, source: Path | str, *, progress: CopyProgress | None = None,
                   cancel: threading.Event | None = None) -> InstalledModel:
    """Use `source` as the file of imported model `name`, where it lies. Raises UserFacingError for
    a file that is not that model's, ImportCancelled if `cancel` is set while it is checked."""
    model = core.registry.resolve(name, kind=None)
    source = Path(source).expanduser()
    if not source.is_file():
        raise UserFacingError(f"There is no file at {source}.")
    source = source.resolve()
    if storable(source) != str(source):
        raise UserFacingError(f"{source} cannot be used where it is: its path is not valid UTF-8 text.",
                              hint="Rename the file (or its folder) and choose it again.")
    size = source.stat().st_size
    if size != model.size_bytes:  # the cheap check first: hashing gigabytes to learn this would be slow
        raise UserFacingError(f"{source.name} is not the file of {model.display_name}: it is {size_text(size)}, "
                              f"and the model's file was {size_text(model.size_bytes)}.", hint=OTHER_FILE_HINT)
    _read_header_checked(source)

    def checked(done: int) -> None:
        if cancel is not None and cancel.is_set():
            raise ImportCancelled()
        if progress is not None:
            progress(done, size)

    if sha256_file(source, checked) != model.sha256:
        raise UserFacingError(f"{source.name} is not the file of {model.display_name}: its contents differ from "
                              "the file that was imported.", hint=OTHER_FILE_HINT)
    model.path, model.filename = source, source.name
    core.registry.register(model)
    return model
