"""Where the app keeps its files, and its typed settings.

One environment variable, ASSISTANT_HOME, moves all app data (database,
models, vectors, settings, logs) into one folder: tests and portable installs
use it. Without it the platform's user folders are used (platformdirs).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "assistant"
HOME_ENV = "ASSISTANT_HOME"
DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


@dataclass(frozen=True)
class Paths:
    data: Path
    config: Path
    cache: Path
    logs: Path

    @property
    def database(self) -> Path:
        return self.data / "assistant.db"

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def embedders(self) -> Path:
        return self.data / "embedders"

    @property
    def vectors(self) -> Path:
        return self.data / "vectors"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def ensure(self) -> Paths:
        for folder in (self.data, self.config, self.cache, self.logs, self.models):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise folder_unusable(folder, exc) from exc
        return self


def folder_unusable(folder: Path, exc: OSError):
    """The error for an app folder that cannot be created (a read-only disk, a file in its place)."""
    from assistant.errors import UserFacingError

    return UserFacingError(f"The app cannot use the folder {folder}: {exc.strerror or exc}.",
                           hint=f"Set {HOME_ENV} to a folder you can write to, or fix that one.")


def paths() -> Paths:
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        found = Paths(data=root / "data", config=root / "config", cache=root / "cache", logs=root / "logs")
    else:
        found = Paths(
            data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )
    moved = chosen_data_folder(found.settings_file)
    return dataclasses.replace(found, data=moved) if moved else found


def chosen_data_folder(settings_file: Path) -> Path | None:
    """The data folder the user chose in the settings, if any. It is read when the app starts, so a
    change takes effect at the next start (the open database and vectors stay where they are)."""
    try:
        folder = json.loads(settings_file.read_text(encoding="utf-8")).get("data_folder")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(folder).expanduser() if isinstance(folder, str) and folder.strip() else None


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


class _Plain:
    """A settings dataclass as a dict and back; keys it does not know (older or newer files) are ignored."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class GenerationSettings(_Plain):
    """Sampling and runtime knobs for one generation. None means "the model's default"."""

    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    n_ctx: int = 4096
    seed: int | None = None
    # llama-cpp-python's default is half the cores: one thread on a two-core laptop.
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_batch: int = 512
    # Flash attention keeps follow-up turns fast as the history grows (measured: turn-5/turn-1 TTFT 1.07 vs 1.26).
    flash_attn: bool = True

    def threads(self) -> tuple[int, int]:
        cores = physical_cores()
        return (self.n_threads or cores, self.n_threads_batch or self.n_threads or cores)

    def load_key(self) -> tuple:
        """What a model is loaded with; sampling knobs change per answer and need no reload."""
        return (self.n_ctx, self.threads(), self.n_batch, self.flash_attn)


@dataclass
class RetrievalSettings(_Plain):
    """How a question over documents is answered; see assistant.answer."""

    k: int = 8  # chunks retrieved (shown in the panel)
    prompt_sources: int = 3  # at most this many go into the prompt (recall@3 is what counts)
    source_token_budget: int = 1200
    min_vector_score: float = 0.20  # below this on every source: abstain without asking the model
    evidence_sentences: int = 4  # at most this many of the best-matching sentences of those sources are shown
    # ... and only those whose match is within this of the best one's: a 0.5B model copies from a
    # clearly weaker sentence shown next to the right one. See assistant.knowledge.evidence.
    evidence_margin: float = 0.08
    # The model that is asked whether the shown sentences answer the question ("auto" = the
    # catalog's default checker when it is installed, larger and fits, else the answering model;
    # "" = the answering model), and its P(yes) below which the answer abstains (None = the
    # threshold calibrated for that model in the catalog). See assistant.answer_check. (Settings
    # files written before the calibration hold a fixed "min_answer_belief" of 0.30, which is ignored.)
    check_model: str = "auto"  # = answer_check.AUTO
    check_threshold: float | None = None
    # llama.cpp's repeat penalty also counts the prompt's last 64 tokens, so under the chat default
    # (1.1) an answer avoids the question's and the sources' own words: "non-determinism" for
    # "non-deterministic time", "[1]" for "DTIME(f(n))". An answer over documents should quote them.
    answer_repeat_penalty: float = 1.0
    # A document answer picks each most likely word (0) unless it is a Regenerate, which samples at
    # the chat's temperature for another answer. The eval measures greedy answers; sampled at the
    # chat's 0.7 the app's answers would not be the ones measured.
    answer_temperature: float = 0.0
    # The retrieved passages are re-ordered by their best sentence's match before the prompt's are
    # chosen (see assistant.answer.rerank_by_sentence).
    rerank_by_sentence: bool = True
    fusion: str = "weighted"  # measured on squad2-dev: recall@3 0.969 vs 0.956 for RRF
    vector_weight: float = 0.5  # weighted fusion: the meaning (vector) side's share, the rest is keywords


THEMES = ("system", "light", "dark")


@dataclass
class Settings:
    default_model: str = DEFAULT_MODEL
    system_prompt: str = "You are a helpful, concise assistant running privately on the user's computer."
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    # What "fast enough" means when recommending a model: generation speed, and time to first
    # token on a ~1,000-token document question (3 sources + a question).
    target_tokens_per_s: float = 10.0
    target_ttft_s: float = 5.0
    # "onnx" (onnxruntime, the same vectors as sentence-transformers without importing torch, which
    # holds the GIL for half a second and froze the window on the first indexing run), "onnx-int8",
    # or "torch" (sentence-transformers): see knowledge/embedder.py.
    embedding_backend: str = "onnx"  # = knowledge.embedder.DEFAULT_BACKEND
    # Measure installed models not measured yet, in the background after start (paused while the
    # user is answered or indexing). Cancelling such a measurement turns this off.
    measure_in_background: bool = True
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    theme: str = "system"  # one of THEMES
    # Empty: the platform's data folder (or ASSISTANT_HOME/data). Read at start, see chosen_data_folder.
    data_folder: str = ""

    @classmethod
    def load(cls, where: Paths | None = None) -> Settings:
        file = (where or paths()).settings_file
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):
            # A damaged settings file must not keep the app from starting.
            return cls()
        generation = GenerationSettings.from_dict(raw.get("generation", {}))
        return cls(
            default_model=raw.get("default_model", DEFAULT_MODEL),
            system_prompt=raw.get("system_prompt", cls.system_prompt),
            generation=generation,
            target_tokens_per_s=float(raw.get("target_tokens_per_s", cls.target_tokens_per_s)),
            target_ttft_s=float(raw.get("target_ttft_s", cls.target_ttft_s)),
            embedding_backend=str(raw.get("embedding_backend", cls.embedding_backend)),
            measure_in_background=bool(raw.get("measure_in_background", cls.measure_in_background)),
            retrieval=RetrievalSettings.from_dict(raw.get("retrieval") or {}),
            theme=raw.get("theme") if raw.get("theme") in THEMES else cls.theme,
            data_folder=str(raw.get("data_folder") or ""),
        )

    def save(self, where: Paths | None = None) -> None:
        target = (where or paths()).ensure().settings_file
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, target)
