"""The main window over the real core and engine (SmolLM2-135M for speed)."""

from __future__ import annotations

import os
import signal

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from assistant.errors import ModelUnavailable
from tests.conftest import SMOL
from tests.ui.conftest import ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS, ask_in_window, window_threads

LONG_QUESTION = "Write a very long story about a dragon who learns to cook. Use many paragraphs."


def test_window_opens_and_the_default_model_becomes_ready(qtbot, core, make_window):
    core.settings.default_model = SMOL
    window = make_window(show=False)
    while_loading = []
    window.model_loading.connect(lambda name: while_loading.append(
        (name, window.isVisible(), window.status_label.text(), window.send_button.isEnabled(),
         window.model_selector.isEnabled(), window.busy_bar.isVisible())))
    with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS) as ready:
        window.show()
        assert not window.send_button.isEnabled()
    # The window was up before the model: loading was visible and nothing could be sent.
    display = core.registry.get(SMOL).display_name
    assert while_loading == [(SMOL, True, f"Loading {display}…", False, False, True)]
    assert ready.args == [SMOL]
    assert core.model.name == SMOL
    assert "ready" in window.status_label.text()
    assert window.offline_label.text() == "Offline"
    assert not window.busy_bar.isVisible()
    # The status bar names the loaded model and the memory the app and its engine use.
    assert window.status_bar.model_label.text() == f"Model: {display}"
    assert window.status_bar.model_label.isVisible()
    window.status_bar.ram_label.clear()
    window.status_bar.refresh_memory()  # read off the UI thread, shown when read
    qtbot.waitUntil(lambda: window.status_bar.ram_label.text() != "")
    shown = window.status_bar.ram_label.text()
    assert shown.startswith("RAM ") and shown.endswith(("MB", "GB")), shown

    # The toolbar's selector: every installed chat model, fastest (smallest) first; the loaded one shown.
    installed = sorted(core.registry.all("chat"), key=lambda m: m.size_bytes)
    assert window.model_selector.names() == [m.name for m in installed]
    assert window.model_selector.current_name() == SMOL
    assert display in window.model_selector.button.text()
    assert window.model_selector.isEnabled()

    # Send needs a question; Stop needs an answer in progress.
    assert not window.send_button.isEnabled()
    qtbot.keyClicks(window.input, "hello")
    assert window.send_button.isEnabled()
    assert not window.stop_button.isEnabled()


def test_send_streams_an_answer_that_is_stored_and_shown(qtbot, smol_core, smol_window):
    window = smol_window
    message = ask_in_window(qtbot, window, "What is the capital of France?")

    assert message.status == "complete"
    assert message.content.strip()
    assert message.model == SMOL
    stored = smol_core.conversations.messages(message.conversation_id)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "complete")]
    assert stored[0].content == "What is the capital of France?"
    assert stored[1].content == message.content

    # Shown: the question, then the answer with its model, how long it took and its speed.
    bubbles = window.chat_view.bubbles()
    assert [b.role for b in bubbles] == ["user", "assistant"]
    assert bubbles[0].text == "What is the capital of France?"
    assert bubbles[1].text == message.content and not bubbles[1].streaming
    meta = bubbles[1].meta.text()
    assert smol_core.registry.get(SMOL).display_name in meta
    assert "answered in" in meta and "tokens/s" in meta
    assert "first words came after" in bubbles[1].meta.toolTip()

    # Back to idle: input cleared, Send waits for text, Stop disabled; the list shows the new chat.
    assert window.input.toPlainText() == ""
    assert not window.stop_button.isEnabled()
    assert window.conversation_id == message.conversation_id
    assert window.conversation_list.ids() == [message.conversation_id]
    assert window.conversation_list.titles() == ["What is the capital of France?"]


def test_enter_sends_and_shift_enter_adds_a_line(qtbot, smol_core, smol_window):
    window = smol_window
    qtbot.keyClicks(window.input, "First line")
    qtbot.keyClick(window.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.input, "second line")
    assert window.input.toPlainText() == "First line\nsecond line"
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
        # While the answer is written: Send is off, Stop is on (other conversations can be looked at:
        # test_window_switching.py).
        assert window.generating
        assert not window.send_button.isEnabled()
        assert window.stop_button.isEnabled()
    question = smol_core.conversations.messages(blocker.args[0].conversation_id)[0]
    assert question.content == "First line\nsecond line"


def test_stop_keeps_the_partial_answer(qtbot, smol_core, smol_window):
    smol_core.settings.generation.max_tokens = 400
    window = smol_window
    streamed: list[str] = []
    window.chat_view.answer_text_changed.connect(streamed.append)
    qtbot.keyClicks(window.input, LONG_QUESTION)
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    # The answer appears while it is being written, in batches, not only at the end.
    qtbot.waitUntil(lambda: len(streamed) >= 2, timeout=ANSWER_TIMEOUT_MS)
    assert window.chat_view.bubbles()[-1].streaming
    assert window.generating
    shown_at_stop = window.chat_view.live_text()
    with qtbot.waitSignal(window.answer_finished, timeout=10_000) as blocker:
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
        assert not window.stop_button.isEnabled()  # one stop is enough
    message = blocker.args[0]

    assert message.status == "stopped"
    assert message.content.startswith(shown_at_stop)
    assert message.completion_tokens is None or message.completion_tokens < 400
    assert smol_core.conversations.message(message.id).status == "stopped"
    assert all(b.startswith(a) for a, b in zip(streamed, streamed[1:], strict=False))
    answer = window.chat_view.last_answer()
    assert answer.text == message.content
    assert "stopped" in answer.meta.text()
    assert answer.status == "stopped"
    assert window.send_button.isEnabled() is False  # input is empty again
    qtbot.keyClicks(window.input, "next")
    assert window.send_button.isEnabled()


def test_conversation_list_shows_and_opens_conversations(qtbot, smol_core, make_window):
    store = smol_core.conversations
    older = store.create(title="About tea")
    store.add_message(older, "user", "How do I brew green tea?")
    store.add_message(older, "assistant", "Use water below boiling.", model=SMOL, tokens_per_s=50.0, ttft_s=0.1)
    newer = store.create(title="About trains")
    store.add_message(newer, "user", "How fast is a TGV?")
    store.add_message(newer, "assistant", "About 320 km/h.", status="stopped", model=SMOL)

    window = make_window()
    assert window.conversation_list.ids() == [newer, older]  # newest first
    assert window.conversation_list.titles() == ["About trains", "About tea"]
    assert window.chat_view.bubbles() == []  # a new chat until one is chosen

    item = window.conversation_list.item_for(older)
    list_widget = window.conversation_list.list
    qtbot.mouseClick(list_widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=list_widget.visualItemRect(item).center())
    assert window.conversation_id == older
    assert [b.text for b in window.chat_view.bubbles()] == ["How do I brew green tea?", "Use water below boiling."]
    assert "50 tokens/s" in window.chat_view.last_answer().meta.text()

    item = window.conversation_list.item_for(newer)
    qtbot.mouseClick(list_widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=list_widget.visualItemRect(item).center())
    assert [b.text for b in window.chat_view.bubbles()] == ["How fast is a TGV?", "About 320 km/h."]
    assert "stopped" in window.chat_view.last_answer().meta.text()

    # Asking in the open conversation continues it, and moves it to the top.
    window.conversation_list.select(older)
    window.open_conversation(older)
    message = ask_in_window(qtbot, window, "And black tea?")
    assert message.conversation_id == older
    assert [m.role for m in store.messages(older)] == ["user", "assistant", "user", "assistant"]
    assert window.conversation_list.ids() == [older, newer]

    # New chat: an empty view; the first question creates a conversation at the top.
    qtbot.mouseClick(window.conversation_list.new_button, Qt.MouseButton.LeftButton)
    assert window.conversation_id is None and window.chat_view.bubbles() == []
    message = ask_in_window(qtbot, window, "Name a prime number.")
    assert message.conversation_id not in (older, newer)
    assert window.conversation_list.ids() == [message.conversation_id, older, newer]
    assert window.conversation_list.list.currentItem().data(Qt.ItemDataRole.UserRole) == message.conversation_id

    # Tab from the search box into the list gives it the focus without opening a conversation;
    # the arrow keys then open the one they move to.
    qtbot.mouseClick(window.conversation_list.new_button, Qt.MouseButton.LeftButton)
    # (The focus event itself: an offscreen window is never active, so it gets no keyboard focus.)
    QApplication.sendEvent(list_widget, QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.TabFocusReason))
    assert list_widget.currentItem() is not None  # what Qt does on a focus by Tab
    assert window.conversation_id is None and window.chat_view.bubbles() == []
    QTest.keyClick(list_widget, Qt.Key.Key_Return)  # Enter opens the row the focus is on
    focused = list_widget.currentItem().data(Qt.ItemDataRole.UserRole)
    assert window.conversation_id == focused == window.conversation_list.ids()[0] and window.chat_view.bubbles()
    QTest.keyClick(list_widget, Qt.Key.Key_Down)  # the arrow keys open the one they move to
    assert window.conversation_id == window.conversation_list.ids()[1]


def test_closing_mid_answer_stops_it_and_ends_the_worker(qtbot, smol_core, smol_window):
    smol_core.settings.generation.max_tokens = 400
    window = smol_window
    qtbot.keyClicks(window.input, LONG_QUESTION)
    with qtbot.waitSignal(window.answer_started, timeout=ANSWER_TIMEOUT_MS) as started:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.chat_view.live_text()) > 10, timeout=ANSWER_TIMEOUT_MS)
    window.close()  # returns once the answer is stopped and stored

    assert window_threads() == []
    answer = smol_core.conversations.messages(started.args[0])[-1]
    assert answer.role == "assistant" and answer.status == "stopped" and answer.content
    # The session's shared engine is still open and usable: the window did not own it.
    assert smol_core.engine.loaded is not None


def test_stop_right_after_send_is_not_lost(qtbot, smol_core, smol_window):
    """A Stop pressed before the engine has even taken the request still stops the answer."""
    smol_core.settings.generation.max_tokens = 400
    window = smol_window
    qtbot.keyClicks(window.input, LONG_QUESTION)
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    message = blocker.args[0]
    assert message.status == "stopped"
    assert message.completion_tokens is None or message.completion_tokens < 400
    assert smol_core.conversations.message(message.id).status == "stopped"


@pytest.mark.parametrize("error, shown", [
    (ModelUnavailable("No model is loaded.", hint="Choose a model first."), "No model is loaded. Choose a model first."),
    (RuntimeError("a bug in the core"), "Something went wrong"),
])
def test_an_answer_that_cannot_start_is_reported_and_the_question_kept(
        qtbot, smol_core, smol_window, monkeypatch, error, shown):
    def failing_ask(core, text, conversation_id=None, settings=None, stop=None):
        raise error
        yield  # a generator, like chat.ask

    monkeypatch.setattr("assistant.ui.answering.ask", failing_ask)
    window = smol_window
    qtbot.keyClicks(window.input, "Will this work?")
    with qtbot.waitSignal(window.answer_failed, timeout=ANSWER_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].startswith(shown)
    assert window.banner.text.startswith(shown)
    assert "a bug in the core" not in window.banner.text  # details go to the log, not the window
    assert window.input.toPlainText() == "Will this work?"  # nothing was stored, so nothing is lost
    assert window.chat_view.bubbles() == []
    assert smol_core.conversations.list() == []
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()


def test_an_engine_killed_while_idle_is_noticed_and_load_again_recovers(qtbot, app_paths, starter_registry,
                                                                         tmp_path):
    """Killed between questions (the system does that when memory runs out): the window says so
    within seconds instead of claiming the model is ready, and "Load again" brings it back."""
    from assistant.core import Core
    from assistant.llm.client import EngineClient
    from assistant.ui.main_window import MainWindow

    engine = EngineClient(log_path=tmp_path / "engine.log")  # its own: the session's shared one is not killed
    core = Core(app_paths, engine=engine)
    for model in starter_registry.values():
        core.registry.register(model)
    core.settings.default_model, core.settings.measure_in_background = SMOL, False
    core.settings.generation.max_tokens = 16
    window = MainWindow(core, owns_core=False)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
            window.show()
        os.kill(engine.pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
        assert "stopped unexpectedly" in window.banner.text and "ran low on memory" in window.banner.text
        assert window.banner.action_button.text() == "Load again"
        assert window.status_bar.model_label.text() == "No model loaded"
        qtbot.keyClicks(window.input, "Say hi.")
        assert not window.send_button.isEnabled()
        window.input.clear()
        with qtbot.waitSignal(window.model_ready, timeout=LOAD_TIMEOUT_MS):
            qtbot.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)
        assert ask_in_window(qtbot, window, "Say hi.").status == "complete"
    finally:
        window.close()
        core.close()
        engine.close()
