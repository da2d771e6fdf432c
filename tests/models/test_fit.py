"""Memory fit: the KV formula against llama.cpp itself, the thresholds, catalog facts, one memory
reading for a whole view, the question before a download that may not fit, and how sizes are written."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from assistant.models.catalog import CatalogEntry
from assistant.models.facts import facts_from_entry, facts_from_file
from assistant.models.fit import (
    FITS,
    MIB,
    TIGHT,
    WONT_FIT,
    Memory,
    check_fit,
    classify,
    download_warning,
    estimate_memory,
    kv_cache_bytes,
)
from assistant.models.gguf_info import read_gguf_info
from assistant.models.units import size_text
from tests.conftest import QWEN, SMOL
from tests.models.tiny_gguf import write_tiny_gguf

GB = 10**9

LLAMA_KV = """
import sys
from llama_cpp import Llama
Llama(model_path=sys.argv[1], n_ctx=int(sys.argv[2]), n_batch=512, flash_attn=True, verbose=True)
"""


def llama_cpp_kv_mib(path, n_ctx: int) -> float:
    """The KV cache size llama.cpp reports when it creates a context for this model."""
    out = subprocess.run([sys.executable, "-c", LLAMA_KV, str(path), str(n_ctx)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    match = re.search(r"llama_kv_cache: size = +([\d.]+) MiB", out.stderr)
    assert match, out.stderr[-2000:]
    return float(match.group(1))


@pytest.mark.parametrize("n_ctx", [2048, 4096])
def test_kv_formula_matches_what_llama_cpp_allocates_for_smollm2(starter_registry, n_ctx):
    path = starter_registry[SMOL].path
    facts = facts_from_file(path, SMOL)
    assert (facts.layers, facts.kv_heads, facts.head_dim) == (30, 3, 64)
    ours = kv_cache_bytes(facts.layers, n_ctx, facts.kv_heads, facts.head_dim)
    assert ours == 2 * 30 * n_ctx * 3 * 64 * 2
    assert ours / MIB == llama_cpp_kv_mib(path, n_ctx)  # exact: 45.00 / 90.00 MiB


def test_header_facts_agree_with_the_gguf_package(starter_registry, tmp_path):
    # (Not Qwen: the gguf package takes ~7 s over its 152k-entry vocabulary, which is why we don't use it here.)
    for path in (starter_registry[SMOL].path, write_tiny_gguf(tmp_path / "tiny.gguf", layers=3, kv_heads=1)):
        fast, slow = facts_from_file(path, "m"), read_gguf_info(path)
        assert fast.parameters == slow.parameters
        assert fast.layers == slow.block_count
        assert fast.kv_heads == slow.head_count_kv
        assert fast.head_dim == slow.key_length and fast.value_dim == slow.value_length
        assert fast.context_length == slow.context_length
        assert fast.quantization == slow.quantization
        assert fast.size_bytes == path.stat().st_size
    assert facts_from_file(starter_registry[QWEN].path, QWEN).vocab_size == 151_936


def test_memory_estimate_adds_weights_kv_and_overhead(starter_registry):
    facts = facts_from_file(starter_registry[QWEN].path, QWEN)
    est = estimate_memory(facts, 4096)
    assert est.weights == 491_400_064
    assert est.kv_cache == 48 * MIB  # llama.cpp: "llama_kv_cache: size = 48.00 MiB"
    assert 100 * MIB < est.overhead < 200 * MIB
    assert est.total == est.weights + est.kv_cache + est.overhead
    assert not est.rough
    # Twice the context, twice the KV cache; the weights do not change.
    assert estimate_memory(facts, 8192).kv_cache == 2 * est.kv_cache


def test_fit_thresholds():
    assert classify(800, available=1000, total=4000)[0] == FITS  # exactly 80% of what is free
    assert classify(801, available=1000, total=4000)[0] == TIGHT
    assert classify(1000, available=1000, total=4000)[0] == TIGHT
    verdict, reason = classify(3000, available=1000, total=4000)  # fits once others free memory
    assert verdict == TIGHT and "close other programs" in reason
    assert classify(3201, available=1000, total=4000)[0] == WONT_FIT
    verdict, reason = classify(5 * GB, available=1 * GB, total=4 * GB)
    assert verdict == WONT_FIT and "4.0 GB in all" in reason


def test_check_fit_against_injected_machines(starter_registry):
    facts = facts_from_file(starter_registry[QWEN].path, QWEN)
    needed = estimate_memory(facts, 4096).total  # about 0.7 GB
    assert check_fit(facts, 4096, available=8 * GB, total=16 * GB).verdict == FITS
    assert check_fit(facts, 4096, available=needed, total=16 * GB).verdict == TIGHT
    small = check_fit(facts, 4096, available=200 * MIB, total=600 * MIB)
    assert small.verdict == WONT_FIT and small.needed == needed
    # The loaded model's memory comes back when this one replaces it.
    assert check_fit(facts, 4096, available=200 * MIB, total=2 * GB, reclaimable=2 * GB).verdict == FITS


def _entry(**changes) -> CatalogEntry:
    base = dict(name="m", kind="chat", display_name="M", family=None, repo_id="o/r", filename="m.gguf",
                quantization="Q4_K_M", size_bytes=2_000_000_000, sha256=None, parameters=3_000_000_000,
                context_length=32768, license=None, description="")
    base.update(changes)
    return CatalogEntry(**base)


def test_catalog_layer_facts_give_an_exact_kv_estimate_and_missing_ones_a_rough_one():
    exact = estimate_memory(facts_from_entry(_entry(layers=36, kv_heads=2, head_dim=128)), 4096)
    assert exact.kv_cache == kv_cache_bytes(36, 4096, 2, 128) and not exact.rough
    # Facts that only reach us through `extra` count too.
    via_extra = _entry(extra={"layers": 36, "kv_heads": 2, "head_dim": 128})
    assert estimate_memory(facts_from_entry(via_extra), 4096).kv_cache == exact.kv_cache

    rough = estimate_memory(facts_from_entry(_entry()), 4096)
    assert rough.rough and "rule of thumb" in rough.basis
    assert rough.kv_cache == 48 * 1024 * 3 * 4096  # 48 KB per token per billion parameters
    fit = check_fit(facts_from_entry(_entry()), 4096, available=64 * GB, total=64 * GB)
    assert fit.verdict == FITS and fit.reason.endswith("(rough estimate)")

    no_size = estimate_memory(facts_from_entry(_entry(size_bytes=None)), 4096)
    assert no_size.weights == int(3e9 * 4.85 / 8) and no_size.rough


def test_sizes_are_written_one_way_decimal_whole_mb_below_a_gigabyte():
    cases = {0: "0 bytes", 439_360: "439 kB", 999_499: "999 kB", 999_500: "1 MB", 98_362_432: "98 MB",
             491_400_000: "491 MB", 999_499_999: "999 MB", 999_500_000: "1.0 GB", 1_117_320_768: "1.1 GB",
             25_300_000_000: "25.3 GB"}
    assert {n: size_text(n) for n in cases} == cases
    # The fit's reason uses the same style: no "0.7 GB" beside a "706 MB" elsewhere on the page.
    assert classify(700_000_000, available=8 * GB, total=16 * GB)[1] == "needs 700 MB of the 8.0 GB free"


def test_one_memory_reading_gives_every_free_figure():
    memory = Memory(available=1 * GB, total=4 * GB, reclaimable=500_000_000)
    assert memory.free == 1_500_000_000
    assert Memory(available=3 * GB, total=4 * GB, reclaimable=2 * GB).free == 4 * GB  # never above the total
    facts = facts_from_entry(_entry(layers=36, kv_heads=2, head_dim=128))
    fit = memory.fit(facts, 4096)
    assert fit.available == memory.free and fit.total == memory.total
    assert fit == check_fit(facts, 4096, available=1 * GB, total=4 * GB, reclaimable=500_000_000)


def test_a_download_that_may_not_fit_is_explained_in_plain_words():
    facts = facts_from_entry(_entry(layers=36, kv_heads=2, head_dim=128))  # needs about 2.3 GB
    assert estimate_memory(facts, 4096).total == 2_315_383_808
    assert download_warning(Memory(8 * GB, 16 * GB).fit(facts, 4096), "M", 2 * GB) is None
    wont = Memory(1_200_000_000, 2_500_000_000).fit(facts, 4096)
    assert wont.verdict == WONT_FIT
    assert download_warning(wont, "Qwen M", 2 * GB) == (
        "Qwen M needs about 2.3 GB of memory; this computer has 1.2 GB free, of 2.5 GB in all. It will "
        "probably not load, or will be very slow.\n\nDownload it (2.0 GB) anyway?")
    crowded = Memory(2_000_000_000, 8 * GB).fit(facts, 4096)  # fits once other programs close
    assert crowded.verdict == TIGHT and download_warning(crowded, "M").endswith(
        "It may not load or may be very slow unless you close other programs first.\n\nDownload it anyway?")
    snug = Memory(2_500_000_000, 8 * GB).fit(facts, 4096)  # fits, with little to spare
    assert snug.verdict == TIGHT and "It should load, but little memory will be left" in download_warning(snug, "M")
    rough = Memory(1 * GB, 2 * GB).fit(facts_from_entry(_entry()), 4096)
    assert "of memory (a rough estimate);" in download_warning(rough, "M")
