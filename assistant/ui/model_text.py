"""Text the models page and the model selector show, as plain functions (no Qt: testable alone)."""

from __future__ import annotations

from assistant.models.download import DownloadProgress
from assistant.models.estimate import SpeedFigure
from assistant.models.fit import FITS, TIGHT, FitResult
from assistant.models.jobs import ImportProgress
from assistant.models.speed import SpeedProgress
from assistant.models.units import size_text
from assistant.store.model_speed import SpeedMeasurement
from assistant.ui.formatting import rate

NOT_MEASURED = "Speed: not measured yet"


def params_text(n: int | None) -> str:
    if not n:
        return "? params"
    return f"{n / 1e9:.1f}B params" if n >= 1e9 else f"{n / 1e6:.0f}M params"


def fit_badge(fit: FitResult | None) -> tuple[str, str]:
    """(badge text, tone) where tone is good | warn | bad | none (the style sheet colours it)."""
    if fit is None:
        return "", "none"
    rough = " (rough)" if fit.estimate.rough else ""
    if fit.verdict == FITS:
        return f"Fits{rough}", "good"
    if fit.verdict == TIGHT:
        return f"Tight{rough}", "warn"
    return f"Won't fit{rough}", "bad"


def ram_text(fit: FitResult | None) -> str:
    if fit is None:
        return ""
    e = fit.estimate
    approx = "about " if e.rough else ""
    return f"needs {approx}{size_text(fit.needed)} of RAM at {e.n_ctx:,} tokens of context ({size_text(fit.available)} free)"


def ram_tooltip(fit: FitResult | None) -> str:
    if fit is None:
        return ""
    e = fit.estimate
    return (f"{fit.reason}.\nModel weights {size_text(e.weights)} + context {size_text(e.kv_cache)} ({e.n_ctx:,} tokens) "
            f"+ runtime {size_text(e.overhead)}.\nFigures {e.basis}.")


def speed_text(figure: SpeedFigure | None) -> str:
    """Measured figures as they are; an estimate says so, and from how many measured models."""
    if figure is None:
        return NOT_MEASURED
    if figure.measured:
        return (f"{figure.gen_tokens_per_s:.1f} tokens/s · first token in {figure.ttft_s:.1f} s "
                "(measured on this computer)")
    models = "model" if figure.calibrated_on == 1 else "models"
    return (f"Estimated: ~{rate(figure.gen_tokens_per_s)} tokens/s · first token in ~{figure.ttft_s:.0f} s "
            f"(from {figure.calibrated_on} measured {models}; not measured yet)")


def measured_detail(m: SpeedMeasurement | None) -> str:
    if m is None:
        return ""
    when = (m.measured_at or "")[:10]
    threads = f", {m.n_threads} threads" if m.n_threads else ""
    return f"Measured {when}{threads}: prompt {m.pp_tokens_per_s:,.0f} tokens/s, load {m.load_s:.1f} s"


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def download_progress_text(p: DownloadProgress) -> str:
    if p.phase == "checking":
        return "Asking the model hub…"
    if p.phase == "installing":
        return "Checking the file and installing…"
    if p.phase == "done":
        return "Installed."
    share = f"{p.bytes_done / p.bytes_total:.0%} · " if p.bytes_total else ""
    of = f" of {size_text(p.bytes_total)}" if p.bytes_total else ""
    if p.phase == "verifying":
        return f"Verifying the SHA-256 fingerprint… {share.rstrip(' ·')}"
    parts = [f"{share}{size_text(p.bytes_done) if p.bytes_done else '0 MB'}{of}"]
    if p.speed_bps:
        parts.append(f"{p.speed_bps / 1e6:.1f} MB/s")
    if p.eta_s is not None:
        parts.append(f"{duration_text(p.eta_s)} left")
    return " · ".join(parts)


def percent(done: int, total: int | None) -> int:
    return int(done * 100 / total) if total else 0


def import_progress_text(p: ImportProgress) -> str:
    return f"{percent(p.bytes_done, p.bytes_total)}% · {size_text(p.bytes_done)} of {size_text(p.bytes_total)}"


def bench_progress_text(p: SpeedProgress) -> str:
    return p.message
