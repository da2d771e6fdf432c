"""The sources panel as a reader checking where an answer came from sees it: real answers (SmolLM2,
whose words do not matter here) over files with a long non-ASCII name, a contract's signature line
and a CSV; an answer the yes/no check held back, one stopped midway, and a plain chat answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QWidget

from assistant.answer import ask_documents
from assistant.chat import Finished, ask
from assistant.config import GenerationSettings, RetrievalSettings
from assistant.core import Core
from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.embedder import DEFAULT_EMBEDDER
from assistant.llm.protocol import Token
from assistant.store.conversations import Message
from assistant.ui.sources_panel import SourcesPanel
from assistant.ui.style import STYLE
from tests.conftest import SMOL, _paths
from tests.knowledge.corpus import pdf_bytes

LONG_NAME = "Mietvertrag Übersicht – §5 Kündigung der Wohnung durch Mieter oder Vermieter (Fassung 2024).txt"
SIGNATURE = "_" * 90
CONTRACT = (f"# Lease\n\nThe notice period for the tenant is three months, given in writing.\n\n"
            f"Signed by the tenant: {SIGNATURE} on the first of May.\n")
QUESTION = "What is the notice period for the tenant?"
SETTINGS = GenerationSettings(temperature=0.0, seed=0, max_tokens=24)
ANSWER = RetrievalSettings(check_model="", check_threshold=0.0)  # the check lets every answer through
HELD_BACK = RetrievalSettings(check_model="", check_threshold=1.01)  # no belief reaches it


@dataclass
class Review:
    core: Core
    answered: Message
    held_back: Message
    stopped: Message
    chat: Message


@pytest.fixture(scope="module")
def review(tmp_path_factory, starter_registry, shared_engine):
    root = tmp_path_factory.mktemp("sources-review")
    folder = root / "documents"
    folder.mkdir()
    (folder / LONG_NAME).write_text("Kündigung\n\nThe notice period for the tenant is three months.\n",
                                    encoding="utf-8")
    (folder / "lease.md").write_text(CONTRACT, encoding="utf-8")
    (folder / "rates.csv").write_text("role,rate\npartner,450\nparalegal,120\n", encoding="utf-8")
    (folder / "house.pdf").write_bytes(pdf_bytes([["House rules", "Quiet hours are from ten in the evening\n"
                                                    "until seven in the morning."]]))
    core = Core(_paths(root / "home"), engine=shared_engine)
    for name in (SMOL, DEFAULT_EMBEDDER):  # the answering model and the embedder: all this needs
        core.registry.register(starter_registry[name])
    kb = KnowledgeBase(core)
    kb.collections.add_source("home", folder)
    kb.index("home")
    core.load_model(SMOL, SETTINGS)

    def finished(events) -> Message:
        return core.conversations.message(next(e for e in events if isinstance(e, Finished)).message.id)

    answered = finished(ask_documents(core, kb, QUESTION, ["home"], settings=SETTINGS, retrieval=ANSWER))
    held_back = finished(ask_documents(core, kb, QUESTION, ["home"], settings=SETTINGS, retrieval=HELD_BACK))
    stream = ask_documents(core, kb, QUESTION, ["home"], settings=SETTINGS, retrieval=ANSWER)
    started = next(stream)
    next(e for e in stream if isinstance(e, Token))
    stream.close()  # the user pressed Stop
    stopped = core.conversations.message(started.assistant_message_id)
    chat = finished(ask(core, "Say hello.", settings=SETTINGS))
    yield Review(core, answered, held_back, stopped, chat)
    core.close()


@pytest.fixture
def panel(qtbot):
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    yield panel
    panel.shutdown()


def test_a_long_file_name_or_an_unbroken_line_does_not_cut_the_cards_off(qtbot, review):
    """A long file name or a signature line made the cards wider than the panel, which does not
    scroll sideways: every card lost its right edge (badges, the ends of the excerpt's lines)."""
    message = review.answered
    assert {Path(r["path"]).name for r in message.sources} >= {LONG_NAME, "lease.md"}
    window = QWidget()
    window.setStyleSheet(STYLE)
    qtbot.addWidget(window)
    panel = SourcesPanel()
    layout = QHBoxLayout(window)
    layout.addWidget(QWidget(), 1)
    layout.addWidget(panel)
    window.resize(900, 800)
    window.show()
    qtbot.waitExposed(window)
    panel.show_message(message)
    viewport = panel.scroll.viewport()
    qtbot.waitUntil(lambda: all(c.isVisible() for c in panel.cards()))
    window.grab().save("/tmp/sources-review.png")
    for card in panel.cards():
        assert card.width() <= viewport.width(), card.title.text()
        for badge in card.badge_labels:
            assert card.mapTo(viewport, badge.geometry().topRight()).x() <= viewport.width()
    named = next(c for c in panel.cards() if c.row["path"].endswith(LONG_NAME))
    assert named.title.text().startswith(LONG_NAME)  # the whole name is kept, and shown on hover
    assert named.title.toolTip() == named.row["path"]
    drawn = named.title.shown_text()
    assert named.title.fontMetrics().horizontalAdvance(drawn) <= named.title.contentsRect().width()
    assert drawn.endswith(" · lines 1–3") or drawn.endswith(" · line 3"), drawn  # where it is stays whole
    signed = next(c for c in panel.cards() if SIGNATURE in c.row["text"])
    assert signed.excerpt.minimumSizeHint().width() < 300
    panel.shutdown()


def test_an_answer_the_check_held_back_says_the_check_read_the_passages(panel, review):
    """It said '[1] in prompt' and 'the model could not find it', beside a Show prompt button whose
    tip said the model was not asked: the numbered passages went to the yes/no check alone."""
    message = review.held_back
    assert message.details["abstained"] == "model" and "prompt" not in message.details
    panel.show_message(message)
    read = [c for c in panel.cards() if c.row["in_prompt"]]
    assert read
    for card in read:
        assert card.badges() == [f"[{card.row['number']}] read by the check"]
        if not card.evidence.isHidden():
            assert card.evidence.text().startswith("<b>Shown to the check:</b>")
    assert " read by the check · 0 cited" in panel.summary.text()
    assert panel.abstain_label.text().startswith("No answer: the yes/no check held it back, so the model was not "
                                                 "asked. Asked whether these passages answer the question")
    assert not panel.prompt_button.isEnabled()
    assert "only the yes/no check read the passages" in panel.prompt_button.toolTip()

    panel.show_message(review.answered)  # answered: the same passages are in the prompt
    assert all(c.badges()[0] == f"[{c.row['number']}] in prompt" for c in panel.cards() if c.row["in_prompt"])


def test_the_prompt_button_says_truly_why_there_is_no_prompt(panel, review):
    """Its tip said 'The model was not asked for this answer' under a plain chat answer and under an
    answer stopped midway, both of which the model wrote."""
    assert review.stopped.status == "stopped" and review.stopped.content
    panel.show_message(review.stopped)
    assert not panel.prompt_button.isEnabled()
    assert panel.prompt_button.toolTip() == "The answer ended before the model reported its prompt."
    panel.show_message(review.chat)
    assert review.chat.content and not review.chat.sources
    assert not panel.prompt_button.isEnabled()
    assert panel.prompt_button.toolTip() == "Only answers from your documents keep their prompt."
    panel.show_message(review.answered)
    assert panel.prompt_button.isEnabled() and panel.prompt_button.toolTip() == ""


def test_a_csv_passage_keeps_its_header_and_rows_apart(panel, review):
    """The excerpt joined every single line break (meant for a PDF's lines), so a CSV's header ran
    into its first row: 'role | rate partner | 450'."""
    panel.show_message(review.answered)
    card = next(c for c in panel.cards() if c.row["path"].endswith("rates.csv"))
    assert card.row["text"].startswith("role | rate\npartner | 450")
    doc = QTextDocument()
    doc.setHtml(card.excerpt.text())
    lines = doc.toPlainText().replace("\u2028", "\n").splitlines()
    assert lines[:2] == ["role | rate", "partner | 450"]
    # A PDF's lines still wrap as one paragraph.
    pdf = next(c for c in panel.cards() if c.row["page"])
    assert "evening\nuntil" in pdf.row["text"]
    doc.setHtml(pdf.excerpt.text())
    assert "evening until seven" in doc.toPlainText()
