"""The documents page as a demanding user drives it: odd names, long names, stopped runs.

Real core, real dialogs, real indexing thread (the page fixture of test_documents_page).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QMessageBox

from tests.ui import test_documents_page
from tests.ui.dialogs import when_modal
from tests.ui.test_documents_page import INDEX_TIMEOUT_MS, index_and_wait

page = test_documents_page.page  # the fixture: a shown page over the test's core, shut down at the end

MARKUP = "Notes & <b>drafts</b>"
LONG = "Quarterly reports for the northern region sales team and their partners, 2023-24"


def create(qtbot, page, name: str) -> None:
    page.name_edit.setText(name)  # keyClicks types ASCII only
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)


def test_a_name_with_markup_is_shown_as_typed_in_the_page_and_its_dialogs(qtbot, page):
    create(qtbot, page, MARKUP)
    assert page.current() == MARKUP
    title = page.detail.title
    assert title.text() == MARKUP and title.textFormat() == Qt.TextFormat.PlainText

    create(qtbot, page, "notes & <B>DRAFTS</B>")  # a clash quotes the name too
    assert page.name_problem.isVisible() and MARKUP in page.name_problem.text()
    assert page.name_problem.textFormat() == Qt.TextFormat.PlainText

    asked = []

    def read_rename(dialog):
        assert isinstance(dialog, QInputDialog)
        label = next(c for c in dialog.findChildren(QLabel) if MARKUP in c.text())
        asked.append(label.textFormat())
        dialog.reject()

    when_modal(qtbot, read_rename)
    qtbot.mouseClick(page.detail.rename_button, Qt.MouseButton.LeftButton)
    assert asked == [Qt.TextFormat.PlainText]

    def read_remove(box):
        assert isinstance(box, QMessageBox) and MARKUP in box.text()
        asked.append(box.textFormat())
        box.reject()

    when_modal(qtbot, read_remove)
    qtbot.mouseClick(page.detail.remove_button, Qt.MouseButton.LeftButton)
    assert asked[1:] == [Qt.TextFormat.PlainText]
    assert page.names() == [MARKUP]


def test_a_long_name_fits_the_page_and_the_list_without_scrolling_sideways(qtbot, page):
    assert len(LONG) <= 80
    create(qtbot, page, "Short")
    create(qtbot, page, LONG)
    assert page.current() == LONG and page.detail.title.text() == LONG
    page.resize(900, 600)
    QApplication.processEvents()
    # The title at its full width made the page (and the window) at least ~1,100 px wide.
    assert page.minimumSizeHint().width() <= 900
    assert page.width() == 900
    assert not page.list.horizontalScrollBar().isVisible()
    item = page.list.findItems(LONG, Qt.MatchFlag.MatchExactly)[0]
    assert item.toolTip() == LONG and page.detail.title.toolTip() == LONG


def test_a_first_run_cancelled_says_after_a_restart_that_it_did_not_finish(qtbot, page, core, tmp_path):
    from assistant.ui.documents_page import DocumentsPage
    from tests.knowledge.helpers import write_corpus

    folder = tmp_path / "big"
    files = write_corpus(folder, files=60, paragraphs=12, seed=5)
    create(qtbot, page, "Big")

    def cancel_once_some_are_stored(name, event):
        if event.phase == "indexing" and event.chunks and "Big" not in page._cancelling:
            page.cancel("Big")

    page.queue.progress.connect(cancel_once_some_are_stored)
    with qtbot.waitSignal(page.indexing_finished, timeout=INDEX_TIMEOUT_MS) as blocker:
        page.add_paths([folder])
    page.queue.progress.disconnect(cancel_once_some_are_stored)
    indexed = blocker.args[0].report.indexed
    assert blocker.args[0].cancelled and 0 < indexed < len(files)
    assert page.shutdown(timeout=30)

    again = DocumentsPage(core)  # the next start: the banner of the cancelled run is gone
    qtbot.addWidget(again)
    try:
        again.show()
        assert again.resume_interrupted() == []  # the user stopped it: not resumed on its own
        assert again.current() == "Big" and again.banner.text == ""
        line = again.detail.status_label.text()
        assert line.startswith(f"{indexed} files: {indexed} indexed") and "has not finished" in line

        # While it runs, the progress box speaks; once done, the warning goes.
        def reindex():
            again.reindex()
            assert "has not finished" not in again.detail.status_label.text()

        index_and_wait(qtbot, again, reindex)
        line = again.detail.status_label.text()
        assert line.startswith(f"{len(files)} files: {len(files)} indexed") and "has not finished" not in line
    finally:
        assert again.shutdown(timeout=30)


def test_collections_changed_elsewhere_reach_the_picker_when_the_page_is_shown(qtbot, page, core):
    from assistant.knowledge.collections import Collections
    from assistant.ui.collection_picker import CollectionPicker

    picker = CollectionPicker(core)
    qtbot.addWidget(picker)
    page.collections_changed.connect(picker.refresh)
    create(qtbot, page, "Office")
    assert picker.names() == ["Office"]

    page.hide()
    cli = Collections(core.db)  # what `assistant index --collection ...` does meanwhile
    cli.create("Invoices")
    cli.rename("Office", "Office 2024")
    with qtbot.waitSignal(page.collections_changed):
        page.show()
    assert page.names() == ["Invoices", "Office 2024"]
    assert picker.names() == ["Invoices", "Office 2024"]

    page.hide()
    with qtbot.assertNotEmitted(page.collections_changed):
        page.show()  # nothing changed: the picker is left alone
