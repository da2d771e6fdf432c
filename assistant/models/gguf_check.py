"""Cheap checks that a file is a GGUF model, done before llama.cpp ever sees it."""

from __future__ import annotations

import struct
from pathlib import Path

from assistant.errors import ModelUnavailable

GGUF_MAGIC = b"GGUF"
# Magic, version, tensor count, metadata count.
HEADER_BYTES = 4 + 4 + 8 + 8


def check_gguf_file(path: Path) -> None:
    """Raise ModelUnavailable with a plain sentence if `path` is clearly not a usable GGUF."""
    name = path.name
    if not path.exists():
        raise ModelUnavailable(f"The model file {name} is missing.", hint=f"It was expected at {path}.")
    if not path.is_file():
        raise ModelUnavailable(f"{name} is not a file.")
    size = path.stat().st_size
    if size == 0:
        raise ModelUnavailable(f"The model file {name} is empty (0 bytes).",
                               hint="The download or copy did not finish; install it again.")
    try:
        with path.open("rb") as fh:
            header = fh.read(HEADER_BYTES)
    except OSError as exc:
        raise ModelUnavailable(f"The model file {name} cannot be read: {exc.strerror or exc}.") from exc
    if header[:4] != GGUF_MAGIC:
        raise ModelUnavailable(f"{name} is not a GGUF model file.",
                               hint="Only .gguf models (as used by llama.cpp) can be loaded.")
    if len(header) < HEADER_BYTES:
        raise ModelUnavailable(f"The model file {name} is truncated.", hint="Install it again.")
    version = struct.unpack("<I", header[4:8])[0]
    if version not in (2, 3):
        raise ModelUnavailable(f"{name} uses GGUF version {version}, which this app does not read.")
