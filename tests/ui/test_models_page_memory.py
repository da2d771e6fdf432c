"""The models page's memory figures: one reading and one style for every size and "free" figure,
and a question, with the estimate in words, before downloading a model that may not fit."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel

from assistant.models.units import size_text
from tests.models.test_download import hub, smol_source  # noqa: F401 (fixtures)
from tests.ui.dialogs import answer, when_modal
from tests.ui.test_models_page import (  # noqa: F401 (fixtures)
    DOWNLOAD_TIMEOUT_MS,
    NAME,
    click,
    hub_page,
    make_page,
)

# Sizes written another way than size_text's: binary units, a gigabyte figure below one gigabyte, or
# megabytes with decimals or above a thousand.
OTHER_STYLE = re.compile(r"MiB|GiB|\b0\.\d+ GB|\d\.\d+ MB|\d,\d{3} MB")


def _texts(page) -> list[str]:
    labels = [w for w in page.findChildren(QLabel) if w.isVisibleTo(page) and w.text()]
    return [t for w in labels for t in (w.text(), w.toolTip()) if t]


def test_every_size_and_memory_figure_on_the_page_is_written_one_way(make_page):  # noqa: F811
    page = make_page()
    qwen = page.catalog_rows["qwen2.5-coder-0.5b-instruct-q4_k_m"]
    assert " · 491 MB · " in qwen.facts.text()
    assert "Model weights 491 MB + context 50 MB (4,096 tokens) + runtime 164 MB." in qwen.ram.toolTip()
    assert re.match(r"needs \d{3} MB of RAM at 4,096 tokens of context \(\d+\.\d GB free\)$", qwen.ram.text())
    texts = _texts(page)
    assert len(texts) > 100 and [t for t in texts if OTHER_STYLE.search(t)] == []


def test_the_header_the_rows_and_info_say_the_same_free_memory(qtbot, smol_core, make_page):  # noqa: F811
    page = make_page()
    memory = page.memory
    assert memory.reclaimable > 0  # SmolLM2 is loaded: switching models gives its memory back
    free = size_text(memory.free)
    held = size_text(memory.free - memory.available)
    assert page.machine_line.text().startswith(
        f"This computer: {size_text(memory.total)} of memory, {free} free for a model, counting the {held} the "
        "loaded model would give back.")
    rows = [*page.installed_rows.values(), *page.catalog_rows.values()]
    quoted = {re.search(r"\((.*) free\)$", r.ram.text()).group(1) for r in rows if r.ram.isVisible()
              and r.ram.text().startswith("needs")}
    assert quoted == {free}
    click(qtbot, page.installed_rows["smollm2-135m-instruct-q4_1"].info_button)
    free = size_text(page.memory.free)  # Info reads the memory again, for the page and the dialog alike
    assert page.info_dialog.value("Memory").endswith(f"({free} free). Needs 291 MB of the {free} free.")
    assert f", {free} free for a model" in page.machine_line.text()


def test_a_download_that_will_not_fit_asks_first_and_cancel_starts_nothing(
        qtbot, hub, hub_page, monkeypatch):  # noqa: F811
    monkeypatch.setattr("assistant.models.fit.system_memory", lambda: (200_000_000, 300_000_000))
    page = hub_page
    row = page.catalog_rows[NAME]
    asked = []
    when_modal(qtbot, answer("Cancel", asked))
    click(qtbot, row.download_button)
    free, total = size_text(page.memory.free), size_text(page.memory.total)
    needed = size_text(row.item.candidate.fit.needed)
    assert asked == [f"SmolLM2 135M (downloaded) needs about {needed} of memory (a rough estimate); this computer "
                     f"has {free} free, of {total} in all. It will probably not load, or will be very slow.\n\n"
                     "Download it (98 MB) anyway?"]
    assert row.fit_badge.text() == "Won't fit (rough)" and f"({free} free)" in row.ram.text()
    assert row.mode == "available" and not page.downloading and hub.gets() == []  # nothing went online

    when_modal(qtbot, answer("Download anyway"))
    with qtbot.waitSignals([page.download_finished, page.models_changed], timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, row.download_button)
    assert row.mode == "installed" and NAME in page.installed_rows
