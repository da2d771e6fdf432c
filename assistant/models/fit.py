"""Will a model fit in this computer's memory? An estimate, with its reasons.

RAM needed = weights + KV cache + runtime overhead:

- weights: the GGUF file size. llama.cpp maps the file; every page is touched
  on each token, so all of it becomes resident.
- KV cache: 2 (K and V) x layers x n_ctx x kv_heads x head_dim x 2 bytes (f16).
  llama.cpp prints exactly this ("llama_kv_cache: size = 90.00 MiB" for
  SmolLM2-135M at n_ctx 4096; 48.00 MiB for Qwen2.5-0.5B); a test checks it.
- overhead: 64 MiB for the engine process (Python and llama.cpp: 40 MiB
  measured right after import) plus 640 bytes per vocabulary entry for the
  tokenizer tables, logits and sampler buffers. llama.cpp reserves a larger
  compute buffer, n_ubatch x 4 x (n_vocab + 2 n_embd) bytes (300 MiB for
  Qwen2.5-0.5B), but our engine keeps logits for one token per batch, so most
  of it is never touched: the engine child's measured resident memory beyond
  weights and KV is 37 MiB (49k vocab) and 92 MiB (152k vocab).

Measured against the engine child's peak resident memory at n_ctx 4096:
SmolLM2-135M 291 MB estimated / 283 MB measured, Qwen2.5-0.5B 706 / 721 MB.
Qwen2.5-1.5B: 1,399 MB estimated, 2,043 MB peak RSS, because llama.cpp copies
its Q4_K tensors into a repacked buffer (597 MiB) while the mapped originals
stay counted in RSS; those are clean page cache the kernel drops under
pressure, and the working set without them (1,402 MB) is what we estimate.

Without layer facts (a catalog entry that lacks them) the KV cache comes from
a rule of thumb on the parameter count, and the estimate says it is rough.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from assistant.models.facts import ModelFacts
from assistant.models.units import size_text

MIB = 1024 * 1024
KV_BYTES_PER_ELEMENT = 2  # f16, llama.cpp's default cache type
RUNTIME_BYTES = 64 * MIB
BYTES_PER_VOCAB_ENTRY = 640
DEFAULT_VOCAB = 152_000  # Qwen2.5/Llama-3 sized; most current small models are at or below it
# Rough KV bytes per token per billion parameters when layers/heads are unknown. Real models
# range from 8 KB (Qwen2.5-7B) to over 100 KB (no grouped-query attention); this is a middle.
ROUGH_KV_BYTES_PER_TOKEN_PER_BILLION = 48 * 1024
MIN_ROUGH_KV_BYTES_PER_TOKEN = 16 * 1024

# Thresholds. "fits" keeps a fifth of the free memory for the window, the document embedder
# and the system; "tight" runs only with little headroom, or once other programs free memory.
FITS_SHARE_OF_AVAILABLE = 0.8
TIGHT_SHARE_OF_TOTAL = 0.8

FITS, TIGHT, WONT_FIT = "fits", "tight", "won't fit"


@dataclass
class MemoryEstimate:
    weights: int
    kv_cache: int
    overhead: int
    n_ctx: int
    rough: bool  # layer facts were missing: the KV cache is a rule of thumb
    basis: str  # where the numbers came from, in words

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead


@dataclass
class FitResult:
    verdict: str  # fits | tight | won't fit
    needed: int
    available: int
    total: int
    estimate: MemoryEstimate
    reason: str

    @property
    def fits(self) -> bool:
        return self.verdict == FITS

    def to_dict(self) -> dict:
        d = asdict(self)
        d["estimate"]["total"] = self.estimate.total
        return d


def kv_cache_bytes(layers: int, n_ctx: int, kv_heads: int, head_dim: int, value_dim: int | None = None) -> int:
    """K and V for every layer and context position, at f16."""
    return layers * n_ctx * kv_heads * (head_dim + (value_dim or head_dim)) * KV_BYTES_PER_ELEMENT


def estimate_memory(facts: ModelFacts, n_ctx: int) -> MemoryEstimate:
    weights = facts.weight_bytes() or 0
    vocab = facts.vocab_size or DEFAULT_VOCAB
    overhead = RUNTIME_BYTES + BYTES_PER_VOCAB_ENTRY * vocab
    if facts.has_kv_facts:
        kv = kv_cache_bytes(facts.layers, n_ctx, facts.kv_heads, facts.head_dim, facts.value_dim)
        rough = False
        basis = "from the model file's header" if facts.from_file else "from the catalog's layer facts"
    else:
        billions = (facts.parameter_count() or 0) / 1e9
        per_token = max(MIN_ROUGH_KV_BYTES_PER_TOKEN, ROUGH_KV_BYTES_PER_TOKEN_PER_BILLION * billions)
        kv = int(per_token * n_ctx)
        rough = True
        basis = "rough: the catalog lacks this model's layer facts, so its memory for context is a rule of thumb"
    if not facts.size_bytes:
        rough = True
        basis += "; the file size is estimated from parameters and quantization"
    elif facts.size_approx:
        basis += "; the file size is the catalog's rounded figure"
    return MemoryEstimate(weights=weights, kv_cache=kv, overhead=overhead, n_ctx=n_ctx, rough=rough, basis=basis)


def classify(needed: int, available: int, total: int) -> tuple[str, str]:
    """(verdict, reason) for `needed` bytes against this machine's memory."""
    need, free, all_ = size_text(needed), size_text(available), size_text(total)
    if needed <= FITS_SHARE_OF_AVAILABLE * available:
        return FITS, f"needs {need} of the {free} free"
    if needed <= available:
        return TIGHT, f"needs {need} and {free} is free: it runs, but little is left for other programs"
    if needed <= TIGHT_SHARE_OF_TOTAL * total:
        return TIGHT, f"needs {need} but only {free} is free (of {all_}): close other programs first"
    return WONT_FIT, f"needs {need}; this computer has {all_} in all"


def system_memory() -> tuple[int, int]:
    """(available, total) bytes of RAM."""
    import psutil

    vm = psutil.virtual_memory()
    return vm.available, vm.total


def check_fit(facts: ModelFacts, n_ctx: int, *, available: int | None = None, total: int | None = None,
              reclaimable: int = 0) -> FitResult:
    """`reclaimable`: memory the currently loaded model would give back when this one replaces it."""
    if available is None or total is None:
        sys_available, sys_total = system_memory()
        available = sys_available if available is None else available
        total = sys_total if total is None else total
    available = min(total, available + reclaimable)
    estimate = estimate_memory(facts, n_ctx)
    verdict, reason = classify(estimate.total, available, total)
    if estimate.rough:
        reason += " (rough estimate)"
    return FitResult(verdict=verdict, needed=estimate.total, available=available, total=total,
                     estimate=estimate, reason=reason)


@dataclass(frozen=True)
class Memory:
    """This computer's memory, read once for a whole view, so every "free" figure in it is one number.

    Free means free now plus what the loaded model holds: one model is loaded at a time, so the
    model chosen next gets that memory back.
    """

    available: int  # free now
    total: int
    reclaimable: int = 0  # held by the loaded model

    @property
    def free(self) -> int:
        return min(self.total, self.available + self.reclaimable)

    def fit(self, facts: ModelFacts, n_ctx: int) -> FitResult:
        return check_fit(facts, n_ctx, available=self.available, total=self.total, reclaimable=self.reclaimable)


def read_memory(engine=None) -> Memory:
    available, total = system_memory()
    return Memory(available, total, engine_rss(engine) if engine is not None else 0)


def download_warning(fit: FitResult, display_name: str, download_bytes: int | None = None) -> str | None:
    """What to ask before downloading a model estimated not to fit, or only tightly; None when it fits."""
    if fit.verdict == FITS:
        return None
    rough = " (a rough estimate)" if fit.estimate.rough else ""
    text = (f"{display_name} needs about {size_text(fit.needed)} of memory{rough}; this computer has "
            f"{size_text(fit.available)} free, of {size_text(fit.total)} in all. ")
    if fit.verdict == WONT_FIT:
        text += "It will probably not load, or will be very slow."
    elif fit.needed > fit.available:
        text += "It may not load or may be very slow unless you close other programs first."
    else:
        text += "It should load, but little memory will be left for other programs, and it may be slow."
    size = f" ({size_text(download_bytes)})" if download_bytes else ""
    return f"{text}\n\nDownload it{size} anyway?"


def engine_rss(engine) -> int:
    """Resident memory of the engine child (what unloading its model would mostly give back)."""
    import psutil

    pid = getattr(engine, "pid", None)
    if pid is None or getattr(engine, "loaded", None) is None:
        return 0
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0
