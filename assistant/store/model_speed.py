"""Measured model speeds on this machine (table model_speed)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlite_utils

from assistant.store.timeutil import now_iso


@dataclass
class SpeedMeasurement:
    model: str
    pp_tokens_per_s: float  # prompt processing, tokens/s
    gen_tokens_per_s: float  # generation after the first token, tokens/s
    ttft_s: float  # question sent -> first answer token, for `prompt_tokens` of prompt
    load_s: float
    peak_rss_bytes: int | None  # the engine child's peak resident memory
    prompt_tokens: int
    gen_tokens: int
    file_size: int
    parameters: int | None = None
    quantization: str | None = None
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_ctx: int | None = None
    n_batch: int | None = None
    flash_attn: bool | None = None
    app_version: str | None = None
    measured_at: str | None = None
    id: int | None = None

    def ttft_for(self, prompt_tokens: int) -> float:
        """Time to first token for a prompt of another length (prompt processing is ~linear in it)."""
        return self.ttft_s * prompt_tokens / self.prompt_tokens

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_row(cls, row: dict) -> SpeedMeasurement:
        fields = {k: row.get(k) for k in cls.__dataclass_fields__}
        if fields["flash_attn"] is not None:
            fields["flash_attn"] = bool(fields["flash_attn"])
        return cls(**fields)


class SpeedStore:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def save(self, m: SpeedMeasurement) -> SpeedMeasurement:
        m.measured_at = m.measured_at or now_iso()
        row = m.to_dict()
        row.pop("id")
        if row["flash_attn"] is not None:
            row["flash_attn"] = int(row["flash_attn"])
        m.id = self.db["model_speed"].insert(row).last_pk
        return m

    def latest(self, model: str) -> SpeedMeasurement | None:
        rows = list(self.db["model_speed"].rows_where("model = ?", [model], order_by="id desc", limit=1))
        return SpeedMeasurement.from_row(rows[0]) if rows else None

    def all_latest(self) -> dict[str, SpeedMeasurement]:
        """The newest measurement of every model ever measured here."""
        rows = self.db.query("select * from model_speed where id in (select max(id) from model_speed group by model)")
        return {r["model"]: SpeedMeasurement.from_row(r) for r in rows}

    def history(self, model: str) -> list[SpeedMeasurement]:
        return [SpeedMeasurement.from_row(r)
                for r in self.db["model_speed"].rows_where("model = ?", [model], order_by="id")]
