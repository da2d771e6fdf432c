"""Reading a GGUF file's header: what the model is, without loading it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.errors import ModelUnavailable
from assistant.models.gguf_check import check_gguf_file


@dataclass
class GGUFInfo:
    architecture: str
    name: str | None
    parameters: int
    quantization: str | None
    context_length: int | None
    block_count: int | None
    embedding_length: int | None
    head_count: int | None
    head_count_kv: int | None
    key_length: int | None
    value_length: int | None
    has_chat_template: bool
    chat_template: str
    file_size: int

    def to_dict(self) -> dict:
        return asdict(self)


def _field(reader, key: str):
    field = reader.fields.get(key)
    if field is None:
        return None
    value = field.contents()
    return value


def read_gguf_info(path: Path) -> GGUFInfo:
    """Parse the header with the gguf package. Raises ModelUnavailable on a damaged file."""
    import gguf

    check_gguf_file(path)
    try:
        return _info(gguf, gguf.GGUFReader(str(path), "r"), path)
    except Exception as exc:  # the gguf package raises many kinds on a damaged file, some only when a field is read
        raise ModelUnavailable(f"{path.name} is damaged: its GGUF header cannot be read ({exc}).") from exc


def _info(gguf, reader, path: Path) -> GGUFInfo:
    arch = _field(reader, "general.architecture") or "unknown"

    def arch_field(name: str):
        value = _field(reader, f"{arch}.{name}")
        return int(value) if isinstance(value, (int, float)) else None

    parameters = sum(int(t.n_elements) for t in reader.tensors)
    file_type = _field(reader, "general.file_type")
    quant = None
    if isinstance(file_type, int):
        try:
            quant = gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_")
        except ValueError:
            quant = str(file_type)
    template = _field(reader, "tokenizer.chat_template") or ""
    head_count = arch_field("attention.head_count")
    embedding = arch_field("embedding_length")
    key_length = arch_field("attention.key_length") or (embedding // head_count if embedding and head_count
                                                         else None)
    return GGUFInfo(
        architecture=arch,
        name=_field(reader, "general.name"),
        parameters=parameters,
        quantization=quant,
        context_length=arch_field("context_length"),
        block_count=arch_field("block_count"),
        embedding_length=embedding,
        head_count=head_count,
        head_count_kv=arch_field("attention.head_count_kv") or head_count,
        key_length=key_length,
        value_length=arch_field("attention.value_length") or key_length,
        has_chat_template=bool(template),
        chat_template=template if isinstance(template, str) else "",
        file_size=path.stat().st_size,
    )
