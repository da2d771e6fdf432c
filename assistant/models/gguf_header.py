"""A fast reader for the facts in a GGUF header that memory and speed estimates need.

The gguf package's reader builds a numpy view for every vocabulary string:
2-7 s on the starter models' headers. Listing the catalog needs a few numbers
from each installed file, so this walks the header with struct instead and
skips arrays without decoding them (about 20 ms). Importing a file is still
validated with the gguf package (gguf_info.read_gguf_info).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelUnavailable

# GGUF value types -> (struct format, size). 8 is a string, 9 an array.
_SCALARS = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
            6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}
_STRING, _ARRAY = 8, 9


@dataclass
class GGUFHeader:
    metadata: dict  # scalar and string values; an array is stored as its length
    tensor_count: int
    parameters: int
    data_end: int  # where the last tensor's data ends; beyond the file size means truncated

    def arch(self, key: str):
        return self.metadata.get(f"{self.metadata.get('general.architecture', '')}.{key}")


def read_header(path: Path) -> GGUFHeader:
    """Raises ModelUnavailable if the header is cut short or malformed."""
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return _parse(mm)
    except (struct.error, ValueError, IndexError, KeyError, OverflowError, OSError) as exc:
        raise ModelUnavailable(f"{path.name} is damaged: its GGUF header cannot be read ({exc}).") from exc


def _parse(mm) -> GGUFHeader:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    if mm[:4] != b"GGUF":
        raise ValueError("no GGUF magic")
    _version, n_tensors, n_kv = struct.unpack_from("<IQQ", mm, 4)
    pos = 24

    def string(at: int) -> tuple[str, int]:
        (n,) = struct.unpack_from("<Q", mm, at)
        end = at + 8 + n
        if end > len(mm):
            raise ValueError("string runs past the end of the file")
        return mm[at + 8:end].decode("utf-8", "replace"), end

    metadata: dict = {}
    for _ in range(n_kv):
        key, pos = string(pos)
        (kind,) = struct.unpack_from("<I", mm, pos)
        pos += 4
        if kind == _STRING:
            value, pos = string(pos)
        elif kind == _ARRAY:
            item, count = struct.unpack_from("<IQ", mm, pos)
            pos += 12
            if item == _STRING:
                for _ in range(count):
                    (n,) = struct.unpack_from("<Q", mm, pos)
                    pos += 8 + n
            else:
                pos += count * _SCALARS[item][1]
            value = count
        else:
            fmt, size = _SCALARS[kind]
            (value,) = struct.unpack_from(fmt, mm, pos)
            pos += size
        metadata[key] = value
    parameters = 0
    ends = []
    for _ in range(n_tensors):
        _name, pos = string(pos)
        (n_dims,) = struct.unpack_from("<I", mm, pos)
        dims = struct.unpack_from(f"<{n_dims}Q", mm, pos + 4)
        pos += 4 + 8 * n_dims
        ggml_type, offset = struct.unpack_from("<IQ", mm, pos)
        pos += 12
        n = 1
        for d in dims:
            n *= d
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
        parameters += n
        ends.append(offset + n * type_size // block)
    alignment = int(metadata.get("general.alignment", 32))
    data_start = (pos + alignment - 1) // alignment * alignment
    return GGUFHeader(metadata=metadata, tensor_count=n_tensors, parameters=parameters,
                      data_end=data_start + max(ends, default=0))
