"""The chat in the window: Markdown answers, copy, regenerate, and editing an earlier question."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assistant.store.conversations import Message
from assistant.ui.answer_copy import answer_mime
from assistant.ui.chat_view import ChatView, MessageBubble
from tests.ui.conftest import ANSWER_TIMEOUT_MS, ask_in_window

MARKDOWN = """Here are **three** fruits:

- apple
- banana

| fruit | colour |
|---|---|
| apple | red |

```python
print("hi")
```
"""


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_answers_render_markdown_lists_tables_and_code(qtbot):
    bubble = MessageBubble("assistant", MARKDOWN)
    qtbot.addWidget(bubble)
    html = bubble.body.text()
    assert "<li" in html and ">apple<" in html
    assert "<table" in html and ">colour<" in html
    assert "<pre" in html and "white-space:pre-wrap" in html and "print" in html
    assert "font-weight:700" in html or "font-weight:600" in html  # **three**
    # The question is shown as typed, never interpreted.
    question = MessageBubble("user", "**not bold** <b>nor this</b>")
    qtbot.addWidget(question)
    assert question.body.textFormat() == Qt.TextFormat.PlainText
    assert question.body.text() == "**not bold** <b>nor this</b>"


def test_actions_show_on_the_right_bubbles_and_hide_while_an_answer_is_written(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    view.show()
    answer = dict(conversation_id=1, role="assistant", status="complete")
    view.show_messages([Message(1, 1, "user", "q1", "complete"), Message(2, content="a1", **answer),
                        Message(3, 1, "user", "q2", "complete"), Message(4, content="a2", **answer)],
                       lambda m: "meta")
    bubbles = view.bubbles()
    shown = [sorted(k for k, b in bubble.buttons.items() if not b.isHidden()) for bubble in bubbles]
    assert shown == [["edit"], ["copy"], ["edit"], ["copy", "regenerate"]]
    view.set_busy(True)
    shown = [sorted(k for k, b in bubble.buttons.items() if not b.isHidden()) for bubble in bubbles]
    assert shown == [[], ["copy"], [], ["copy"]]
    view.set_busy(False)
    view.truncate_from(3)
    assert [b.message_id for b in view.bubbles()] == [1, 2]
    assert not view.bubbles()[1].buttons["regenerate"].isHidden()  # the last answer now


def test_copy_puts_the_answer_as_shown_and_as_plain_text_on_the_clipboard(qtbot):
    view = ChatView()
    qtbot.addWidget(view)
    view.show()
    view.show_messages([Message(1, 1, "user", "Fruits?", "complete"),
                        Message(2, 1, "assistant", MARKDOWN + "\nSee [1] and [the guide](https://example.org).",
                                "complete")], lambda m: "")
    button = view.bubbles()[1].buttons["copy"]
    qtbot.waitUntil(button.isVisible)  # a bubble added to a shown view is shown by the next event loop turn
    QApplication.clipboard().clear()
    with qtbot.waitSignal(view.copied) as copied:
        click(qtbot, button)
    assert copied.args == [2]
    data = QApplication.clipboard().mimeData()
    assert data.hasHtml() and data.hasText()
    # Rich text, for Word or Outlook: bold, the list and the table as shown, the citation as written.
    html = data.html()
    assert "font-weight:700" in html and "<li" in html and "<table" in html and ">colour<" in html
    assert "[1]" in html and "cite:" not in html and "\u200b" not in html
    # Plain text a person would type: no Markdown marks, cells split by tabs.
    assert data.text() == (
        "Here are three fruits:\n\n• apple\n• banana\n\nfruit\tcolour\napple\tred\n\n"
        'print("hi")\n\nSee [1] and the guide (https://example.org).\n')


def test_copy_from_the_window_says_so(qtbot, smol_core, smol_window):
    window = smol_window
    message = ask_in_window(qtbot, window, "Name three colours.")
    QApplication.clipboard().clear()
    bubble = window.chat_view.bubble_for(message.id)
    with qtbot.waitSignal(window.chat_view.copied) as copied:
        click(qtbot, bubble.buttons["copy"])
    assert copied.args == [message.id]
    data = QApplication.clipboard().mimeData()
    assert data.hasHtml() and data.text().split() == answer_mime(message.content).text().split()
    assert window.status_label.text() == "Answer copied"


def test_regenerate_replaces_the_last_answer(qtbot, smol_core, smol_window):
    smol_core.settings.generation.seed = None  # another answer, not the same one again
    smol_core.settings.generation.temperature = 1.0
    window = smol_window
    first = ask_in_window(qtbot, window, "Say something about the sea.")
    cid = first.conversation_id
    bubble = window.chat_view.bubble_for(first.id)
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        click(qtbot, bubble.buttons["regenerate"])
        assert window.generating and not window.send_button.isEnabled()
        assert window.chat_view.bubble_for(first.id) is None  # the old answer left the view at once
    again = blocker.args[0]
    stored = smol_core.conversations.messages(cid)
    assert [(m.role, m.content) for m in stored] == [("user", "Say something about the sea."),
                                                     ("assistant", again.content)]
    assert again.created_at > first.created_at and again.status == "complete"  # (SQLite may reuse the id)
    shown = window.chat_view.bubbles()
    assert [b.text for b in shown] == ["Say something about the sea.", again.content]
    assert not shown[1].buttons["regenerate"].isHidden()
    assert window.conversation_id == cid and window.conversation_list.ids() == [cid]


def test_edit_an_earlier_question_and_resend(qtbot, smol_core, smol_window):
    window = smol_window
    first = ask_in_window(qtbot, window, "Name a colour.")
    cid = first.conversation_id
    ask_in_window(qtbot, window, "Name a fruit.")
    ask_in_window(qtbot, window, "Name an animal.")
    questions = [b for b in window.chat_view.bubbles() if b.role == "user"]
    assert len(questions) == 3 and all(b.message_id for b in questions)

    # Edit the second question: it goes into the box, with a strip saying what Send will do.
    click(qtbot, questions[1].buttons["edit"])
    assert window.editing == questions[1].message_id
    assert window.input.toPlainText() == "Name a fruit."
    assert window.input_bar.editing_strip.isVisible() and window.send_button.text() == "Resend"
    # Cancel leaves everything as it was.
    click(qtbot, window.input_bar.cancel_edit_button)
    assert window.editing is None and window.input.toPlainText() == ""
    assert not window.input_bar.editing_strip.isVisible() and window.send_button.text() == "Send"
    assert len(smol_core.conversations.messages(cid)) == 6

    click(qtbot, questions[1].buttons["edit"])
    window.input.selectAll()
    qtbot.keyClicks(window.input, "Name a vegetable.")
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS) as blocker:
        click(qtbot, window.send_button)
    answer = blocker.args[0]
    stored = smol_core.conversations.messages(cid)
    assert [m.content for m in stored if m.role == "user"] == ["Name a colour.", "Name a vegetable."]
    assert len(stored) == 4 and stored[-1].id == answer.id and answer.status == "complete"
    assert [b.text for b in window.chat_view.bubbles()] == [m.content for m in stored]
    assert window.editing is None and not window.input_bar.editing_strip.isVisible()
    # The edited question can itself be edited again: it has its stored id.
    assert window.chat_view.bubbles()[2].message_id == stored[2].id
    assert not window.chat_view.bubbles()[2].buttons["edit"].isHidden()


def test_an_edit_whose_answer_cannot_start_comes_back_with_the_draft_kept(qtbot, smol_core, smol_window,
                                                                         monkeypatch):
    """Edit an earlier question while the box holds an unsent draft; the answer fails before it starts.
    The edit opens again as it was sent, and the draft comes back when it is left or sent."""
    from assistant import chat
    from assistant.errors import ModelUnavailable

    store = smol_core.conversations
    cid = store.create("Colours")
    question = store.add_message(cid, "user", "Name a colour.")
    store.add_message(cid, "assistant", "Red.")
    window = smol_window
    window.open_conversation(cid)
    qtbot.keyClicks(window.input, "my unsent draft")
    failures = []

    def failing(core, message_id, text, settings=None, answer=None, stop=None):
        failures.append(text)
        raise ModelUnavailable("No model is loaded.")
        yield  # a generator, like chat.edit_and_resend

    monkeypatch.setattr("assistant.ui.answering.edit_and_resend", failing)
    bubble = window.chat_view.bubble_for(question)
    qtbot.waitUntil(bubble.buttons["edit"].isVisible)
    click(qtbot, bubble.buttons["edit"])
    window.input.selectAll()
    qtbot.keyClicks(window.input, "Name a fruit.")
    with qtbot.waitSignal(window.answer_failed, timeout=ANSWER_TIMEOUT_MS):
        click(qtbot, window.send_button)
    assert failures == ["Name a fruit."]
    assert window.editing == question and window.input.toPlainText() == "Name a fruit."
    assert window.input_bar.editing_strip.isVisible() and window.send_button.text() == "Resend"
    assert [m.content for m in store.messages(cid)] == ["Name a colour.", "Red."]  # nothing was changed
    # Left: the draft is back.
    click(qtbot, window.input_bar.cancel_edit_button)
    assert window.editing is None and window.input.toPlainText() == "my unsent draft"

    # Sent again once the model answers: the draft is back too, and the edit replaced the question.
    edit = window.chat_view.bubble_for(question).buttons["edit"]  # the transcript was shown anew
    qtbot.waitUntil(edit.isVisible)
    click(qtbot, edit)
    window.input.selectAll()
    qtbot.keyClicks(window.input, "Name a fruit.")
    with qtbot.waitSignal(window.answer_failed, timeout=ANSWER_TIMEOUT_MS):
        click(qtbot, window.send_button)
    monkeypatch.setattr("assistant.ui.answering.edit_and_resend", chat.edit_and_resend)
    with qtbot.waitSignal(window.answer_finished, timeout=ANSWER_TIMEOUT_MS):
        click(qtbot, window.send_button)
    assert window.editing is None and window.input.toPlainText() == "my unsent draft"
    assert [m.content for m in store.messages(cid) if m.role == "user"] == ["Name a fruit."]


def test_a_regenerate_that_cannot_start_leaves_the_box_alone(qtbot, smol_core, smol_window, monkeypatch):
    from assistant.errors import ModelUnavailable

    store = smol_core.conversations
    cid = store.create("Colours")
    store.add_message(cid, "user", "Name a colour.")
    answer = store.add_message(cid, "assistant", "Red.")
    window = smol_window
    window.open_conversation(cid)
    qtbot.keyClicks(window.input, "my unsent draft")

    def failing(core, message_id, text, settings=None, answer=None, stop=None):
        raise ModelUnavailable("No model is loaded.")
        yield

    monkeypatch.setattr("assistant.ui.answering.edit_and_resend", failing)
    bubble = window.chat_view.bubble_for(answer)
    qtbot.waitUntil(bubble.buttons["regenerate"].isVisible)
    with qtbot.waitSignal(window.answer_failed, timeout=ANSWER_TIMEOUT_MS):
        click(qtbot, bubble.buttons["regenerate"])
    assert window.editing is None and window.input.toPlainText() == "my unsent draft"
    assert [b.text for b in window.chat_view.bubbles()] == ["Name a colour.", "Red."]


def test_an_answer_that_restarts_replaces_what_was_streamed(qtbot):
    from assistant.chat import Restarted
    from assistant.llm.protocol import Token
    from assistant.ui.workers import AnswerJob

    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer()
    posted, taken = [], []

    def stream(_stop):
        yield Token("X is an example ")
        taken.append(job.take_text())  # the UI drained the first words before the restart
        yield Token("of what.")
        yield Restarted("The answer only repeated the question.")
        yield Token("Y [1]")

    job = AnswerJob(stream=stream, cancel=lambda: None, post_event=posted.append)
    job.run()
    taken.append(job.take_text())
    assert taken == [(False, "X is an example "), (True, "Y [1]")]
    assert [type(e) for e in posted] == [Restarted]
    for restarted, text in taken:
        view.append_to_answer(text, replace=restarted)
    assert view.bubbles()[-1].text == "Y [1]"
    assert job.take_text() == (False, "")
