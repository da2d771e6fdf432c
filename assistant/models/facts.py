"""What the memory and speed estimates need to know about a model, installed or not.

An installed model's facts come from its GGUF header (exact). A catalog entry's
come from the catalog: size, parameters, quantization, and the optional
"layers", "kv_heads", "head_dim" (and "vocab_size", "embedding_length").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelUnavailable
from assistant.models.catalog import CatalogEntry
from assistant.models.registry import InstalledModel

log = logging.getLogger("assistant.models")

# Average bits per weight of a whole GGUF file (embeddings and norms included) by
# quantization, from llama.cpp's quantize table; used only when size or parameter
# count is missing from the catalog.
BITS_PER_WEIGHT = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56, "Q5_1": 6.0, "Q5_K_M": 5.7,
    "Q5_0": 5.5, "Q5_K_S": 5.5, "Q4_1": 5.0, "Q4_K_M": 4.85, "Q4_K_S": 4.58, "Q4_0": 4.5,
    "IQ4_NL": 4.5, "IQ4_XS": 4.25, "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5, "IQ3_M": 3.66,
    "IQ3_XS": 3.3, "Q2_K": 3.35, "IQ2_M": 2.7, "IQ2_XS": 2.31,
}
DEFAULT_BITS_PER_WEIGHT = 4.85  # Q4_K_M, the usual choice for a laptop


@dataclass
class ModelFacts:
    name: str
    display_name: str
    installed: bool
    size_bytes: int | None
    parameters: int | None
    quantization: str | None
    context_length: int | None = None
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None  # key length per head
    value_dim: int | None = None  # value length per head (= head_dim for nearly every model)
    vocab_size: int | None = None
    embedding_length: int | None = None
    from_file: bool = False  # facts read from the GGUF header, not the catalog
    size_approx: bool = False  # the catalog gives only a rounded size

    @property
    def has_kv_facts(self) -> bool:
        return bool(self.layers and self.kv_heads and self.head_dim)

    def weight_bytes(self) -> int | None:
        if self.size_bytes:
            return self.size_bytes
        if self.parameters:
            return int(self.parameters * bits_per_weight(self.quantization) / 8)
        return None

    def parameter_count(self) -> int | None:
        if self.parameters:
            return self.parameters
        if self.size_bytes:
            return int(self.size_bytes * 8 / bits_per_weight(self.quantization))
        return None


def bits_per_weight(quantization: str | None) -> float:
    return BITS_PER_WEIGHT.get((quantization or "").upper(), DEFAULT_BITS_PER_WEIGHT)


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def facts_from_entry(entry: CatalogEntry) -> ModelFacts:
    def fact(key: str):
        # The catalog engineer may promote these keys to fields; read either place.
        return _int(getattr(entry, key, None) or entry.extra.get(key))

    size = entry.size_bytes or _int(getattr(entry, "approx_size_bytes", None))
    return ModelFacts(
        name=entry.name, display_name=entry.display_name, installed=False, size_bytes=size,
        size_approx=entry.size_bytes is None and size is not None, parameters=entry.parameters, quantization=entry.quantization, context_length=entry.context_length,
        layers=fact("layers"), kv_heads=fact("kv_heads"), head_dim=fact("head_dim"),
        value_dim=fact("value_dim") or fact("head_dim"), vocab_size=fact("vocab_size"),
        embedding_length=fact("embedding_length"),
    )


def facts_from_file(path: Path, name: str, display_name: str | None = None) -> ModelFacts:
    """Exact facts from a GGUF header. Raises ModelUnavailable on a damaged file."""
    from assistant.models.gguf_header import read_header

    return facts_from_header(read_header(path), path, name, display_name)


def facts_from_header(header, path: Path, name: str, display_name: str | None = None) -> ModelFacts:
    meta = header.metadata
    heads = _int(header.arch("attention.head_count"))
    embedding = _int(header.arch("embedding_length"))
    key_length = _int(header.arch("attention.key_length")) or (embedding // heads if embedding and heads else None)
    return ModelFacts(
        name=name, display_name=display_name or name, installed=True, size_bytes=path.stat().st_size,
        parameters=header.parameters, quantization=_file_type_name(meta.get("general.file_type")),
        context_length=_int(header.arch("context_length")), layers=_int(header.arch("block_count")),
        kv_heads=_int(header.arch("attention.head_count_kv")) or heads, head_dim=key_length,
        value_dim=_int(header.arch("attention.value_length")) or key_length,
        vocab_size=_int(meta.get("tokenizer.ggml.tokens")) or _int(header.arch("vocab_size")),
        embedding_length=embedding, from_file=True,
    )


def facts_from_installed(model: InstalledModel, entry: CatalogEntry | None = None) -> ModelFacts:
    """From the file when it can be read; else from the registry row and the catalog."""
    if model.path.is_file():
        try:
            facts = facts_from_file(model.path, model.name, model.display_name)
            facts.quantization = model.quantization or facts.quantization
            return facts
        except ModelUnavailable as exc:
            log.warning("cannot read the header of %s: %s", model.path, exc)
    facts = facts_from_entry(entry) if entry is not None else ModelFacts(
        name=model.name, display_name=model.display_name, installed=True, size_bytes=None, parameters=None,
        quantization=None)
    facts.installed = True
    facts.size_bytes = model.size_bytes or facts.size_bytes
    facts.parameters = model.parameters or facts.parameters
    facts.quantization = model.quantization or facts.quantization
    facts.context_length = model.context_length or facts.context_length
    return facts


def _file_type_name(file_type) -> str | None:
    if file_type is None:
        return None
    import gguf

    try:
        return gguf.LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
    except ValueError:
        return str(file_type)
