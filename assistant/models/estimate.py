"""Speed of a model not measured yet, estimated from the models that were.

On a CPU, generating a token reads every weight once, so generation is bound
by memory bandwidth: seconds per token = overhead + bytes of weights /
bandwidth. Reading the prompt is bound by arithmetic: seconds per prompt
token = overhead + parameters / throughput. The overhead (sampling over the
vocabulary, per-layer scheduling, the pipe) is what the plain "tokens/s ~ k /
size" law leaves out, and it dominates the smallest models: a line fitted
through the measured models' seconds per token (least squares) keeps it.
With one measured model, or a line that would need a negative overhead
(noise), the ratio law is used: overhead 0, slope the geometric mean, i.e.
least squares in log space with the exponent fixed at -1.

Leave-one-out on this machine (2 cores, 2026-11-24): Qwen2.5-Coder-1.5B
estimated from SmolLM2-135M and Qwen2.5-Coder-0.5B: generation 28.1 vs 30.1
measured tokens/s (-7%), prompt 184 vs 153 tokens/s (+20%), first token at
1,000 tokens 5.5 vs 6.5 s (-16%). The ratio law alone: -48%, -62%, +167%.
An estimate always says how many models it was calibrated on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from assistant.models.facts import ModelFacts
from assistant.store.model_speed import SpeedMeasurement, SpeedStore

REFERENCE_PROMPT_TOKENS = 1000  # time to first token is quoted for a ~1,000-token document question


@dataclass
class TimeLaw:
    """Seconds per token = overhead_s + per_unit_s x size (bytes of weights, or parameters)."""

    overhead_s: float
    per_unit_s: float

    def rate(self, size: float) -> float:
        return 1 / (self.overhead_s + self.per_unit_s * size)


def fit_law(points: list[tuple[float, float]], affine: bool = True) -> TimeLaw:
    """Fit on (size, tokens/s) points: a line through the seconds per token when two sizes or more
    allow one with a non-negative overhead, else the ratio law (overhead 0, slope = geometric mean)."""
    ratio = TimeLaw(0.0, math.exp(sum(math.log(1 / (rate * size)) for size, rate in points) / len(points)))
    if not affine or len({size for size, _ in points}) < 2:
        return ratio
    xs, ts = [size for size, _ in points], [1 / rate for _, rate in points]
    mx, mt = sum(xs) / len(xs), sum(ts) / len(ts)
    slope = sum((x - mx) * (t - mt) for x, t in zip(xs, ts, strict=True)) / sum((x - mx) ** 2 for x in xs)
    overhead = mt - slope * mx
    if slope <= 0 or overhead < 0:
        return ratio
    return TimeLaw(overhead, slope)


@dataclass
class Calibration:
    gen: TimeLaw  # against bytes of weights
    pp: TimeLaw  # against parameters
    models: list[str]

    @property
    def count(self) -> int:
        return len(self.models)


@dataclass
class SpeedFigure:
    """Speed as the models page shows it: measured here, or estimated (and from how many models)."""

    gen_tokens_per_s: float
    pp_tokens_per_s: float
    ttft_s: float  # for a REFERENCE_PROMPT_TOKENS prompt
    measured: bool
    calibrated_on: int = 0  # for an estimate: how many measured models it rests on
    measured_at: str | None = None
    peak_rss_bytes: int | None = None
    load_s: float | None = None

    def label(self) -> str:
        if self.measured:
            return f"{self.gen_tokens_per_s:.1f} tok/s, first token {self.ttft_s:.1f}s (measured)"
        models = "model" if self.calibrated_on == 1 else "models"
        return (f"~{self.gen_tokens_per_s:.0f} tok/s, first token ~{self.ttft_s:.0f}s "
                f"(estimate from {self.calibrated_on} measured {models})")

    def to_dict(self) -> dict:
        return asdict(self)


def calibrate(measurements: list[SpeedMeasurement], affine: bool = True) -> Calibration | None:
    usable = [m for m in measurements if m.gen_tokens_per_s and m.pp_tokens_per_s and m.file_size and m.parameters]
    if not usable:
        return None
    return Calibration(gen=fit_law([(m.file_size, m.gen_tokens_per_s) for m in usable], affine),
                       pp=fit_law([(m.parameters, m.pp_tokens_per_s) for m in usable], affine),
                       models=[m.model for m in usable])


def estimate_speed(facts: ModelFacts, calibration: Calibration) -> SpeedFigure | None:
    weights, parameters = facts.weight_bytes(), facts.parameter_count()
    if not weights or not parameters:
        return None
    gen = calibration.gen.rate(weights)
    pp = calibration.pp.rate(parameters)
    # The first token follows the whole prompt plus one generation step.
    ttft = REFERENCE_PROMPT_TOKENS / pp + 1 / gen
    return SpeedFigure(gen_tokens_per_s=gen, pp_tokens_per_s=pp, ttft_s=ttft, measured=False,
                       calibrated_on=calibration.count)


def measured_figure(m: SpeedMeasurement) -> SpeedFigure:
    return SpeedFigure(gen_tokens_per_s=m.gen_tokens_per_s, pp_tokens_per_s=m.pp_tokens_per_s,
                       ttft_s=m.ttft_for(REFERENCE_PROMPT_TOKENS), measured=True, measured_at=m.measured_at,
                       peak_rss_bytes=m.peak_rss_bytes, load_s=m.load_s)


class SpeedBook:
    """Measured figures where there are any, estimates elsewhere; one read of the table."""

    def __init__(self, measurements: dict[str, SpeedMeasurement]):
        self.measurements = measurements
        self.calibration = calibrate(list(measurements.values()))

    @classmethod
    def load(cls, db) -> SpeedBook:
        return cls(SpeedStore(db).all_latest())

    def figure(self, facts: ModelFacts) -> SpeedFigure | None:
        m = self.measurements.get(facts.name)
        if m is not None:
            return measured_figure(m)
        if self.calibration is None:
            return None
        return estimate_speed(facts, self.calibration)


@dataclass
class LeaveOneOut:
    model: str
    calibrated_on: list[str]
    measured: SpeedFigure
    estimated: SpeedFigure

    def error(self, field: str) -> float:
        """Relative error of the estimate, e.g. +0.12 = 12% too optimistic."""
        return getattr(self.estimated, field) / getattr(self.measured, field) - 1

    def summary(self) -> str:
        m, e = self.measured, self.estimated
        return (f"{self.model}: estimated from {', '.join(self.calibrated_on)}: generation "
                f"{e.gen_tokens_per_s:.1f} vs measured {m.gen_tokens_per_s:.1f} tok/s "
                f"({self.error('gen_tokens_per_s'):+.0%}), prompt {e.pp_tokens_per_s:.0f} vs "
                f"{m.pp_tokens_per_s:.0f} tok/s ({self.error('pp_tokens_per_s'):+.0%}), first token at "
                f"{REFERENCE_PROMPT_TOKENS:,} tokens {e.ttft_s:.1f} vs {m.ttft_s:.1f}s ({self.error('ttft_s'):+.0%})")


def leave_one_out(measurements: dict[str, SpeedMeasurement], name: str, affine: bool = True) -> LeaveOneOut | None:
    """Estimate `name` from every other measured model and compare with its own measurement."""
    target = measurements.get(name)
    others = [m for n, m in measurements.items() if n != name]
    calibration = calibrate(others, affine)
    if target is None or calibration is None:
        return None
    facts = ModelFacts(name=name, display_name=name, installed=True, size_bytes=target.file_size,
                       parameters=target.parameters, quantization=target.quantization)
    return LeaveOneOut(model=name, calibrated_on=calibration.models, measured=measured_figure(target),
                       estimated=estimate_speed(facts, calibration))
