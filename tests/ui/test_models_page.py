"""The models page over the real core: downloads from a fake hub on 127.0.0.1 serving the real SmolLM2
GGUF, imports of real files, delete, info and a real speed measurement, each on real threads."""

from __future__ import annotations

import shutil
import threading

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from assistant.models import disk
from assistant.models.catalog import load_catalog
from assistant.models.download_store import get_download
from assistant.models.registry import sha256_file
from assistant.store.model_speed import SpeedStore
from tests.conftest import SMOL
from tests.models.test_download import REPO, hub, make_entry, smol_source  # noqa: F401 (fixtures)
from tests.ui.dialogs import answer, when_modal

LEFT = Qt.MouseButton.LeftButton
DOWNLOAD_TIMEOUT_MS = 120_000
BENCH_TIMEOUT_MS = 180_000
IMPORT_TIMEOUT_MS = 60_000
NAME = "smol-download"  # make_entry's name


def model_threads() -> list[threading.Thread]:
    from assistant.ui.model_tasks import THREAD_PREFIX
    from assistant.ui.workers import THREAD_PREFIX as ENGINE_PREFIX

    return [t for t in threading.enumerate() if t.name.startswith((THREAD_PREFIX, ENGINE_PREFIX))]


@pytest.fixture
def make_page(qtbot, core):
    """Shown ModelsPages over the test's core; at the end each is shut down and its threads are gone."""
    from assistant.ui.models_page import ModelsPage

    pages = []

    def make(**kwargs):
        page = ModelsPage(core, **kwargs)
        qtbot.addWidget(page)
        page.resize(1000, 800)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        assert page.shutdown(timeout=30)
    assert not model_threads(), "a models thread outlived shutdown()"
    assert not core.db.conn.in_transaction


@pytest.fixture
def hub_page(hub, smol_source, make_page):  # noqa: F811 - pytest fixtures by name
    """A page whose catalog is the real one plus an entry served by the fake hub (torn down before it)."""
    starter, path = smol_source
    hub.add(REPO, "copy.gguf", path, starter.sha256)
    copy = make_entry(starter, name="smol-copy", display_name="SmolLM2 copy", filename="copy.gguf")
    return make_page(entries=[make_entry(starter), copy, *load_catalog()])


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, LEFT)


def downloading(events, at_least=0):
    return [p for p in events if p.phase == "downloading" and p.bytes_done >= at_least]


def test_every_catalog_entry_is_listed_with_its_facts_fit_and_speed(make_page, core):
    page = make_page()
    catalog = load_catalog()
    assert list(page.catalog_rows) == [e.name for e in catalog]
    qwen3 = page.catalog_rows["qwen3-4b-q4_k_m"]
    assert qwen3.title.text() == "Qwen3 4B (Q4_K_M)"
    assert qwen3.facts.text() == "Qwen3 · 4.0B params · Q4_K_M · 2.5 GB · licence apache-2.0"
    assert qwen3.fit_badge.text().startswith(("Fits", "Tight", "Won't fit"))
    assert "of RAM at 4,096 tokens of context" in qwen3.ram.text()
    assert qwen3.speed.text() == "Speed: not measured yet"  # nothing measured yet, so nothing to estimate from
    assert qwen3.download_button.isVisible() and not qwen3.resume_button.isVisible()
    smol = page.catalog_rows[SMOL]  # a starter, installed by the core fixture
    assert smol.mode == "installed" and smol.installed_badge.isVisible() and not smol.download_button.isVisible()
    assert page.catalog_rows["all-minilm-l6-v2"].ram.text().startswith("The document embedder")
    # Installed: the chat models smallest first, then the embedder, with their figures.
    installed = list(page.installed_rows)
    assert installed[0] == SMOL and installed[-1] == "all-minilm-l6-v2"
    row = page.installed_rows[SMOL]
    assert "98 MB file" in row.facts.text() and "135M params" in row.facts.text()
    assert row.speed.text() == "Speed: not measured yet" and row.bench_button.isVisible()
    assert not page.installed_rows["all-minilm-l6-v2"].delete_button.isVisible()
    # Once a model is measured, the others show an estimate, labelled as one.
    SpeedStore(core.db).save(_measurement(core, SMOL, gen=60.0, pp=900.0))
    page.refresh()
    assert page.installed_rows[SMOL].speed.text().startswith("60.0 tokens/s · first token in 1.1 s (measured")
    assert qwen3.speed.text().startswith("Estimated: ~") and "from 1 measured model" in qwen3.speed.text()
    page.filter_edit.setText("qwen3 q8")
    assert {n for n, r in page.catalog_rows.items() if not r.isHidden()} == {
        e.name for e in catalog if e.family == "Qwen3" and e.quantization == "Q8_0"}


def _measurement(core, name, gen, pp):
    from assistant.store.model_speed import SpeedMeasurement

    model = core.registry.get(name)
    return SpeedMeasurement(model=name, pp_tokens_per_s=pp, gen_tokens_per_s=gen, ttft_s=1000 / pp, load_s=0.3,
                            peak_rss_bytes=model.size_bytes * 2, prompt_tokens=1000, gen_tokens=96,
                            file_size=model.size_bytes, parameters=model.parameters or 134_515_008, n_threads=2)


def test_download_shows_progress_cancel_keeps_the_bytes_and_resume_installs_it(
        qtbot, hub, smol_source, hub_page, core):  # noqa: F811
    from assistant.ui.model_selector import ModelSelector

    starter, _ = smol_source
    page = hub_page
    selector = ModelSelector(core, tasks=page.tasks, entries=page.entries)
    qtbot.addWidget(selector)
    page.models_changed.connect(selector.refresh)
    events, active, network, status = [], [], [], []
    page.tasks.downloads.progress.connect(lambda _name, p: events.append(p))
    page.downloading_changed.connect(active.append)
    page.network_changed.connect(network.append)
    page.download_status.connect(status.append)
    hub.bytes_per_s = 12_000_000  # about 8 s for the file: time to watch it and cancel it
    row = page.catalog_rows[NAME]
    assert row.mode == "available" and NAME not in page.installed_rows and NAME not in selector.names()

    click(qtbot, row.download_button)
    qtbot.waitUntil(lambda: len(downloading(events, 15_000_000)) >= 1, timeout=DOWNLOAD_TIMEOUT_MS)
    done = [p.bytes_done for p in downloading(events)]
    assert done == sorted(done) and len(set(done)) >= 2  # it moved, forwards
    assert row.mode == "downloading" and 0 < row.progress.value() < 1000
    assert "MB/s" in row.progress_label.text() and "left" in row.progress_label.text()
    assert page.downloading and active == [True]
    assert status[-1].startswith("Downloading SmolLM2 135M (downloaded): ") and "MB/s" in status[-1]
    page.scroll.ensureWidgetVisible(row)
    QApplication.processEvents()
    page.grab().save("/tmp/models_page.png")
    with qtbot.waitSignal(page.download_finished, timeout=30_000) as finished:
        click(qtbot, row.cancel_button)
    assert finished.args[0].cancelled and status[-1] == ""
    kept = (core.paths.models / ".partial" / f"{starter.filename}.part").stat().st_size
    assert 15_000_000 <= kept < starter.size_bytes
    assert row.mode == "resumable" and row.resume_button.isVisible() and row.resume_button.text() == "Resume"
    assert "cancelled" in row.status.text() and not row.error.isVisible()
    assert row.progress_label.text() == f"{kept / 1e6:,.0f} MB of 98 MB received and kept."
    assert NAME not in page.installed_rows and active == [True, False]

    hub.bytes_per_s = None
    with qtbot.waitSignals([page.download_finished, page.models_changed], timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, row.resume_button)
    assert hub.gets()[-1].range_start == kept  # continued from the kept bytes, not started over
    assert row.mode == "installed" and row.installed_badge.isVisible()
    assert NAME in page.installed_rows and NAME in selector.names()
    installed = core.registry.get(NAME)
    assert sha256_file(installed.path) == starter.sha256 and get_download(core.db, NAME)["state"] == "done"
    assert "is installed" in page.notice.text()
    qtbot.waitUntil(lambda: active == [True, False, True, False])
    assert network and network[-1] == []  # the network was allowed for the download only, and is closed again


def test_a_wrong_hash_shows_the_readable_error_on_the_row(qtbot, hub, hub_page, core):  # noqa: F811
    page = hub_page
    hub.corrupt_at = 50_000_000  # one byte flipped in transit; the hub still announces the true SHA-256
    problems = []
    page.problem_shown.connect(problems.append)
    row = page.catalog_rows[NAME]
    with qtbot.waitSignal(page.download_finished, timeout=DOWNLOAD_TIMEOUT_MS) as finished:
        click(qtbot, row.download_button)
    outcome = finished.args[0]
    assert not outcome.cancelled and "SHA-256 fingerprint" in outcome.error
    assert row.error.isVisible() and row.error.text() == outcome.error
    assert "The file was deleted and nothing was installed" in row.error.text()
    assert row.mode == "resumable" and row.resume_button.text() == "Try again"  # no bytes were kept
    assert problems == [outcome.error] and NAME not in page.installed_rows


def test_a_downloaded_model_whose_file_went_missing_is_downloaded_again_from_its_row(
        qtbot, hub, smol_source, hub_page, core):  # noqa: F811
    starter, _ = smol_source
    page = hub_page
    with qtbot.waitSignals([page.download_finished, page.models_changed], timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, page.catalog_rows[NAME].download_button)
    gone = core.registry.get(NAME).path
    gone.unlink()
    page.refresh()
    row = page.installed_rows[NAME]
    qtbot.waitUntil(row.isVisible)  # a row added to the shown page appears on the next event loop turn
    assert row.problem.isVisible() and f"is missing from {gone}" in row.problem.text()
    visible = [b.text() for b in (row.info_button, row.bench_button, row.locate_button, row.download_again_button,
                                  row.delete_button) if b.isVisible()]
    assert visible == ["Download again", "Remove…"]  # a downloaded file is fetched again, not located
    assert not page.installed_rows[SMOL].download_again_button.isVisible()  # a starter: setup repairs it

    gets = len(hub.gets())
    with qtbot.waitSignals([page.download_finished, page.models_changed], timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, row.download_again_button)
        assert not row.download_again_button.isEnabled()  # once is enough while it downloads
    assert len(hub.gets()) > gets and sha256_file(core.registry.get(NAME).path) == starter.sha256
    row = page.installed_rows[NAME]
    assert not row.problem.isVisible() and not row.download_again_button.isVisible()
    assert row.delete_button.text() == "Delete…" and "is installed" in page.notice.text()


def test_errors_before_the_first_byte_are_sentences_on_the_row(qtbot, hub, smol_source, make_page, monkeypatch):  # noqa: F811
    starter, _ = smol_source
    page = make_page(entries=[make_entry(starter, name="missing", filename="missing.gguf"), make_entry(starter)])
    with qtbot.waitSignal(page.download_finished, timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, page.catalog_rows["missing"].download_button)
    assert f"has no file missing.gguf in {REPO}" in page.catalog_rows["missing"].error.text()

    monkeypatch.setattr(disk, "free_bytes", lambda folder: 50_000_000)
    with qtbot.waitSignal(page.download_finished, timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, page.catalog_rows[NAME].download_button)
    assert "not enough free disk space" in page.catalog_rows[NAME].error.text()
    assert hub.gets() == []


def test_a_slow_server_still_shows_progress_and_cancel_is_prompt(qtbot, hub, hub_page):  # noqa: F811
    page = hub_page
    hub.bytes_per_s = 2_000_000
    row = page.catalog_rows[NAME]
    click(qtbot, row.download_button)
    qtbot.waitUntil(lambda: "MB/s" in row.progress_label.text() and "left" in row.progress_label.text(),
                    timeout=DOWNLOAD_TIMEOUT_MS)
    assert "min left" in row.progress_label.text() or "s left" in row.progress_label.text()
    # A second download waits for the first; a waiting one is dropped at once when cancelled.
    other = page.catalog_rows["smol-copy"]
    click(qtbot, other.download_button)
    assert other.mode == "queued" and other.progress_label.text().startswith("Waiting for the download")
    assert page.tasks.downloads.queued() == ["smol-copy"]
    with qtbot.waitSignal(page.download_finished, timeout=1_000) as dropped:
        click(qtbot, other.cancel_button)
    assert (dropped.args[0].key, dropped.args[0].cancelled) == ("smol-copy", True)
    assert other.mode == "available" and row.mode == "downloading"
    with qtbot.waitSignal(page.download_finished, timeout=5_000) as finished:
        click(qtbot, row.cancel_button)
        assert row.progress_label.text() == "Cancelling…" and not row.cancel_button.isEnabled()
    assert finished.args[0].cancelled and row.resume_button.isVisible()


def test_a_download_cut_off_by_closing_is_offered_for_resuming_without_going_online(
        qtbot, hub, smol_source, make_page, core):  # noqa: F811
    starter, _ = smol_source
    entries = [make_entry(starter)]
    first = make_page(entries=entries)
    hub.bytes_per_s = 4_000_000
    events = []
    first.tasks.downloads.progress.connect(lambda _name, p: events.append(p))
    click(qtbot, first.catalog_rows[NAME].download_button)
    qtbot.waitUntil(lambda: bool(downloading(events, 2_000_000)), timeout=DOWNLOAD_TIMEOUT_MS)
    assert first.shutdown(timeout=10)
    assert get_download(core.db, NAME)["state"] == "pending"  # the app closed: not the user's cancel

    requests = len(hub.log)
    page = make_page(entries=entries)
    row = page.catalog_rows[NAME]
    assert row.mode == "resumable" and row.resume_button.isVisible()
    assert "closed during the download" in row.status.text() and "received and kept" in row.progress_label.text()
    assert page.banner.isVisible() and "left unfinished last time" in page.banner.text
    assert len(hub.log) == requests and not page.downloading  # nothing went online without a click
    hub.bytes_per_s = None
    with qtbot.waitSignal(page.models_changed, timeout=DOWNLOAD_TIMEOUT_MS):
        click(qtbot, page.banner.action_button)
    assert row.mode == "installed" and hub.gets()[-1].range_start > 0


def _drop(page, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(page, drop)
    assert drop.isAccepted()


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_import_a_real_gguf_refuse_broken_ones_and_delete_with_confirmation(qtbot, make_page, core, tmp_path):
    source = core.registry.get(SMOL).path
    copy = tmp_path / "My-Smol.gguf"
    shutil.copyfile(source, copy)
    core.registry.remove(SMOL)  # else the copy is refused as already installed
    page = make_page()

    def pick_the_copy(dialog):  # Qt's own file dialog (offscreen has no native one)
        assert isinstance(dialog, QFileDialog) and "*.gguf" in dialog.nameFilters()[0]
        dialog.selectFile(str(copy))
        dialog.accept()

    when_modal(qtbot, pick_the_copy)
    with qtbot.waitSignals([page.import_finished, page.models_changed], timeout=IMPORT_TIMEOUT_MS):
        click(qtbot, page.import_button)
        assert page.import_box.isVisible()
    assert "my-smol" in page.installed_rows and not page.import_box.isVisible()
    model = core.registry.get("my-smol")
    assert model.path == core.paths.models / "My-Smol.gguf" and model.sha256 == sha256_file(source)
    assert page.notice.text() == "Imported My-Smol.gguf as Smollm2 135M 8k Lc100K Mix1 Ep2 (98 MB)."

    random = tmp_path / "random.gguf"
    random.write_bytes(bytes(range(256)) * 4096)
    with qtbot.waitSignal(page.import_finished, timeout=IMPORT_TIMEOUT_MS) as finished:
        _drop(page, random)
    assert finished.args[0].error == "random.gguf is not a GGUF model file. Only .gguf models (as used by llama.cpp) can be loaded."
    assert page.banner.isVisible() and page.banner.text.startswith("random.gguf was not imported.")
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(source.read_bytes()[:5_000_000])
    with qtbot.waitSignal(page.import_finished, timeout=IMPORT_TIMEOUT_MS):
        _drop(page, truncated)
    assert "cut.gguf is truncated" in page.banner.text
    assert set(page.installed_rows) == {m.name for m in core.registry.all()}

    asked = []
    when_modal(qtbot, answer("Cancel", asked))
    click(qtbot, page.installed_rows["my-smol"].delete_button)
    assert "Delete Smollm2 135M 8k Lc100K Mix1 Ep2?" in asked[0] and "deleted from disk" in asked[0]
    assert core.registry.get("my-smol") is not None and model.path.exists()  # not confirmed: kept
    when_modal(qtbot, answer("Delete"))
    with qtbot.waitSignal(page.model_deleted, timeout=30_000) as deleted:
        click(qtbot, page.installed_rows["my-smol"].delete_button)
    assert deleted.args == ["my-smol", False]
    assert core.registry.get("my-smol") is None and not model.path.exists()
    assert "my-smol" not in page.installed_rows and page.notice.text().startswith("Deleted my-smol and freed 98 MB")


def test_deleting_the_loaded_model_unloads_it_on_the_engine_thread(qtbot, smol_core, make_page):
    from assistant.ui.workers import EngineTasks

    tasks = EngineTasks()
    page = make_page(engine_tasks=tasks)
    assert page.installed_rows[SMOL].loaded_badge.isVisible()
    when_modal(qtbot, answer("Delete"))
    with qtbot.waitSignal(page.model_deleted, timeout=30_000) as deleted:
        click(qtbot, page.installed_rows[SMOL].delete_button)
    tasks.shutdown()
    assert deleted.args == [SMOL, True]
    assert smol_core.model is None and smol_core.engine.loaded is None
    assert "It was loaded, so it was unloaded first." in page.notice.text()
    assert smol_core.registry.get(SMOL) is None and SMOL not in page.installed_rows


def test_info_shows_the_models_metadata(qtbot, make_page, core):
    page = make_page()
    click(qtbot, page.installed_rows[SMOL].info_button)
    dialog = page.info_dialog
    assert dialog is not None and dialog.isVisible()
    model = core.registry.get(SMOL)
    assert dialog.value("Architecture") == "llama"
    assert dialog.value("Parameters") == "134,515,008"
    assert dialog.value("Quantization") == "Q4_1"
    assert dialog.value("Context length") == "8,192 tokens"
    assert dialog.value("Layers") == "30"
    assert dialog.value("Chat template") == "present"
    assert dialog.value("File size") == "98 MB (98,362,432 bytes)"
    assert dialog.value("SHA-256") == model.sha256
    assert dialog.value("Memory").startswith("needs 291 MB of RAM at 4,096 tokens")
    assert dialog.value("Speed") == "not measured yet"
    assert dialog.fit_badge.text() == "Fits"


def test_bench_measures_in_the_background_and_the_selector_shows_the_figures(qtbot, make_page, core):
    from assistant.ui.model_selector import ModelSelector

    page = make_page()
    page.tasks.bench_options = {"prompt_tokens": 200, "gen_tokens": 12}
    selector = ModelSelector(core, tasks=page.tasks)
    qtbot.addWidget(selector)
    selector.show_popup()
    selector.preview(SMOL)
    popup = selector.popup
    assert popup.speed_line.text() == "Speed: not measured yet" and popup.measure_button.isVisible()
    row = page.installed_rows[SMOL]
    fractions = []
    page.tasks.benches.progress.connect(lambda _name, p: fractions.append(p.fraction))

    with qtbot.waitSignals([page.bench_finished, page.measurement_finished], timeout=BENCH_TIMEOUT_MS):
        click(qtbot, popup.measure_button)
        assert row.benching and row.bench_cancel_button.isVisible() and not row.delete_button.isEnabled()
        page.refresh()  # as showing the page again does, mid-measurement
        assert row.bench_cancel_button.isVisible() and not row.bench_button.isVisible()
    stored = SpeedStore(core.db).latest(SMOL)
    assert stored is not None and stored.gen_tokens_per_s > 0
    assert fractions and fractions == sorted(fractions)
    assert not row.benching and row.speed.text().startswith(f"{stored.gen_tokens_per_s:.1f} tokens/s")
    assert popup.speed_line.text() == (f"{stored.gen_tokens_per_s:.1f} tokens/s · first token in "
                                       f"{stored.ttft_for(1000):.1f} s (measured on this computer)")
    assert not popup.measure_button.isVisible()
    assert selector.item(SMOL).speed.measured
    QApplication.processEvents()
    popup.grab().save("/tmp/selector.png")

    # A measurement can be stopped; nothing is stored then.
    with qtbot.waitSignal(page.bench_finished, timeout=BENCH_TIMEOUT_MS) as finished:
        click(qtbot, row.bench_button)
        qtbot.waitUntil(lambda: row.bench_cancel_button.isVisible(), timeout=5_000)
        click(qtbot, row.bench_cancel_button)
    assert finished.args[0].cancelled
    assert SpeedStore(core.db).latest(SMOL).id == stored.id
    assert "stopped; nothing was stored" in row.measured.text()
