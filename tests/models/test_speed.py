"""Measured speed through the real engine, estimates calibrated on stored rows, recommendations."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading

import pytest

from assistant.models.catalog import CatalogEntry
from assistant.models.estimate import SpeedBook, calibrate, estimate_speed, fit_law, leave_one_out
from assistant.models.facts import ModelFacts, facts_from_installed
from assistant.models.fit import estimate_memory
from assistant.models.recommend import candidates, recommend
from assistant.models.speed import MeasurementCancelled, measure_model, measure_unmeasured, sized_rag_messages
from assistant.store.model_speed import SpeedMeasurement, SpeedStore
from tests.conftest import QWEN, SMOL

GB = 10**9


def row(model, gen, pp, size, params, **more) -> SpeedMeasurement:
    return SpeedMeasurement(model=model, pp_tokens_per_s=pp, gen_tokens_per_s=gen, ttft_s=1000 / pp, load_s=0.5,
                            peak_rss_bytes=size + 200_000_000, prompt_tokens=1000, gen_tokens=96, file_size=size,
                            parameters=params, **more)


def test_bench_stores_a_plausible_measurement(core):
    events = []
    m = measure_model(core, SMOL, progress=events.append, prompt_tokens=200, gen_tokens=12, repeats=2)
    stored = SpeedStore(core.db).latest(SMOL)
    assert stored is not None and stored.id == m.id
    assert dataclasses.replace(stored, measured_at=None) == dataclasses.replace(m, measured_at=None)
    assert 180 <= m.prompt_tokens <= 220  # the document question was sized for this model's tokenizer
    assert 10 < m.pp_tokens_per_s < 100_000 and 1 < m.gen_tokens_per_s < 10_000
    assert 0 < m.ttft_s < 60 and 0 < m.load_s < 60 and m.gen_tokens >= 12
    assert m.n_threads == core.settings.generation.threads()[0] and m.app_version == "0.1.0"
    assert m.file_size == 98_362_432 and m.parameters == 134_515_008 and m.quantization == "Q4_1"
    # Peak memory of the engine child: more than the weights, and close to what the fit check predicted.
    predicted = estimate_memory(facts_from_installed(core.registry.get(SMOL)), m.n_ctx).total
    assert m.file_size < m.peak_rss_bytes < 2 * GB
    assert abs(m.peak_rss_bytes / predicted - 1) < 0.2, (m.peak_rss_bytes, predicted)
    phases = [e.phase for e in events]
    assert phases[0] == "loading" and phases[-1] == "saved" and "generating" in phases
    assert [e.fraction for e in events] == sorted(e.fraction for e in events)
    assert sum("(2 of 2)" in e.message for e in events) == 1  # asked twice, the fastest kept


def test_a_measurement_taken_while_other_programs_compute_is_not_stored(core, monkeypatch):
    from assistant.models import cpu_load
    from assistant.models.cpu_load import MachineBusy, OtherLoad

    monkeypatch.setattr(cpu_load, "BUSY_SHARE", 0.3)  # as shipped (the suite's own fixture lifts it)
    before = SpeedStore(core.db).latest(SMOL)
    # Programs that keep every core busy, as the app's own chat engine writing an answer does.
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        load = OtherLoad()
        with pytest.raises(MachineBusy, match="it was not kept"):
            measure_model(core, SMOL, prompt_tokens=200, gen_tokens=12)
        assert load.share() > 0.3
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    after = SpeedStore(core.db).latest(SMOL)
    assert (after and after.id) == (before and before.id)  # the stored figure, if any, is left alone


def test_a_cancelled_bench_stores_nothing_and_frees_the_core_engine(core):
    cancel = threading.Event()

    def progress(event):
        if event.phase == "reading the prompt":
            cancel.set()  # as the user clicking Stop while the prompt is read

    core.load_model(SMOL)
    with pytest.raises(MeasurementCancelled):
        measure_model(core, SMOL, progress=progress, cancel=cancel, prompt_tokens=400, gen_tokens=50,
                      engine=core.engine)
    assert SpeedStore(core.db).latest(SMOL) is None
    assert core.model is None and core.engine.loaded is None
    assert core.load_model(SMOL).n_ctx == core.settings.generation.n_ctx  # the engine still works


def test_the_prompt_is_sized_in_the_models_own_tokens(smol_core):
    for target in (300, 1000):
        n = smol_core.engine.count_tokens(sized_rag_messages(smol_core.engine, target))
        assert abs(n - target) <= 0.05 * target
    messages = sized_rag_messages(smol_core.engine, 1000)
    assert "[1]" in messages[1]["content"] and "[3]" in messages[1]["content"]
    assert "Question:" in messages[1]["content"]


def test_measure_unmeasured_measures_only_what_has_no_row(core):
    store = SpeedStore(core.db)
    for model in core.chat_models():
        if model.name != SMOL:
            store.save(row(model.name, 50, 400, model.size_bytes, model.parameters or 1))
    events = []
    results = measure_unmeasured(core, events.append, prompt_tokens=120, gen_tokens=8, engine=core.engine)
    assert [r.model for r in results] == [SMOL]
    assert store.latest(SMOL).id == results[0].id
    assert {(e.index, e.count) for e in events} == {(0, 1)}
    assert measure_unmeasured(core, events.append) == []  # nothing left to measure

    stopped = threading.Event()
    stopped.set()
    store.db.execute("delete from model_speed where model = ?", [SMOL])
    assert measure_unmeasured(core, cancel=stopped) == []
    assert store.latest(SMOL) is None


def test_estimates_are_calibrated_from_stored_rows(core):
    store = SpeedStore(core.db)
    # Generation ∝ 1/bytes and prompt ∝ 1/parameters with k_gen = 1.6e10, k_pp = 2e11 on both models.
    store.save(row("a", gen=160, pp=2000, size=100_000_000, params=100_000_000))
    store.save(row("b", gen=32, pp=400, size=500_000_000, params=500_000_000))
    book = SpeedBook.load(core.db)
    assert book.calibration.count == 2
    assert book.calibration.gen.overhead_s == pytest.approx(0, abs=1e-12)
    assert book.calibration.gen.per_unit_s == pytest.approx(1 / 1.6e10)
    assert book.calibration.pp.per_unit_s == pytest.approx(1 / 2e11)
    facts = ModelFacts(name="c", display_name="C", installed=False, size_bytes=1_000_000_000,
                       parameters=2_000_000_000, quantization="Q4_K_M")
    figure = book.figure(facts)
    assert not figure.measured and figure.calibrated_on == 2
    assert figure.gen_tokens_per_s == pytest.approx(16) and figure.pp_tokens_per_s == pytest.approx(100)
    assert figure.ttft_s == pytest.approx(1000 / 100 + 1 / 16)
    assert "estimate from 2 measured models" in figure.label()
    measured = book.figure(dataclasses.replace(facts, name="a"))
    assert measured.measured and measured.gen_tokens_per_s == 160 and "(measured)" in measured.label()
    # A newer measurement replaces the older one.
    store.save(row("a", gen=80, pp=1000, size=100_000_000, params=100_000_000))
    assert SpeedBook.load(core.db).figure(dataclasses.replace(facts, name="a")).gen_tokens_per_s == 80


def test_a_fixed_per_token_cost_is_fitted_when_two_sizes_allow_it():
    # 4 ms per token whatever the size, plus the weights read at 20 GB/s.
    def law(size):
        return 1 / (0.004 + size / 2e10)

    fitted = fit_law([(1e8, law(1e8)), (5e8, law(5e8)), (1e9, law(1e9))])
    assert fitted.overhead_s == pytest.approx(0.004) and fitted.per_unit_s == pytest.approx(1 / 2e10)
    assert fitted.rate(5e9) == pytest.approx(law(5e9))
    ratio = fit_law([(1e8, law(1e8)), (1e9, law(1e9))], affine=False)
    assert ratio.overhead_s == 0 and ratio.rate(5e9) < law(5e9)  # without the overhead it is pessimistic
    # A bigger model measured faster than a smaller one (noise) gives no sensible line: back to the ratio law.
    noisy = fit_law([(1e8, 100.0), (1e9, 120.0)])
    assert noisy.overhead_s == 0 and noisy.per_unit_s == pytest.approx(((1 / 1e10) * (1 / 1.2e11)) ** 0.5)
    one = fit_law([(1e8, 100.0)])
    assert one.rate(1e9) == pytest.approx(10)


def test_leave_one_out_reports_the_estimate_error():
    rows = {"a": row("a", 160, 2000, 100_000_000, 100_000_000), "b": row("b", 32, 400, 500_000_000, 500_000_000),
            "c": row("c", 20, 80, 1_000_000_000, 2_000_000_000)}  # c: really 20 tok/s, where 16 is predicted
    check = leave_one_out(rows, "c")
    assert check.calibrated_on == ["a", "b"]
    assert check.estimated.gen_tokens_per_s == pytest.approx(16)
    assert check.error("gen_tokens_per_s") == pytest.approx(-0.2)
    assert check.error("pp_tokens_per_s") == pytest.approx(100 / 80 - 1)
    assert "-20%" in check.summary()
    assert leave_one_out({"a": rows["a"]}, "a") is None  # nothing left to calibrate on
    assert calibrate([]) is None
    assert estimate_speed(ModelFacts("x", "X", False, None, None, None), calibrate(list(rows.values()))) is None


def _entry(name, params, size) -> CatalogEntry:
    return CatalogEntry(name=name, kind="chat", display_name=name, family=None, repo_id="o/r",
                        filename=f"{name}.gguf", quantization="Q4_K_M", size_bytes=size, sha256=None,
                        parameters=params, context_length=32768, license=None, description="",
                        layers=24, kv_heads=2, head_dim=64)


def test_recommend_picks_the_largest_that_fits_and_is_fast_enough(core):
    store = SpeedStore(core.db)
    smol, qwen = core.registry.get(SMOL), core.registry.get(QWEN)
    # Measured rows on which k_gen = 2e10 bytes x tokens/s and k_pp = 1e12 parameters x tokens/s.
    store.save(row(SMOL, 2e10 / smol.size_bytes, 1e12 / smol.parameters, smol.size_bytes, smol.parameters))
    store.save(row(QWEN, 2e10 / qwen.size_bytes, 1e12 / qwen.parameters, qwen.size_bytes, qwen.parameters))
    # Estimated: one-b 25 tok/s, first token 1.0 s; three-b 12.5 tok/s, 3.1 s; eight-b 4 tok/s, 8.3 s.
    entries = [_entry("one-b", 1_000_000_000, 800_000_000), _entry("three-b", 3_000_000_000, 1_600_000_000),
               _entry("eight-b", 8_000_000_000, 5_000_000_000)]
    roomy = [c for c in candidates(core, entries, available=16 * GB, total=32 * GB, reclaimable=0)
             if c.name in {SMOL, QWEN} or not c.installed]
    by_name = {c.name: c for c in roomy}
    assert by_name[SMOL].speed.measured and by_name[SMOL].speed.gen_tokens_per_s == pytest.approx(203.3, abs=0.1)
    three = by_name["three-b"].speed
    assert not three.measured and three.calibrated_on == 2 and three.gen_tokens_per_s == pytest.approx(12.5)

    def choice(tps, ttft, pool=roomy):
        rec = recommend(core, tps, ttft, pool=pool)
        return rec.choice.name if rec.choice else None

    assert choice(10, 5) == "three-b"  # eight-b is too slow
    assert choice(20, 5) == "one-b"
    assert choice(60, 5) == SMOL  # only the 135M model reaches 60 tok/s
    assert choice(10, 1.5) == "one-b"  # three-b's first token comes too late
    assert choice(1, 60) == "eight-b"
    assert choice(1000, 5) is None
    # Every model bigger than the choice misses a target.
    chosen = by_name[choice(10, 5)]
    assert all(not c.meets(10, 5)[0] for c in roomy if c.facts.parameters > chosen.facts.parameters)
    # With little memory the big ones do not fit, however fast they would be.
    small = [c for c in candidates(core, entries, available=2 * GB, total=4 * GB, reclaimable=0)
             if c.name in by_name]
    assert {c.name: c.fit.verdict for c in small if not c.installed} == {
        "one-b": "fits", "three-b": "tight", "eight-b": "won't fit"}
    assert choice(1, 60, small) == "one-b"
    # The user's settings are the default targets.
    core.settings.target_tokens_per_s, core.settings.target_ttft_s = 60, 5
    assert recommend(core, pool=roomy).choice.name == SMOL


def test_the_engine_exposes_its_child_pid_for_memory_figures(core, tmp_path):
    import os

    import psutil

    from assistant.llm.client import EngineClient
    from assistant.models.speed import peak_rss

    engine = EngineClient(log_path=tmp_path / "engine.log")
    assert engine.pid is None  # no child before the first load
    try:
        engine.load(core.registry.get(SMOL).path)
        child = psutil.Process(engine.pid)
        assert child.ppid() == os.getpid()
        assert peak_rss(engine.pid) >= child.memory_info().rss > 98_362_432 // 2
    finally:
        engine.close()
    assert engine.pid is None
