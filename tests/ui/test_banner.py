"""The problem banner above the transcript."""

from __future__ import annotations

from assistant.ui.banner import ProblemBanner


def test_a_problem_naming_a_file_with_markup_shows_the_name_as_written(qtbot):
    banner = ProblemBanner()
    qtbot.addWidget(banner)
    problem = "Notes <b>draft</b> & <i>final</i>.pdf could not be read."
    banner.show_problem(problem, kind="answer")
    assert banner.text == problem
    # A label left to guess its format renders this as rich text: bold and italic, with the tags gone.
    shown = banner.label.grab()
    assert banner.label.textFormat().name == "PlainText" and not shown.isNull()
    assert banner.label.sizeHint().width() > 0
    clicked = []
    banner.show_problem("Model failed.", "Load again", lambda: clicked.append(1), kind="model")
    banner.action_button.click()
    assert clicked == [1] and not banner.action_button.isEnabled()
