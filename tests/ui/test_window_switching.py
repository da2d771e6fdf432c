"""Looking at other conversations while an answer is written: it goes on into its own conversation,
and Stop, Edit and Regenerate follow the conversation shown."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from assistant import chat
from assistant.errors import ModelUnavailable
from assistant.llm.protocol import Token
from tests.ui.conftest import ANSWER_TIMEOUT_MS

GATE_TIMEOUT_S = 60


@pytest.fixture
def gate():
    """Answers wait at the gate (before they start, or after their first word) until the test opens it."""
    gate = threading.Event()
    yield gate
    gate.set()  # never leave a worker waiting


def paused_after_first_word(gate):
    def ask(core, text, conversation_id=None, settings=None, stop=None, replaces=None):
        first = True
        for event in chat.ask(core, text, conversation_id, settings, stop=stop, replaces=replaces):
            yield event
            if first and isinstance(event, Token):
                first = False
                gate.wait(GATE_TIMEOUT_S)
    return ask


def paused_before_start(gate, error: Exception | None = None):
    def ask(core, text, conversation_id=None, settings=None, stop=None, replaces=None):
        gate.wait(GATE_TIMEOUT_S)
        if error is not None:
            raise error
        yield from chat.ask(core, text, conversation_id, settings, stop=stop, replaces=replaces)
    return ask


def seed(store) -> int:
    cid = store.create("About tea")
    store.add_message(cid, "user", "How do I brew green tea?")
    store.add_message(cid, "assistant", "Use water below boiling.")
    return cid


def open_item(qtbot, window, conversation_id: int) -> None:
    sidebar = window.conversation_list
    rect = sidebar.list.visualItemRect(sidebar.item_for(conversation_id))
    qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.conversation_id == conversation_id


def texts(window) -> list[str]:
    return [b.text for b in window.chat_view.bubbles()]


def shown_actions(window) -> set[str]:
    return {k for b in window.chat_view.bubbles() for k, button in b.buttons.items() if not button.isHidden()}


def send(qtbot, window, text: str) -> None:
    qtbot.keyClicks(window.input, text)
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert window.generating


def test_switching_away_and_back_while_an_answer_is_written(qtbot, smol_core, smol_window, gate, monkeypatch):
    monkeypatch.setattr("assistant.ui.answering.ask", paused_after_first_word(gate))
    store = smol_core.conversations
    tea = seed(store)
    window = smol_window
    window.conversation_list.refresh()
    with qtbot.waitSignal(window.answer_started, timeout=ANSWER_TIMEOUT_MS) as started:
        send(qtbot, window, "Name three colours.")
    colours = started.args[0]
    qtbot.waitUntil(lambda: window.chat_view.live_text() != "", timeout=ANSWER_TIMEOUT_MS)
    so_far = window.chat_view.live_text()

    # Another conversation, while the answer waits half-written: shown as stored, nothing of the
    # answer in it; Stop and Send are off, and nothing there can be edited or regenerated.
    open_item(qtbot, window, tea)
    assert texts(window) == ["How do I brew green tea?", "Use water below boiling."]
    assert window.generating and not window.answer_shown()
    assert not window.stop_button.isEnabled() and not window.send_button.isEnabled()
    assert shown_actions(window) == {"copy"}
    # The conversation being answered cannot be deleted meanwhile.
    assert not next(a for a in window.conversation_list.menu_for(colours).actions()
                    if a.text() == "Delete…").isEnabled()
    assert not window.conversation_list.delete(colours)

    # Back: the question and the answer so far, still growing; Stop is on again.
    open_item(qtbot, window, colours)
    assert texts(window) == ["Name three colours.", so_far]
    assert window.chat_view.bubbles()[1].streaming and window.stop_button.isEnabled()

    # Away again while it finishes: it is stored in its own conversation; the one shown is untouched.
    open_item(qtbot, window, tea)
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as finished:
        gate.set()
    answer = finished.args[0]
    assert answer.conversation_id == colours and answer.status == "complete"
    assert window.conversation_id == tea
    assert texts(window) == ["How do I brew green tea?", "Use water below boiling."]
    assert shown_actions(window) == {"copy", "edit", "regenerate"}  # no answer runs now
    assert window.conversation_list.ids() == [colours, tea]
    open_item(qtbot, window, colours)
    assert texts(window) == ["Name three colours.", answer.content]
    assert "tokens/s" in window.chat_view.last_answer().meta.text()


def test_stop_after_coming_back_stops_the_answer(qtbot, smol_core, smol_window, gate, monkeypatch):
    monkeypatch.setattr("assistant.ui.answering.ask", paused_after_first_word(gate))
    tea = seed(smol_core.conversations)
    window = smol_window
    window.conversation_list.refresh()
    with qtbot.waitSignal(window.answer_started, timeout=ANSWER_TIMEOUT_MS) as started:
        send(qtbot, window, "Count to one hundred.")
    qtbot.waitUntil(lambda: window.chat_view.live_text() != "", timeout=ANSWER_TIMEOUT_MS)
    open_item(qtbot, window, tea)
    window.stop()  # Esc in another conversation does not stop this answer
    assert not window._job.stop_requested
    open_item(qtbot, window, started.args[0])
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
        gate.set()
    assert finished.args[0].status == "stopped"
    assert window.chat_view.last_answer().message_id == finished.args[0].id


def test_a_new_chat_left_before_its_question_is_stored_does_not_pull_the_window_back(
        qtbot, smol_core, smol_window, gate, monkeypatch):
    monkeypatch.setattr("assistant.ui.answering.ask", paused_before_start(gate))
    tea = seed(smol_core.conversations)
    window = smol_window
    window.conversation_list.refresh()
    send(qtbot, window, "Name a fruit.")
    open_item(qtbot, window, tea)  # before the question is even stored
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as finished:
        gate.set()
    fruit = finished.args[0].conversation_id
    assert window.conversation_id == tea and texts(window)[0] == "How do I brew green tea?"
    assert window.conversation_list.ids() == [fruit, tea]
    open_item(qtbot, window, fruit)
    assert texts(window) == ["Name a fruit.", finished.args[0].content]


def oolong_asked_in_tea(qtbot, window, store) -> tuple[int, int]:
    """Conversations about tea and coffee, and "And oolong?" sent in the tea one: (tea, coffee)."""
    tea = seed(store)
    coffee = store.create("About coffee")
    window.conversation_list.refresh()
    open_item(qtbot, window, tea)
    send(qtbot, window, "And oolong?")
    return tea, coffee


def test_a_question_that_fails_while_its_conversation_is_not_shown_waits_there(
        qtbot, smol_core, smol_window, gate, monkeypatch):
    monkeypatch.setattr("assistant.ui.answering.ask",
                        paused_before_start(gate, ModelUnavailable("No model is loaded.")))
    store, window = smol_core.conversations, smol_window
    tea, coffee = oolong_asked_in_tea(qtbot, window, store)
    open_item(qtbot, window, coffee)
    with qtbot.waitSignal(window.answer_failed, timeout=ANSWER_TIMEOUT_MS):
        gate.set()
    assert window.banner.text.startswith("No model is loaded.")
    assert window.conversation_id == coffee and texts(window) == [] and window.input.toPlainText() == ""
    open_item(qtbot, window, tea)
    assert window.input.toPlainText() == "And oolong?"  # nothing was stored, so nothing is lost
    assert len(store.messages(tea)) == 2
    # An edit that fails while its conversation is not shown opens again there, the draft kept.
    question = store.messages(tea)[0].id
    qtbot.keyClicks(window.input, " and a draft")
    window.begin_edit(question, "How do I brew white tea?")
    gate.clear()
    send(qtbot, window, "")
    open_item(qtbot, window, coffee)
    with qtbot.waitSignal(window.answer_failed, timeout=ANSWER_TIMEOUT_MS):
        gate.set()
    open_item(qtbot, window, tea)
    assert window._editing == question and window.input.toPlainText() == "How do I brew white tea?"
    assert texts(window) == ["How do I brew green tea?", "Use water below boiling."]  # nothing was dropped
    window.cancel_edit()
    assert window.input.toPlainText() == "And oolong? and a draft"


def held_at_started(gate):
    """The worker has stored the question and the empty answer, and the window has not heard yet."""
    def ask(core, text, conversation_id=None, settings=None, stop=None, replaces=None):
        for event in chat.ask(core, text, conversation_id, settings, stop=stop, replaces=replaces):
            if isinstance(event, chat.Started):
                gate.wait(GATE_TIMEOUT_S)
            yield event
    return ask


def test_coming_back_before_the_window_heard_the_question_was_stored_shows_it_once(
        qtbot, smol_core, smol_window, gate, monkeypatch):
    monkeypatch.setattr("assistant.ui.answering.ask", held_at_started(gate))
    store, window = smol_core.conversations, smol_window
    tea, coffee = oolong_asked_in_tea(qtbot, window, store)
    qtbot.waitUntil(lambda: len(store.messages(tea)) == 4, timeout=ANSWER_TIMEOUT_MS)  # stored, not yet told
    open_item(qtbot, window, coffee)
    open_item(qtbot, window, tea)
    assert texts(window) == ["How do I brew green tea?", "Use water below boiling.", "And oolong?", ""]
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as finished:
        gate.set()
    assert texts(window) == ["How do I brew green tea?", "Use water below boiling.", "And oolong?",
                             finished.args[0].content]
    assert "edit" in {k for k, b in window.chat_view.bubbles()[2].buttons.items() if not b.isHidden()}
