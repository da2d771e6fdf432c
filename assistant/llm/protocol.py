"""What the engine sends back: plain, picklable events."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Token:
    text: str


@dataclass
class Notice:
    """Something the user should know that is not an error (e.g. history was trimmed)."""

    kind: str
    message: str
    data: dict = field(default_factory=dict)


@dataclass
class Timings:
    ttft_s: float | None = None  # request received -> first token out
    prompt_s: float | None = None  # prompt processing alone
    tokens_per_s: float | None = None  # generation rate after the first token
    total_s: float | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens reused from the previous turn's cache
    completion_tokens: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Done:
    reason: str  # stop | length | cancelled
    text: str
    timings: Timings
    prompt: str = ""  # the exact text the model saw, for the interpretability panel
    dropped_messages: int = 0


@dataclass
class Error:
    message: str  # a sentence a user understands
    kind: str = "engine"  # engine | load | crash | cancelled
    detail: str = ""  # llama.cpp's own words, for the log and a "details" view


@dataclass
class Loaded:
    path: str
    load_s: float
    n_ctx: int
    n_ctx_train: int
    n_threads: int
    n_threads_batch: int
    chat_template: str
    architecture: str
