"""The starter models are measured in the background after the first start, pause while the user
is answered, and a cancel from the status bar turns background measuring off."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.store.model_speed import SpeedStore
from tests.conftest import QWEN, SMOL
from tests.ui.conftest import ANSWER_TIMEOUT_MS, ask_in_window

SHORT = {"prompt_tokens": 120, "gen_tokens": 8}
MEASURE_TIMEOUT_MS = 120_000


@pytest.fixture
def two_models(smol_core):
    """The registry holds the two smallest starters only, none measured yet."""
    for model in smol_core.registry.all("chat"):
        if model.name not in (SMOL, QWEN):
            smol_core.registry.remove(model.name)
    smol_core.settings.default_model = SMOL
    assert SpeedStore(smol_core.db).all_latest() == {}
    return smol_core


def measuring_window(make_window, busy=lambda: False):
    window = make_window(measure=True)
    window.model_tasks.bench_options = SHORT
    window.background_measuring.quiet_ms = 200
    # The suite's other work keeps the CPU busy; the test of that check sets it itself.
    window.background_measuring.machine_busy = busy
    return window


def test_no_measurement_starts_while_the_machine_is_busy(qtbot, two_models, make_window):
    busy = [True]
    looks = []

    def machine_busy():
        looks.append(busy[0])
        return busy[0]

    window = measuring_window(make_window, machine_busy)
    lane = window.model_tasks.benches
    qtbot.waitUntil(lambda: len(looks) >= 3, timeout=MEASURE_TIMEOUT_MS)  # it looked, and looked again later
    assert lane.running() is None and not lane.queued()
    busy[0] = False
    with qtbot.waitSignal(lane.started, timeout=MEASURE_TIMEOUT_MS) as started:
        pass
    assert started.args == [SMOL]


def test_the_busy_check_reads_the_real_cpu_load():
    """The window tests replace the check (the suite keeps the CPU busy); here it reads psutil while
    two real processes keep both cores busy."""
    import subprocess
    import sys
    import time

    import psutil

    from assistant.ui.background_measure import BackgroundMeasuring

    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(psutil.cpu_count())]
    try:
        time.sleep(0.5)
        BackgroundMeasuring.machine_busy(None)  # the check compares with its previous look: take one
        time.sleep(1.0)
        assert BackgroundMeasuring.machine_busy(None)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_unmeasured_models_are_measured_after_the_start_smallest_first(qtbot, two_models, make_window):
    core = two_models
    started: list[str] = []
    texts: list[str] = []
    window = measuring_window(make_window)
    measuring = window.background_measuring
    assert measuring.pending() == [SMOL, QWEN]
    window.model_tasks.benches.started.connect(started.append)
    measuring.status.connect(texts.append)

    qtbot.waitUntil(lambda: not measuring.active and measuring.current is None, timeout=MEASURE_TIMEOUT_MS)

    stored = SpeedStore(core.db).all_latest()
    assert set(stored) == {SMOL, QWEN}
    assert all(m.gen_tokens_per_s > 0 and m.ttft_s > 0 for m in stored.values())
    assert started == [SMOL, QWEN]
    assert any(t.startswith("Measuring SmolLM2") for t in texts) and texts[-1] == ""
    # The selector now shows measured figures for both.
    for name in (SMOL, QWEN):
        assert window.model_selector.item(name).speed.measured
    assert core.settings.measure_in_background


@pytest.fixture
def first_measurement_waits(monkeypatch):
    """The first measurement runs until it is cancelled (whatever the machine's speed, it is
    still running when the test acts); the later ones are real."""
    from assistant.models import jobs
    from assistant.models.speed import MeasurementCancelled
    from assistant.ui import model_tasks

    calls = []

    def run_bench(ctx, report, cancel, **options):
        calls.append(options["name"])
        if len(calls) == 1:
            cancel.wait(MEASURE_TIMEOUT_MS / 1000)
            raise MeasurementCancelled()
        return jobs.run_bench(ctx, report, cancel, **options)

    monkeypatch.setattr(model_tasks, "run_bench", run_bench)
    return calls


def test_a_measurement_pauses_while_the_user_is_answered_then_goes_on(qtbot, two_models, make_window,
                                                                      first_measurement_waits):
    core = two_models
    outcomes = []
    window = measuring_window(make_window)
    lane = window.model_tasks.benches
    lane.finished.connect(outcomes.append)
    with qtbot.waitSignal(lane.started, timeout=MEASURE_TIMEOUT_MS):
        pass  # the first measurement (SmolLM2) is running
    message = ask_in_window(qtbot, window, "Say hello.", timeout=ANSWER_TIMEOUT_MS)
    assert message.status == "complete"
    # It was cancelled by the answer, not by the user: measuring stays on and finishes after it.
    qtbot.waitUntil(lambda: bool(outcomes), timeout=MEASURE_TIMEOUT_MS)
    assert outcomes[0].key == SMOL and outcomes[0].cancelled
    qtbot.waitUntil(lambda: set(SpeedStore(core.db).all_latest()) == {SMOL, QWEN}, timeout=MEASURE_TIMEOUT_MS)
    assert first_measurement_waits == [SMOL, SMOL, QWEN]  # the paused one was asked again
    assert core.settings.measure_in_background


def test_stop_in_the_status_bar_cancels_and_turns_background_measuring_off(qtbot, two_models, make_window,
                                                                          first_measurement_waits):
    core = two_models
    window = measuring_window(make_window)
    lane = window.model_tasks.benches
    with qtbot.waitSignal(lane.started, timeout=MEASURE_TIMEOUT_MS):
        pass
    label = window.status_bar.measure_label
    qtbot.waitUntil(label.isVisible)
    assert "Stop" in label.text()
    with qtbot.waitSignal(window.background_measuring.turned_off, timeout=MEASURE_TIMEOUT_MS):
        label.linkActivated.emit("stop")  # what a click on the link sends
    assert not label.isVisible()
    assert SpeedStore(core.db).all_latest() == {}
    assert not window.background_measuring.active
    assert "Background speed measuring is off" in window.status_bar.status_label.text()
    # Remembered for the next start.
    assert Settings.load(core.paths).measure_in_background is False
