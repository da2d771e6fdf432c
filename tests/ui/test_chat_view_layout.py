"""The chat view never scrolls sideways for ordinary content: an empty chat, long words, URLs, code."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextDocument

from assistant.store.conversations import Message
from assistant.ui.chat_view import ChatView
from assistant.ui.source_format import ZERO_WIDTH_SPACE as ZWSP
from assistant.ui.source_format import breakable
from assistant.ui.style import window_style

URL = "https://example.com/" + "a" * 150 + "?q=1&x=" + "b" * 60
CODE_LINE = "result=" + "x" * 250
ANSWER = f"See {URL} for more, and [1].\n\n```\n{CODE_LINE}\n```\n\nTerm: {'Z' * 120}&{'y' * 40}."


def chat_view(qtbot, width: int) -> ChatView:
    view = ChatView()
    view.setStyleSheet(window_style(False))  # the hint's padding and font are the window's
    qtbot.addWidget(view)
    view.resize(width, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def no_sideways_bar(view: ChatView) -> bool:
    bar = view.horizontalScrollBar()
    return not bar.isVisible() and bar.maximum() == 0


@pytest.mark.parametrize("width", [260, 320, 700])
def test_an_empty_chat_has_no_sideways_scroll_bar(qtbot, width):
    view = chat_view(qtbot, width)
    qtbot.waitUntil(lambda: view.widget().width() <= view.viewport().width())
    assert no_sideways_bar(view)


def test_long_unbroken_words_urls_and_code_wrap_instead_of_widening_the_view(qtbot):
    view = chat_view(qtbot, 320)
    answer = dict(conversation_id=1, role="assistant", status="complete")
    view.show_messages([Message(1, 1, "user", f"what is {URL}", "complete"),
                        Message(2, content=ANSWER, **answer)], lambda m: "meta")
    view.add_user("y" * 400)
    view.begin_answer()
    view.append_to_answer(CODE_LINE)  # a streaming answer wraps too
    qtbot.waitUntil(lambda: all(b.body.isVisible() for b in view.bubbles()))
    for bubble in view.bubbles():
        assert bubble.body.minimumSizeHint().width() < view.viewport().width(), bubble.text[:40]
    qtbot.waitUntil(lambda: view.widget().width() <= view.viewport().width())
    assert no_sideways_bar(view)


def test_break_chances_change_nothing_the_user_reads_or_copies(qtbot):
    answer = ChatView()
    qtbot.addWidget(answer)
    answer.show_messages([Message(2, 1, "assistant", ANSWER, "complete")], lambda m: "")
    bubble = answer.bubbles()[0]
    html = bubble.body.text()
    assert 'href="' + URL.replace("&", "&amp;") + '"' in html  # links and entities stay whole
    doc = QTextDocument()
    doc.setHtml(html)
    shown = doc.toPlainText().replace(ZWSP, "")
    assert URL in shown and CODE_LINE in shown and "Z" * 120 + "&" + "y" * 40 in shown
    assert breakable("short words stay as they are") == "short words stay as they are"
    assert breakable("&amp;" * 40).replace(ZWSP, "") == "&amp;" * 40
    assert all(part.endswith(";") for part in breakable("&amp;" * 40).split(ZWSP))  # entities stay whole

    # Copying a selection out of a bubble gives the text without the invisible break chances.
    user = ChatView()
    qtbot.addWidget(user)
    user.show()
    question = user.add_user(URL)
    assert ZWSP in question.body.text() and question.body.text().replace(ZWSP, "") == URL
    question.body.setSelection(0, len(question.body.text()))
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(question.body, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == URL)
