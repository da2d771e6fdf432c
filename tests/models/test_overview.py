"""What the models page and selector show, computed without Qt, over the real core and starter models."""

from __future__ import annotations

import errno

from assistant.models.catalog import CatalogEntry
from assistant.models.download import DownloadProgress
from assistant.models.download_store import record_started, record_state
from assistant.models.fit import Memory
from assistant.models.jobs import describe_job_error
from assistant.models.overview import catalog_view, download_states, installed_view
from assistant.store.model_speed import SpeedMeasurement, SpeedStore
from assistant.ui.model_text import download_progress_text, duration_text, speed_text
from tests.conftest import QWEN, SMOL

MEMORY = Memory(available=8 * 10**9, total=16 * 10**9)


def _entry(name="fake-model", **more) -> CatalogEntry:
    fields = dict(name=name, kind="chat", display_name="Fake Model", family="Fake", repo_id="org/fake-GGUF",
                  filename="fake.gguf", quantization="Q4_K_M", size_bytes=100_000_000, sha256=None,
                  parameters=150_000_000, context_length=4096, license="mit", description="")
    return CatalogEntry(**{**fields, **more})


def test_an_unfinished_download_is_read_back_with_the_bytes_on_disk(core):
    entry = _entry()
    partial = core.paths.models / ".partial" / "fake.gguf.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"x" * 12_345)
    record_started(core.db, entry, partial, "main")
    record_state(core.db, entry.name, "cancelled", error="The download of Fake Model was cancelled.", bytes_done=1)

    (state,) = download_states(core.db).values()
    assert (state.state, state.bytes_kept, state.bytes_total) == ("cancelled", 12_345, 100_000_000)
    assert state.entry == entry and state.error.startswith("The download of Fake Model")
    # An entry the catalog no longer lists is still offered, so its bytes can be resumed.
    view = catalog_view(core, [], memory=MEMORY)
    assert [i.name for i in view.items] == ["fake-model"] and view.items[0].download == state
    record_state(core.db, entry.name, "done")
    assert download_states(core.db) == {}


def test_installed_models_are_ordered_by_size_and_the_recommendation_is_among_them(core):
    items = installed_view(core, 4096, memory=MEMORY)
    chat = [i for i in items if i.is_chat]
    assert [i.name for i in chat][:2] == [SMOL, QWEN] and not items[-1].is_chat
    assert all(i.speed is None and not i.recommended for i in items)
    bigger = installed_view(core, 32768, memory=MEMORY)
    assert bigger[0].fit.needed > chat[0].fit.needed

    model = core.registry.get(SMOL)
    SpeedStore(core.db).save(SpeedMeasurement(
        model=SMOL, pp_tokens_per_s=2000, gen_tokens_per_s=80, ttft_s=0.5, load_s=0.1, peak_rss_bytes=None,
        prompt_tokens=1000, gen_tokens=96, file_size=model.size_bytes, parameters=model.parameters))
    items = installed_view(core, 4096, memory=MEMORY)
    smol = next(i for i in items if i.name == SMOL)
    assert smol.speed.measured and smol.measurement.gen_tokens_per_s == 80
    assert speed_text(smol.speed) == "80.0 tokens/s · first token in 0.5 s (measured on this computer)"
    others = [i for i in items if i.is_chat and i.name != SMOL]
    assert all(not i.speed.measured and i.speed.calibrated_on == 1 for i in others)
    assert speed_text(others[0].speed).startswith("Estimated: ~")
    recommended = [i.name for i in items if i.recommended]
    assert len(recommended) == 1  # estimated from SmolLM2's figures, one of them meets the targets


def test_sentences_for_progress_and_failures():
    p = DownloadProgress("m", 25_000_000, 100_000_000, 2_500_000, 30.0, "downloading")
    assert download_progress_text(p) == "25% · 25 MB of 100 MB · 2.5 MB/s · 30 s left"
    assert download_progress_text(DownloadProgress("m", 0, None, None, None, "checking")) == "Asking the model hub…"
    assert [duration_text(s) for s in (4, 89, 3 * 3600 + 60)] == ["4 s", "1 min", "3 h 1 min"]
    full = OSError(errno.ENOSPC, "No space left on device")
    assert describe_job_error("download", "Fake", full) == (
        "The disk filled up while downloading Fake. The part already received is kept; free some space "
        "and choose Resume.")
    assert "details are in the log" in describe_job_error("bench", "Fake", RuntimeError("boom"))
