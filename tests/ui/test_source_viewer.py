"""Opening a retrieved source from the panel: a PDF at its page with the passage marked, a text
file with the passage selected, and a file that changed or is gone."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QRect, Qt, QUrl

from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.passages import CHANGED, CHANGED_NOT_FOUND
from assistant.store.conversations import Message
from assistant.store.source_rows import page_at, source_place
from assistant.ui.source_viewer import SourceViewer
from assistant.ui.sources_panel import SourcesPanel
from tests.knowledge.corpus import pdf_bytes
from tests.ui import answers
from tests.ui.answers import DEPOSIT_Q, notes_markdown

answered = answers.answered  # the session fixture: real answers over real documents

LOAD_MS = 30_000


def letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


@pytest.fixture
def panel(qtbot):
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    opened: list[QUrl] = []
    panel.open_url = lambda url: opened.append(url) or True
    panel.opened_urls = opened
    panel.resize(420, 800)
    panel.show()
    yield panel
    if panel._viewer is not None:
        panel._viewer.close()
    panel.shutdown()


def open_card(qtbot, panel: SourcesPanel, row: dict) -> SourceViewer:
    card = next(c for c in panel.cards() if c.rank == row["rank"])
    viewer = panel.viewer()
    with qtbot.waitSignal(viewer.loaded, timeout=LOAD_MS) as loaded, \
            qtbot.waitSignal(panel.open_requested, timeout=LOAD_MS) as requested:
        qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    assert requested.args == [row]
    assert loaded.args == [viewer.mode]
    assert panel.selected() == row
    return viewer


def test_a_pdf_source_opens_at_its_page_with_the_passage_marked(qtbot, panel, answered):
    message = answered.deposit
    row = answered.source(message, ".pdf")
    assert row["page"] == 2 and "security deposit" in row["text"]
    panel.show_message(message)
    viewer = open_card(qtbot, panel, row)
    assert viewer.isVisible() and viewer.mode == "pdf"
    assert viewer.note_text() == ""  # unchanged file: nothing to warn about
    view = viewer.pdf_view
    assert view.current_page() == row["page"] - 1
    assert viewer.page_label.text() == "Page 2 of 3"
    marks = view.marks(row["page"] - 1)
    assert marks and all(r.width() > 0 and r.height() > 0 for r in marks)
    # The marked characters are the passage: all of it on its page, the rest on the next one.
    assert letters(view.marked_text()) == letters(row["text"])
    assert "securitydeposit" in letters(view.pdf.getSelectionAtIndex(row["page"] - 1, 0, 10_000).text())
    # The question's words ("security", "deposit") are marked more strongly, inside the passage.
    words = view.term_marks(row["page"] - 1)
    assert len(words) >= 2
    assert all(any(m.contains(w.center()) for m in marks) for w in words)

    # On screen: the first marked line, mapped into the viewport, has the page's text under it
    # (dark pixels) and the mark's yellow over it; i.e. the overlay sits on the passage.
    first = min(marks, key=lambda r: r.top())
    area = view.to_viewport(first).toAlignedRect() & QRect(0, 0, view.viewport().width(), view.viewport().height())
    assert not area.isEmpty()

    def painted() -> bool:
        image = view.viewport().grab().toImage()
        pixels = [image.pixelColor(x, y) for x in range(area.left(), area.right(), 2)
                  for y in range(area.top(), area.bottom())]
        dark = any(c.lightness() < 90 for c in pixels)
        yellow = any(c.red() > 200 and c.green() > 200 and c.blue() < 190 for c in pixels)
        return dark and yellow

    qtbot.waitUntil(painted, timeout=LOAD_MS)
    viewer.grab().save("/tmp/source_viewer_pdf.png")

    # Paging on shows the rest of the passage on the next page; no marks on the other pages.
    qtbot.mouseClick(viewer.next_button, Qt.MouseButton.LeftButton)
    assert view.current_page() == row["page"] and view.marks(row["page"])
    assert view.marks(0) == []


def test_a_cited_passage_over_a_page_break_opens_at_the_page_of_the_cited_sentence(qtbot, answered):
    row = answered.source(answered.deposit, ".pdf")
    assert (row["page"], row["page_end"]) == (2, 3) and row["cited"]
    assert row["cited_page"] == 2  # "The security deposit is 1,500 euros." stands on page 2
    assert source_place(row) == "page 2 (passage: pages 2–3)"
    # An answer drawn from the passage's part on page 3 opens there, the passage marked on both pages.
    later = dict(row, cited_page=page_at(row, row["page_breaks"][-1][0]))
    assert later["cited_page"] == 3
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=LOAD_MS):
        viewer.open_source(later, DEPOSIT_Q)
    view = viewer.pdf_view
    assert viewer.mode == "pdf" and view.current_page() == 2 and viewer.page_label.text() == "Page 3 of 3"
    assert view.marks(1) and view.marks(2)
    assert viewer.windowTitle() == "handbook.pdf — page 3 (passage: pages 2–3)"
    viewer.shutdown()


def test_a_text_source_is_scrolled_to_and_selected(qtbot, panel, answered):
    message = answered.rent
    row = answered.source(message, ".md")
    assert row["line_start"] > 40 and "1,250" in row["text"]
    panel.show_message(message)
    viewer = open_card(qtbot, panel, row)
    assert viewer.mode == "text"
    assert viewer.selected_text() == row["text"]
    text_view = viewer.text_view
    assert text_view.toPlainText() == notes_markdown().rstrip("\n") or row["text"] in text_view.toPlainText()
    # Scrolled: the passage is far down the file, and its cursor is inside the visible area.
    assert text_view.verticalScrollBar().value() > 0
    assert text_view.viewport().rect().contains(text_view.cursorRect().center())
    # The passage stays marked when the user's own selection moves elsewhere.
    marked = [s.cursor.selectedText().replace("\u2029", "\n") for s in text_view.extraSelections()]
    assert marked == [row["text"]]
    viewer.grab().save("/tmp/source_viewer_text.png")


def test_open_in_the_system_viewer_hands_over_the_file_url(qtbot, panel, answered):
    message = answered.deposit
    row = answered.source(message, ".pdf")
    panel.show_message(message)
    card = next(c for c in panel.cards() if c.rank == row["rank"])
    qtbot.mouseClick(card.system_button, Qt.MouseButton.LeftButton)
    expected = QUrl.fromLocalFile(str(answered.folder / "handbook.pdf"))
    assert panel.opened_urls == [expected]
    assert expected.toLocalFile() == row["path"]

    viewer = open_card(qtbot, panel, row)
    qtbot.mouseClick(viewer.system_button, Qt.MouseButton.LeftButton)
    assert panel.opened_urls == [expected, expected]


@pytest.fixture
def notes_kb(core, tmp_path):
    """A real index of one text file (no model needed: the rows come from a search)."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "notes.md").write_text(notes_markdown(), encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("notes", folder)
    kb.index("notes")
    return folder / "notes.md", kb


def rent_row(kb) -> dict:
    results = kb.search("monthly rent", ["notes"], k=3)
    return next(r.to_dict() for r in results if "1,250" in r.text)


def test_a_deleted_file_is_explained_not_a_crash(qtbot, panel, notes_kb):
    path, kb = notes_kb
    row = {**rent_row(kb), "in_prompt": True, "number": 1, "cited": True}
    path.unlink()
    message = Message(id=1, conversation_id=1, role="assistant", content="It is 1,250 euros [1].",
                      status="complete", sources=[row], details={"question": "How much is the monthly rent?"})
    panel.show_message(message)
    card = panel.cards()[0]
    assert not card.system_button.isEnabled()  # nothing to hand to the system viewer
    viewer = panel.viewer()
    with qtbot.waitSignal(viewer.loaded, timeout=LOAD_MS) as loaded:
        qtbot.mouseDClick(card, Qt.MouseButton.LeftButton)  # a double click opens, like Open
    assert loaded.args == ["problem"]
    assert viewer.problem() == f"The file is no longer at {path}. It was moved or deleted after it was indexed."
    assert viewer.stack.currentWidget() is viewer.problem_label
    assert not viewer.system_button.isEnabled()
    assert panel.opened_urls == []
    # A file name is shown as written, not read as markup, and a very long one is shortened.
    odd = "Smith & Jones <draft> #2 " + "Kündigungsfrist im Mietrecht " * 6 + "v3.txt"
    viewer.open_source({**row, "path": str(path.parent / odd)})
    shown = viewer.title.text()
    assert "Smith &amp; Jones &lt;draft&gt; #2" in shown and shown.count("…") == 1 and "Mietrecht v3.txt" in shown
    assert viewer.title.toolTip() == str(path.parent / odd)


def test_a_changed_file_says_so_and_still_finds_the_passage(qtbot, notes_kb):
    path, kb = notes_kb
    row = rent_row(kb)
    path.write_text("# Added later\n\nA paragraph written after indexing.\n\n" + notes_markdown(), encoding="utf-8")
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=LOAD_MS) as loaded:
        viewer.open_source(row, "How much is the monthly rent?")
    assert loaded.args == ["text"]
    assert viewer.note_text() == CHANGED
    assert viewer.selected_text() == row["text"]
    # The recorded offsets are stale; the selection is where the passage is now.
    assert viewer.text_view.textCursor().selectionStart() > row["start"]
    viewer.shutdown()


def test_a_pdf_passage_whose_first_words_also_end_the_page_before_is_marked_on_its_own_page(qtbot, core, tmp_path):
    """Page 1 has "Rent increases are limited ..."; the passage on page 2 opens "Rent increases require
    ...". The passage is marked whole on page 2, not its first two words on page 1 and the rest on 2."""
    filler = "This paragraph describes general house rules for all tenants of the building in some detail"
    rules = [f"{filler} number {i}, covering hallway use, bicycle storage and quiet hours." for i in range(6)]
    page_1 = rules[:3] + ["Rent increases are limited by the local rent index and may happen once a year."]
    page_2 = ["Rent increases require two months notice in writing to the tenant."] + rules[3:]
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.pdf").write_bytes(pdf_bytes([page_1, page_2]))
    kb = KnowledgeBase(core)
    kb.collections.add_source("rules", folder)
    kb.index("rules")
    row = next(r.to_dict() for r in kb.search("notice for rent increases", ["rules"], k=3)
               if r.text.startswith("Rent increases require"))
    assert row["page"] == 2
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=LOAD_MS):
        viewer.open_source(row, "How much notice is needed for rent increases?")
    view = viewer.pdf_view
    assert viewer.mode == "pdf" and view.current_page() == 1
    assert view.marks(0) == []  # nothing of it on page 1
    assert letters(view.marked_text()) == letters(row["text"])
    viewer.shutdown()


def test_a_changed_pdf_that_keeps_only_a_passages_first_words_says_the_passage_is_gone(qtbot, core, tmp_path):
    folder = tmp_path / "lease"
    folder.mkdir()
    pdf = folder / "lease.pdf"
    pdf.write_bytes(pdf_bytes([["Cover page of the lease."],
                               ["The deposit is 1,500 euros and it is returned within thirty days after the keys "
                                "are handed back to the landlord."]]))
    kb = KnowledgeBase(core)
    kb.collections.add_source("lease", folder)
    kb.index("lease")
    row = next(r.to_dict() for r in kb.search("deposit returned", ["lease"], k=3) if "thirty days" in r.text)
    # Rewritten since: the same opening words, then other terms.
    pdf.write_bytes(pdf_bytes([["Cover page of the lease."],
                               ["The deposit is 1,500 euros. Damage found at the handover is deducted at cost."]]))
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=LOAD_MS):
        viewer.open_source(row, "When is the deposit returned?")
    view = viewer.pdf_view
    assert viewer.mode == "pdf" and viewer.note_text() == CHANGED_NOT_FOUND
    assert view.marks(0) == [] and view.marks(1) == [] and view.marked_text() == ""
    viewer.shutdown()
