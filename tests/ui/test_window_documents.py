"""Asking in the window with and without documents: the Sources panel, citations, regenerate.

The window runs over the session's indexed knowledge base (tests/ui/answers.py):
a PDF handbook and a Markdown file in the collection "home", answered by Qwen2.5-0.5B.
"""

from __future__ import annotations

import copy
import threading

import pytest
from PySide6.QtCore import QPoint, Qt

from assistant.answer import cited_numbers
from assistant.config import GenerationSettings
from assistant.ui.sources_panel import NO_DOCUMENTS
from tests.conftest import LARGE, QWEN
from tests.ui.answers import DEPOSIT_Q
from tests.ui.conftest import ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS, ask_in_window, window_threads
from tests.ui.test_sources_panel import anchor_point


@pytest.fixture
def doc_window(qtbot, answered):
    from assistant.ui.main_window import MainWindow

    core = answered.core
    saved = copy.deepcopy(core.settings)
    core.settings.generation = GenerationSettings(temperature=0.0, seed=0, max_tokens=40)
    core.settings.default_model = QWEN
    core.settings.measure_in_background = False
    core.model = None  # the session's engine is shared: another test may have loaded another model
    window = MainWindow(core, owns_core=False)
    qtbot.addWidget(window)
    window.resize(1024, 700)  # room for the Sources panel beside the list and the chat (side_panels.py)
    with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    yield window
    window.close()
    assert window_threads() == []
    assert not core.db.conn.in_transaction
    core.settings = saved


def choose_collections(qtbot, window, names: list[str]) -> None:
    picker = window.collection_picker
    menu = picker.menu_
    menu.popup(picker.mapToGlobal(QPoint(0, picker.height())))
    for name in names:
        with qtbot.waitSignal(picker.selection_changed):
            qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(picker.action(name)).center())
    menu.hide()
    assert picker.selected() == names


def test_without_documents_the_panel_says_so(qtbot, doc_window):
    window = doc_window
    assert window.collection_picker.selected() == [] and "home" in window.collection_picker.names()
    message = ask_in_window(qtbot, window, "Say hello.")
    assert message.sources == []
    assert window.sources_panel.message().id == message.id
    assert window.sources_panel.empty.isVisible() and window.sources_panel.empty.text() == NO_DOCUMENTS
    assert window.sources_dock.isVisible()


def test_with_a_collection_the_answer_cites_and_a_click_on_n_selects_the_source(
        qtbot, doc_window, answered, monkeypatch):
    window = doc_window
    from assistant.knowledge.base import KnowledgeBase

    searched_on = []
    search = KnowledgeBase.search

    def spy(self, *args, **kwargs):
        searched_on.append(threading.current_thread().name)
        return search(self, *args, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "search", spy)
    core = window.core
    core.release_check_engine()  # as at a start: the session's answers loaded it
    choose_collections(qtbot, window, ["home"])
    if LARGE in {model.name for model in core.chat_models()}:
        # Choosing documents loads the model that checks answers (the 1.5B by default) in the
        # background, so the first question does not wait for it.
        large = str(core.registry.resolve(LARGE).path)
        qtbot.waitUntil(lambda: core._check_engine is not None and core._check_engine.holds_model()
                        and core._check_engine.loaded.path == large, timeout=LOAD_TIMEOUT_MS)
    message = ask_in_window(qtbot, window, DEPOSIT_Q)

    # Retrieval (and with it the embedder) ran on the engine thread, never on the UI thread.
    assert searched_on and all(name.startswith("assistant-engine-worker") for name in searched_on)
    assert message.status == "complete"
    assert message.content == answered.deposit.content  # the same question, model and seed as the fixture
    assert message.details["collections"] == ["home"]
    panel = window.sources_panel
    assert panel.message().id == message.id
    assert [c.rank for c in panel.cards()] == sorted(r["rank"] for r in message.sources)
    assert panel.question() == DEPOSIT_Q

    numbers = cited_numbers(message.content, sum(r["in_prompt"] for r in message.sources))
    assert numbers, f"the model cited nothing: {message.content!r}"
    bubble = window.chat_view.bubble_for(message.id)
    qtbot.waitUntil(lambda: bubble.body.isVisible() and bubble.body.width() < bubble.width())
    panel.show_message(None)  # the click alone must bring the answer back into the panel
    with qtbot.waitSignal(panel.source_selected) as selected:
        qtbot.mouseClick(bubble.body, Qt.MouseButton.LeftButton,
                         pos=anchor_point(bubble.body, f"cite:{numbers[0]}"))
    row = selected.args[0]
    assert row == next(r for r in message.sources if r["number"] == numbers[0]) and row["cited"]
    assert panel.message().id == message.id and panel.selected() == row

    # Regenerate draws on the same collection, even after the picker was set back to none. It wants
    # another answer, so it samples at the chat's temperature; the first answer picked the likeliest words.
    window.collection_picker.set_selected([])
    window.core.settings.generation.temperature = 0.5
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(bubble.buttons["regenerate"], Qt.MouseButton.LeftButton)
    again = blocker.args[0]
    assert again.details["collections"] == ["home"] and again.sources
    assert message.settings["temperature"] == 0.0 and again.settings["temperature"] == 0.5
    assert panel.message().id == again.id

    # Opening the conversation again brings back its documents in the picker.
    window.new_chat()
    assert window.sources_panel.message() is None
    window.open_conversation(message.conversation_id)
    assert window.collection_picker.selected() == ["home"]
    assert window.sources_panel.message().id == again.id


def test_a_conversation_whose_collection_was_removed_says_so_and_regenerate_waits_for_documents(qtbot, doc_window):
    window = doc_window
    store = window.core.conversations
    conversation = store.create(title="Old lease")
    question = store.add_message(conversation, "user", "How much is the deposit?")
    store.add_message(conversation, "assistant", "Two months' rent [1].", model=QWEN,
                      details={"collections": ["Archive 2019"]}, sources=[])
    window.open_conversation(conversation)
    assert window.banner.text == ("The collection 'Archive 2019' this conversation drew on no longer exists: "
                                    "choose documents below, or the model answers alone.")
    assert window.collection_picker.selected() == []
    bubble = window.chat_view.last_answer()
    with qtbot.assertNotEmitted(window.answer_finished, wait=300):
        qtbot.mouseClick(bubble.buttons["regenerate"], Qt.MouseButton.LeftButton)
    assert not window.generating and "choose documents below the chat and ask again" in window.banner.text
    assert [m.id for m in store.messages(conversation)][0] == question and len(store.messages(conversation)) == 2
    window.new_chat()  # another conversation: the note was about this one
    assert window.banner.text == ""
    # A name stored in another case ("HOME", as `ask` once kept what was typed) is the collection "home".
    typed = store.create(title="Typed")
    store.add_message(typed, "user", DEPOSIT_Q)
    store.add_message(typed, "assistant", "Two months' rent [1].", model=QWEN, details={"collections": ["HOME"]})
    window.open_conversation(typed)
    assert window.collection_picker.selected() == ["home"] and window.banner.text == ""
    # Documents chosen after the note: it goes, and Regenerate answers from them.
    window.open_conversation(conversation)
    assert "no longer exists" in window.banner.text
    choose_collections(qtbot, window, ["home"])
    assert window.banner.text == ""
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(window.chat_view.last_answer().buttons["regenerate"], Qt.MouseButton.LeftButton)
    assert blocker.args[0].details["collections"] == ["home"] and blocker.args[0].sources
