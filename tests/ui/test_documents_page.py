"""The documents page over the real core: SQLite, chromadb, the bundled MiniLM embedder, a real thread."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QLineEdit, QMessageBox

from assistant.knowledge.base import KnowledgeBase
from tests.knowledge.helpers import assert_consistent, write_corpus
from tests.ui.dialogs import when_modal

INDEX_TIMEOUT_MS = 180_000  # the first run in a process also imports torch and loads the embedder


def indexing_threads() -> list[threading.Thread]:
    from assistant.ui.indexing import THREAD_NAME

    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


@pytest.fixture
def page(qtbot, core):
    """A shown DocumentsPage; at the end it is shut down and its thread is gone (before the core closes)."""
    from assistant.ui.documents_page import DocumentsPage

    widget = DocumentsPage(core)
    qtbot.addWidget(widget)
    widget.resize(1000, 680)
    widget.show()
    yield widget
    assert widget.shutdown(timeout=30)
    assert not indexing_threads(), "the indexing thread outlived shutdown()"
    assert not core.db.conn.in_transaction


def create(qtbot, page, name: str) -> None:
    page.name_edit.clear()
    qtbot.keyClicks(page.name_edit, name)
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)


def index_and_wait(qtbot, page, start):
    """Run `start()` (which queues indexing) and return the IndexOutcome."""
    with qtbot.waitSignal(page.indexing_finished, timeout=INDEX_TIMEOUT_MS) as blocker:
        start()
    outcome = blocker.args[0]
    assert outcome.error is None, outcome.error
    return outcome


def test_create_collection_validates_names(qtbot, page, core):
    create(qtbot, page, "   ")
    assert page.name_problem.isVisible() and page.name_problem.text() == "A collection needs a name."
    assert page.names() == []
    assert page.stack.currentWidget() is page.empty

    with qtbot.waitSignal(page.collections_changed):
        create(qtbot, page, "Office")
    assert page.names() == ["Office"] and page.current() == "Office"
    assert page.name_edit.text() == "" and not page.name_problem.isVisible()
    assert page.detail.title.text() == "Office"
    assert page.detail.status_label.text() == "Not indexed yet."

    # A duplicate is flagged while typing (whatever its case) and refused on Create.
    qtbot.keyClicks(page.name_edit, "office")
    assert page.name_problem.isVisible()
    assert "already exists" in page.name_problem.text()
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    assert page.names() == ["Office"]
    assert [r["name"] for r in KnowledgeBase(core).collections.list()] == ["Office"]


def test_add_folder_indexes_it_and_the_status_matches_the_core(qtbot, page, core, tmp_path):
    folder = tmp_path / "office"
    files = write_corpus(folder, files=8)
    create(qtbot, page, "Office")
    events, active = [], []
    page.queue.progress.connect(lambda name, event: events.append((name, event)))
    page.indexing_active.connect(active.append)

    def pick_folder(dialog):  # Qt's own folder dialog (offscreen has no native one)
        assert dialog.fileMode() == QFileDialog.FileMode.Directory
        dialog.setDirectory(str(folder))
        dialog.accept()

    when_modal(qtbot, pick_folder, QFileDialog)
    outcome = index_and_wait(
        qtbot, page, lambda: qtbot.mouseClick(page.detail.add_folder_button, Qt.MouseButton.LeftButton))

    kb = KnowledgeBase(core)
    status = kb.collections.status("Office")
    assert (outcome.name, outcome.cancelled) == ("Office", False)
    assert outcome.report.files == status.files == status.indexed == len(files)
    assert status.chunks == outcome.report.chunks_total > len(files)
    assert_consistent(kb)
    line = page.detail.status_label.text()
    assert f"{status.files} files: {status.indexed} indexed" in line and f"{status.chunks} chunks" in line
    assert "last updated today" in line
    assert page.detail.source_paths() == [str(folder)]
    assert not page.detail.progress_box.isVisible() and not page.detail.skipped.isVisible()
    assert page.detail.no_skipped.isVisible()
    # Progress arrived on the way: files counted up to the total, with the file being read.
    indexing = [e for name, e in events if name == "Office" and e.phase == "indexing"]
    assert indexing and all(e.files_total == len(files) for e in indexing)
    assert any(e.current_file.startswith(str(folder)) for e in indexing)
    assert events[-1][1].phase == "done" and events[-1][1].files_done == len(files)
    qtbot.waitUntil(lambda: active == [True, False])
    assert not page.indexing
    QApplication.processEvents()  # let the layout settle before the picture
    page.grab().save("/tmp/documents.png")


# QDragEnterEvent has only the QPoint constructor, which PySide marks deprecated.
@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_a_dropped_folder_becomes_a_collection_and_is_indexed(qtbot, page, core, tmp_path):
    folder = tmp_path / "Contracts"
    write_corpus(folder, files=3, seed=3)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(QPoint(400, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    assert page.property("dropping") is True

    drop = QDropEvent(QPointF(400, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(page.collections_changed):
        outcome = index_and_wait(qtbot, page, lambda: QApplication.sendEvent(page, drop))
    assert drop.isAccepted() and page.property("dropping") is False
    # Nothing was chosen, so the drop made a collection named after the folder.
    assert page.names() == ["Contracts"] and outcome.name == "Contracts"
    assert KnowledgeBase(core).collections.status("Contracts").indexed == 3
    assert page.detail.source_paths() == [str(folder)]

    # Text that is not a file is refused.
    text = QMimeData()
    text.setText("just words")
    refused = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(page, refused)
    assert not refused.isAccepted()


def test_a_pdf_indexed_without_its_scanned_pages_is_listed_with_them(qtbot, page, core, tmp_path):
    from tests.knowledge.corpus import DRAWING_ONLY, pdf_bytes, text_content

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "contract.pdf").write_bytes(pdf_bytes(contents=[text_content(["Signed in Lyon."]), DRAWING_ONLY]))
    create(qtbot, page, "Scans")
    index_and_wait(qtbot, page, lambda: page.add_paths([folder]))
    assert page.detail.skipped_rows() == [
        (str(folder / "contract.pdf"), "Indexed, but page 2: no text (scanned?). Those pages cannot be searched.")]
    assert page.detail.skipped_heading.text() == "Skipped files and files partly read (1)"
    assert page.detail.skipped.isVisible() and not page.detail.no_skipped.isVisible()
    assert page.detail.status_label.text().startswith("1 file: 1 indexed  ·  1 chunk  ·  no errors  ·  1 partly read")


def test_bad_files_are_listed_with_their_reasons(qtbot, page, core, tmp_path):
    from tests.knowledge.corpus import bad_files

    folder = tmp_path / "mixed"
    cases = bad_files(folder)
    (folder / "huge-field.csv").unlink()  # minutes of embedding; test_indexing explains
    write_corpus(folder / "good", files=2)
    create(qtbot, page, "Mixed")
    index_and_wait(qtbot, page, lambda: page.add_paths([folder]))

    status = KnowledgeBase(core).collections.status("Mixed")
    rows = page.detail.skipped_rows()
    assert rows == status.skipped and len(rows) >= 20
    assert page.detail.skipped.isVisible() and page.detail.skipped_heading.text() == f"Skipped files ({len(rows)})"
    shown = dict(rows)
    for path, reason in cases:
        if str(path) in shown:
            assert reason and reason.lower() in shown[str(path)].lower()
    assert "encrypted.pdf" in " ".join(shown) and "password-protected" in shown[str(folder / "encrypted.pdf")]
    assert f"{len(rows)} files skipped" in page.detail.status_label.text()
    assert status.indexed >= 2
    assert page.detail.skipped.topLevelItem(0).text(0) == Path(rows[0][0]).relative_to(folder).as_posix()
    QApplication.processEvents()  # let the layout settle before the picture
    page.grab().save("/tmp/documents-skipped.png")


def test_cancel_stops_early_keeps_a_consistent_index_and_reindex_finishes(qtbot, page, core, tmp_path):
    folder = tmp_path / "big"
    files = write_corpus(folder, files=60, paragraphs=12, seed=5)
    create(qtbot, page, "Big")
    seen = []

    def cancel_on_first_file(name, event):
        if event.phase == "indexing" and not seen:
            seen.append(event)
            assert page.detail.current_file.text() == event.current_file
            page.grab().save("/tmp/documents-indexing.png")
            qtbot.mouseClick(page.detail.cancel_button, Qt.MouseButton.LeftButton)

    page.queue.progress.connect(cancel_on_first_file)
    with qtbot.waitSignal(page.indexing_finished, timeout=INDEX_TIMEOUT_MS) as blocker:
        page.add_paths([folder])
        assert page.detail.progress_box.isVisible()
    outcome = blocker.args[0]
    page.queue.progress.disconnect(cancel_on_first_file)
    assert outcome.cancelled and outcome.error is None
    assert outcome.report.indexed < len(files), "the run was not stopped early"
    kb = KnowledgeBase(core)
    assert_consistent(kb)
    assert "cancelled" in page.banner.text
    assert not page.detail.progress_box.isVisible() and page.detail.reindex_button.isEnabled()

    outcome = index_and_wait(
        qtbot, page, lambda: qtbot.mouseClick(page.detail.reindex_button, Qt.MouseButton.LeftButton))
    assert not outcome.cancelled
    assert kb.collections.status("Big").indexed == len(files)
    assert_consistent(kb)
    assert page.banner.text == ""


def test_rename_and_remove_update_the_list_and_the_picker(qtbot, page, core, tmp_path):
    from assistant.ui.collection_picker import CollectionPicker

    picker = CollectionPicker(core)
    qtbot.addWidget(picker)
    page.collections_changed.connect(picker.refresh)
    page.collection_renamed.connect(picker.rename_collection)
    folder = tmp_path / "a"
    write_corpus(folder, files=2, seed=7)
    create(qtbot, page, "Alpha")
    create(qtbot, page, "Beta")
    index_and_wait(qtbot, page, lambda: page.add_paths([folder]))  # into Beta, the chosen one
    assert picker.names() == ["Alpha", "Beta"]
    picker.action("Alpha").trigger()
    picker.action("Beta").trigger()
    assert picker.selected() == ["Alpha", "Beta"]

    def type_new_name(dialog):
        assert isinstance(dialog, QInputDialog)
        assert dialog.textValue() == "Beta"
        dialog.setTextValue("")
        qtbot.keyClicks(dialog.findChild(QLineEdit), "Gamma")
        dialog.accept()

    when_modal(qtbot, type_new_name)
    with qtbot.waitSignal(page.collection_renamed) as renamed:
        qtbot.mouseClick(page.detail.rename_button, Qt.MouseButton.LeftButton)
    assert renamed.args == ["Beta", "Gamma"]
    assert page.names() == ["Alpha", "Gamma"] and page.current() == "Gamma"
    assert page.detail.title.text() == "Gamma"
    assert picker.names() == ["Alpha", "Gamma"] and picker.selected() == ["Alpha", "Gamma"]

    # Remove asks first; Cancel keeps the collection.
    def click(role_text):
        def handle(box):
            assert isinstance(box, QMessageBox) and "Gamma" in box.text()
            button = next(b for b in box.buttons() if b.text().replace("&", "") == role_text)
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        return handle

    when_modal(qtbot, click("Cancel"))
    qtbot.mouseClick(page.detail.remove_button, Qt.MouseButton.LeftButton)
    assert page.names() == ["Alpha", "Gamma"]

    when_modal(qtbot, click("Remove"))
    with qtbot.waitSignal(picker.selection_changed) as changed:
        qtbot.mouseClick(page.detail.remove_button, Qt.MouseButton.LeftButton)
    assert changed.args == [["Alpha"]]
    assert page.names() == ["Alpha"] and picker.names() == ["Alpha"]
    assert [r["name"] for r in KnowledgeBase(core).collections.list()] == ["Alpha"]
    # Its chunks and vectors are collected on the indexing thread.
    qtbot.waitUntil(lambda: not page.indexing, timeout=INDEX_TIMEOUT_MS)
    kb = KnowledgeBase(core)
    assert_consistent(kb)
    assert kb.vectors().count() == 0


def test_shutdown_during_indexing_stops_the_thread_and_the_next_page_resumes(qtbot, page, core, tmp_path):
    from assistant.ui.documents_page import DocumentsPage

    folder = tmp_path / "long"
    files = write_corpus(folder, files=50, paragraphs=12, seed=8)
    create(qtbot, page, "Long")
    with qtbot.waitSignal(page.queue.progress, timeout=INDEX_TIMEOUT_MS,
                          check_params_cb=lambda name, event: event.phase == "indexing"):
        page.add_paths([folder])
    started = time.perf_counter()
    assert page.shutdown(timeout=30)
    print(f"\nshutdown during indexing took {time.perf_counter() - started:.2f} s")
    assert not indexing_threads()
    assert page.shutdown()  # idempotent
    kb = KnowledgeBase(core)
    assert_consistent(kb)
    assert kb.collections.status("Long").indexed < len(files)

    again = DocumentsPage(core)  # the app started again: re-indexing picks up where it stopped
    qtbot.addWidget(again)
    try:
        outcome = index_and_wait(qtbot, again, lambda: again.reindex("Long"))
        assert outcome.report.indexed + outcome.report.unchanged == len(files)
        assert kb.collections.status("Long").indexed == len(files)
        assert_consistent(kb)
    finally:
        assert again.shutdown(timeout=30)


def longest_stall_ms(qtbot, page, start):
    """Index with a 10 ms timer ticking on the UI thread; returns (outcome, longest gap in ms, ticks)."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    outcome = index_and_wait(qtbot, page, start)
    timer.stop()
    return outcome, max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) * 1000, len(ticks)


def test_the_ui_keeps_responding_while_indexing(qtbot, page, tmp_path):
    torch_was_loaded = "torch" in sys.modules
    write_corpus(tmp_path / "few", files=3, seed=2)
    write_corpus(tmp_path / "many", files=40, paragraphs=10, seed=9)
    create(qtbot, page, "Few")
    # The first run loads the embedder on the indexing thread (and torch, if nothing did yet):
    # those imports run C code that holds the GIL, the one stall this design cannot avoid.
    _first, first_ms, _ = longest_stall_ms(qtbot, page, lambda: page.add_paths([tmp_path / "few"]))
    create(qtbot, page, "Many")
    outcome, steady_ms, ticks = longest_stall_ms(qtbot, page, lambda: page.add_paths([tmp_path / "many"]))
    print(f"\nUI stall, longest gap between 10 ms ticks: {first_ms:.0f} ms while the embedder loaded "
          f"(torch {'already imported' if torch_was_loaded else 'imported then'}); {steady_ms:.0f} ms while "
          f"indexing {outcome.report.files} files / {outcome.report.chunks_added} chunks in "
          f"{outcome.report.seconds:.1f} s ({ticks} ticks)")
    assert ticks > 50
    assert steady_ms < 500
    assert first_ms < 1000


def test_errors_show_as_sentences_and_never_crash(qtbot, page, core, tmp_path, monkeypatch):
    create(qtbot, page, "Papers")
    page.add_paths([tmp_path / "nowhere"])
    assert "does not exist" in page.banner.text
    assert not page.indexing  # nothing was added, so nothing to index

    # A folder that vanished after it was added (an unplugged drive): marked in the list, and what
    # was indexed from it is kept, so it is not all embedded again when the drive is back.
    folder = tmp_path / "gone"
    write_corpus(folder, files=2)
    index_and_wait(qtbot, page, lambda: page.add_paths([folder]))
    shutil.rmtree(folder)
    page.refresh()
    assert "no longer exists" in page.detail.sources.item(0).text()
    index_and_wait(qtbot, page, page.reindex)
    assert "no longer exists" in page.detail.sources.item(0).text()
    assert KnowledgeBase(core).collections.status("Papers").indexed == 2

    # The disk fills up in the middle of a run: the page says so, the index stays consistent.
    from assistant.knowledge.indexer import Indexer

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    write_corpus(tmp_path / "more", files=3, seed=4)
    monkeypatch.setattr(Indexer, "_commit", disk_full)
    with qtbot.waitSignal(page.indexing_finished, timeout=INDEX_TIMEOUT_MS) as blocker:
        page.add_paths([tmp_path / "more"])
    assert "disk is full" in blocker.args[0].error
    assert "disk is full" in page.banner.text
    monkeypatch.undo()
    assert_consistent(KnowledgeBase(core))
    outcome = index_and_wait(qtbot, page, page.reindex)  # space was freed: the same thread carries on
    assert outcome.report.indexed == 3 and page.banner.text == ""


IMPORT_PROBE = textwrap.dedent("""
    import importlib.abc, sys, threading
    heavy = {}

    class Probe(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in ("torch", "sentence_transformers", "onnxruntime", "chromadb") and name not in heavy:
                heavy[name] = threading.current_thread().name
            return None

    sys.meta_path.insert(0, Probe())
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from assistant.core import Core
    from assistant.ui.collection_picker import CollectionPicker
    from assistant.ui.documents_page import DocumentsPage

    app = QApplication([])
    core = Core()
    page = DocumentsPage(core)
    picker = CollectionPicker(core)
    page.show()
    page.refresh()
    before = dict(heavy)
    loop = QEventLoop()
    page.indexing_finished.connect(lambda outcome: loop.quit())
    QTimer.singleShot(170_000, loop.quit)
    page.select("Docs")
    page.add_paths([sys.argv[1]])
    loop.exec()
    page.refresh()
    picker.refresh()
    print(repr((before, heavy, page.detail.status_label.text())))
    page.shutdown()
    core.close()
""")


def test_the_embedder_and_chromadb_load_only_on_the_indexing_thread_and_torch_never(core, tmp_path):
    folder = tmp_path / "docs"
    write_corpus(folder, files=2)
    KnowledgeBase(core).collections.ensure("Docs")
    done = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(folder)], capture_output=True, text=True,
                          timeout=200, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    before, heavy, status = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    assert before == {}, f"building and showing the page imported {before}"
    # torch (seconds of imports holding the GIL) stays out: the ONNX backend needs only onnxruntime.
    assert heavy == {"onnxruntime": "assistant-indexing", "chromadb": "assistant-indexing"}
    assert "2 files: 2 indexed" in status
