"""The toolbar's model selector over the real core: the starter models, stored measurements, real fit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from assistant.store.model_speed import SpeedMeasurement, SpeedStore
from tests.conftest import QWEN, SMOL


@pytest.fixture
def selector(qtbot, core):
    from assistant.ui.model_selector import ModelSelector

    widget = ModelSelector(core)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    assert widget.shutdown(timeout=30)


def by_size(core) -> list[str]:
    return [m.name for m in sorted(core.registry.all("chat"), key=lambda m: m.size_bytes)]


def cells(popup, row: int) -> list[str]:
    item = popup.models_list.topLevelItem(row)
    return [item.text(c) for c in range(5)]


def measure(core, name: str, gen: float, ttft: float) -> SpeedMeasurement:
    model = core.registry.get(name)
    return SpeedStore(core.db).save(SpeedMeasurement(
        model=name, pp_tokens_per_s=1000 / ttft, gen_tokens_per_s=gen, ttft_s=ttft, load_s=0.2,
        peak_rss_bytes=2 * model.size_bytes, prompt_tokens=1000, gen_tokens=96, file_size=model.size_bytes,
        parameters=model.parameters, n_threads=2, measured_at="2026-11-20T10:00:00"))


def test_models_run_from_fastest_to_smartest_by_size(selector, core):
    expected = by_size(core)
    assert len(expected) >= 2 and expected[0] == SMOL
    assert selector.names() == expected
    slider, popup = selector.popup.slider, selector.popup
    assert (slider.minimum(), slider.maximum()) == (0, len(expected) - 1)
    shown = []
    for index in range(len(expected)):
        slider.setValue(index)
        shown.append((selector.previewed_name(), popup.title.text(), popup.position.text()))
    assert shown == [(name, core.registry.get(name).display_name, f"{i + 1} of {len(expected)}, ordered by size")
                     for i, name in enumerate(expected)]
    # The overview lists them in the same order; picking a line moves the slider.
    rows = [cells(popup, i) for i in range(len(expected))]
    assert [r[0] for r in rows] == [core.registry.get(n).display_name for n in expected]
    assert rows[0][1:4] == ["98 MB", "291 MB", "not measured"]
    popup.models_list.setCurrentItem(popup.models_list.topLevelItem(1))
    assert slider.value() == 1 and selector.previewed_name() == expected[1]
    selector.preview(SMOL)
    assert popup.models_list.currentItem() is popup.models_list.topLevelItem(0)
    assert popup.size_line.text() == "98 MB file" and popup.fit_badge.text() == "Fits"
    assert popup.ram_line.text().startswith("Needs 291 MB of RAM at 4,096 tokens of context")
    assert popup.speed_line.text() == "Speed: not measured yet" and not popup.measure_button.isHidden()


def test_the_core_recommendation_is_marked(selector, core):
    names = by_size(core)
    core.settings.target_tokens_per_s, core.settings.target_ttft_s = 10.0, 5.0
    for name in names[:-1]:
        measure(core, name, gen=40.0, ttft=0.8)
    measure(core, names[-1], gen=3.0, ttft=0.8)  # the largest is too slow for the target
    assert selector.recommended_name() is None  # nothing measured when it last looked

    selector.refresh()
    assert selector.recommended_name() == names[-2]
    badges = {}
    for name in names:
        selector.preview(name)
        badges[name] = (selector.popup.recommended_badge.isVisibleTo(selector.popup),
                        selector.popup.recommended_badge.text())
    assert badges == {n: (n == names[-2], "Recommended" if n == names[-2] else "") for n in names}
    marks = [cells(selector.popup, i)[4] for i in range(len(names))]
    assert ["★ recommended" in m for m in marks] == [n == names[-2] for n in names]
    assert selector.popup.recommendation.text() == (
        f"Recommended for your speed targets: {core.registry.get(names[-2]).display_name}.")
    # Measured figures replace "not measured yet".
    selector.preview(SMOL)
    assert selector.popup.speed_line.text() == "40.0 tokens/s · first token in 0.8 s (measured on this computer)"
    assert selector.popup.measure_button.isHidden()

    core.settings.target_tokens_per_s = 2.0  # now the largest is fast enough too
    selector.refresh()
    assert selector.recommended_name() == names[-1]


def test_choosing_emits_model_chosen_and_set_current_is_quiet(qtbot, selector, core):
    with qtbot.assertNotEmitted(selector.model_chosen):
        selector.set_current(SMOL)
    assert selector.current_name() == SMOL and selector.previewed_name() == SMOL
    assert selector.button.text().startswith(f"{core.registry.get(SMOL).display_name}  ·  98 MB  ·  ")
    selector.show_popup()
    assert selector.popup.isVisible() and not selector.popup.use_button.isEnabled()  # in use already
    assert selector.popup.current_badge.text() == "In use"
    assert cells(selector.popup, 0)[4] == "in use"

    selector.preview(QWEN)
    assert selector.popup.use_button.isEnabled() and selector.popup.current_badge.isHidden()
    with qtbot.waitSignal(selector.model_chosen) as chosen:
        qtbot.mouseClick(selector.popup.use_button, Qt.MouseButton.LeftButton)
    assert chosen.args == [QWEN]
    assert selector.current_name() == QWEN and not selector.popup.isVisible()
    assert selector.button.text().startswith(core.registry.get(QWEN).display_name)
    with qtbot.assertNotEmitted(selector.model_chosen):
        selector.choose(QWEN)  # already in use
        selector.choose("no-such-model")


def test_the_memory_estimate_follows_the_context_length(qtbot, selector):
    selector.set_context(2048)
    selector.preview(SMOL)
    small = selector.item(SMOL).fit.needed
    assert "at 2,048 tokens of context" in selector.popup.ram_line.text()

    selector.show_popup()
    with qtbot.assertNotEmitted(selector.context_changed):
        selector.popup.ctx_spin.setValue(32768)  # reported when the popup closes, not on every step
    large = selector.item(SMOL).fit.needed
    # SmolLM2-135M: 30 layers x 3 KV heads x (64 + 64) values x 2 bytes for each extra token.
    assert large - small == 30 * 3 * 128 * 2 * (32768 - 2048)
    assert "at 32,768 tokens of context" in selector.popup.ram_line.text()
    selector.popup.threads_spin.setValue(1)
    assert selector.item(SMOL).fit.needed == large  # threads do not change memory
    with qtbot.waitSignal(selector.context_changed) as changed:
        selector.popup.hide()
    assert changed.args == [32768, 1] and selector.context() == (32768, 1)


def test_no_chat_models_installed(qtbot, core):
    from assistant.ui.model_selector import ModelSelector

    for model in core.registry.all("chat"):
        core.registry.remove(model.name)
    widget = ModelSelector(core)
    qtbot.addWidget(widget)
    assert widget.names() == [] and widget.button.text() == "No models installed  ▾"
    assert widget.popup.card.isHidden() and not widget.popup.empty.isHidden()
    with qtbot.assertNotEmitted(widget.model_chosen):
        widget.choose()
    assert widget.shutdown()
