"""The sources panel over real document answers: ranked passages with scores and badges, the
question's words marked, timings, the prompt, abstentions, and [n] links in the chat."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from assistant.answer import cited_numbers, separate_citations
from assistant.knowledge.highlight import question_terms
from assistant.store.conversations import Message
from assistant.ui.chat_view import ChatView, markdown_html
from assistant.ui.source_format import MARK_STYLE, score_line, score_tooltip
from assistant.ui.sources_panel import NO_DOCUMENTS, NOTHING_SHOWN, SourceCard, SourcesPanel
from assistant.ui.style import STYLE
from tests.conftest import LARGE
from tests.ui import answers
from tests.ui.answers import ABSTAIN_Q, DEPOSIT_Q, RENT_Q

answered = answers.answered  # the session fixture: real answers over real documents


@pytest.fixture
def panel(qtbot):
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    panel.resize(440, 900)
    panel.show()
    yield panel
    panel.shutdown()


def test_passages_in_rank_order_with_scores_and_badges(panel, answered):
    message = answered.deposit
    panel.show_message(message)
    rows = message.sources
    cards = panel.cards()
    assert [c.rank for c in cards] == sorted(r["rank"] for r in rows) == list(range(1, len(rows) + 1))
    assert panel.question() == DEPOSIT_Q
    for card in cards:
        row = next(r for r in rows if r["rank"] == card.rank)
        assert card.row == row
        name = row["path"].rsplit("/", 1)[-1]
        assert card.title.text().startswith(name)
        if row["page"] and row["cited"]:  # the deposit's passage runs on to page 3; its sentence is on 2
            assert (row["page"], row["page_end"], row["cited_page"]) == (2, 3, 2)
            assert card.title.text() == f"{name} · page 2 (passage: pages 2–3)"
        elif row["page"]:
            pages = f"page {row['page']}" if row["page_end"] == row["page"] else \
                f"pages {row['page']}–{row['page_end']}"
            assert card.title.text() == f"{name} · {pages}"
        else:
            assert card.title.text() == f"{name} · lines {row['line_start']}–{row['line_end']}"
        scores = card.scores.text()
        assert scores.startswith(f"best sentence {row['scores']['sentence']:.2f}")
        assert f"fused {row['scores']['fused']:.2f}" in scores
        assert f"vector {row['scores']['vector']:.2f} (#{row['ranks']['vector']})" in scores
        keyword = row["scores"]["keyword"]
        assert (f"keyword {keyword:.2f} (#{row['ranks']['keyword']})" if keyword is not None
                else "keyword –") in scores
        assert card.scores.toolTip() == score_tooltip(row)
        expected = [f"[{row['number']}] in prompt"] if row["in_prompt"] else ["not in prompt"]
        assert card.badges() == expected + (["cited"] if row["cited"] else [])
        # The sentences of the passage the model read, as the prompt gave them.
        shown = [row["text"][a:b] for a, b in row["evidence"]]
        assert (not card.evidence.isHidden()) == bool(shown) == row["in_prompt"]
        for sentence in shown:
            assert f"[{row['number']}] {sentence}" in message.details["prompt"]
            assert " ".join(sentence.split())[:40].replace("'", "&#x27;") in card.evidence.text()
        if shown and row["cited"] and row["page_breaks"]:  # the deposit's: each sentence after its page
            assert "(page 2) The security deposit is 1,500 euros." in card.evidence.text()
    assert any(r["cited"] and r["page_breaks"] and r["evidence"] for r in rows)  # the page check above ran
    # The passages that went into the prompt are numbered 1..n in prompt order.
    assert sorted(r["number"] for r in rows if r["in_prompt"]) == list(range(1, sum(r["in_prompt"] for r in rows) + 1))
    summary = panel.summary.text()
    assert summary.startswith(f"{len(rows)} passages retrieved · {sum(r['in_prompt'] for r in rows)} in the prompt")
    assert "repeated the question" not in summary
    panel.show_message(replace(message, details={**message.details, "restated": "The <b>deposit</b> is what.",
                                                 "restated_s": 0.61}))
    assert panel.summary.text().endswith("The first answer only repeated the question (“The <b>deposit</b> is "
                                         "what.”), so the model was asked again.")
    assert panel.summary.textFormat() == Qt.TextFormat.PlainText  # the model's words are shown as written
    assert panel.timings.text().endswith("after a first answer that repeated the question (0.61 s)")
    panel.show_message(message)
    # Timings: what answer.py recorded, in the units the user reads.
    timings = panel.timings.text()
    assert f"retrieval {message.details['retrieval_ms']:.0f} ms" in timings
    assert f"prompt {message.details['prompt_s']:.2f} s ({message.prompt_tokens} tokens" in timings
    assert f"first token {message.ttft_s:.2f} s" in timings
    d = message.details  # the yes/no check: how long, what the model believed, against what
    assert f"check {d['check_ms']:.0f} ms: yes {d['answer_belief']:.2f}, threshold {d['check_threshold']:.2f}" in timings
    # By default the 1.5B checks the 0.5B's answers when it is installed (else the 0.5B checks itself).
    installed = {model.name for model in answered.core.chat_models()}
    assert d["check_model"] == (LARGE if LARGE in installed else message.model)
    assert (f", by {d['check_model']}" in timings) == (d["check_model"] != message.model)
    assert f"{message.tokens_per_s:.1f} tokens/s" in timings
    assert not panel.abstain_label.isVisible()
    assert panel.prompt_button.isEnabled()


def test_the_question_words_are_marked_in_each_excerpt(panel, answered):
    message = answered.deposit
    panel.show_message(message)
    assert question_terms(DEPOSIT_Q) == ["security", "deposit"]
    card = next(c for c in panel.cards() if "security deposit" in c.row["text"])
    html = card.excerpt.text()
    for word in ("security", "deposit"):
        assert f'<span style="{MARK_STYLE}">{word}</span>' in html
    # Stopwords and other words are not marked; the excerpt is escaped text.
    assert f'<span style="{MARK_STYLE}">is</span>' not in html
    assert f'<span style="{MARK_STYLE}">much</span>' not in html
    plain = QTextDocument()
    plain.setHtml(html)
    # The PDF's line breaks inside a paragraph become spaces; paragraphs stay apart.
    shown = plain.toPlainText().replace("\u2028", "\n")
    assert shown.startswith("Money matters\n\nThe security deposit is 1,500 euros.")
    words = " ".join(shown.rstrip("…").split())
    assert words and " ".join(card.row["text"].split()).startswith(words)


def test_show_prompt_shows_the_exact_prompt_and_its_parts(qtbot, panel, answered):
    message = answered.rent
    panel.show_message(message)
    qtbot.mouseClick(panel.prompt_button, Qt.MouseButton.LeftButton)
    dialog = panel.prompt_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.prompt_text() == message.details["prompt"]
    assert f"Question: {RENT_Q}" in dialog.prompt_text()
    parts = message.details["prompt_parts"]
    assert dialog.part_counts() == {
        "System prompt": parts["system"], "Earlier conversation": parts["history"], "Sources": parts["sources"],
        "Question": parts["question"], "Whole prompt (model tokens)": message.prompt_tokens}
    assert parts["system"] > 0 and parts["sources"] > parts["question"] > 0
    dialog.close()


def test_an_abstained_answer_says_why(panel, answered):
    message = answered.abstained
    assert message.details["abstained"] == "retrieval"
    panel.show_message(message)
    assert panel.abstain_label.isVisible()
    text = panel.abstain_label.text()
    assert text.startswith("No answer: the model was not asked")
    assert "The retrieved passages never mention 1998." in text
    assert panel.question() == ABSTAIN_Q
    # No prompt was sent, so there is none to show; the passages that were found are still listed.
    assert not panel.prompt_button.isEnabled()
    assert panel.cards() and all(not c.row["cited"] for c in panel.cards())

    # The model's own abstention reads differently.
    said = Message(id=0, conversation_id=0, role="assistant", content="I could not find it.", status="complete",
                   details={"abstained": "model", "abstain_reason": "The model said the sources do not contain "
                            "the answer.", "question": "q?", "prompt": "Question: q?"}, sources=[])
    panel.show_message(said)
    assert panel.abstain_label.text().startswith("No answer: the model could not find it in the sources.")
    assert panel.empty.isVisible() and panel.empty.text() == NO_DOCUMENTS
    assert panel.abstain_label.textFormat() == Qt.TextFormat.PlainText  # reasons quote errors and words

    # When the chosen check model could not check, the user reads why, answered or not.
    problem = "The check model 'big' could not be used (Big needs 2.0 GB beside the answering model, and 0.5 GB is free.)"
    checked_instead = replace(answered.rent, details={**answered.rent.details, "check_error": problem})
    panel.show_message(checked_instead)
    assert panel.abstain_label.isVisible() and panel.abstain_label.text() == f"Check: {problem}"
    panel.show_message(replace(said, details={**said.details, "check_error": problem}))
    assert panel.abstain_label.text().splitlines() == [
        "No answer: the model could not find it in the sources. The model said the sources do not contain the answer.",
        f"Check: {problem}"]
    panel.show_message(None)
    assert panel.cards() == [] and panel.empty.text() == NOTHING_SHOWN and not panel.abstain_label.isVisible()


def anchor_point(label: QLabel, href: str) -> QPoint:
    """Where the link `href` is drawn in a rich-text label (laid out as the label lays it out)."""
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setDocumentMargin(0)
    doc.setHtml(label.text())
    rect = label.contentsRect()
    doc.setTextWidth(rect.width())
    doc.size()  # lays the document out; a block's lines exist only after that
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                position = fragment.position() - block.position()
                top = doc.documentLayout().blockBoundingRect(block).top()
                line = block.layout().lineForTextPosition(position)
                assert line.isValid()
                x = line.cursorToX(position)[0] + 4
                return rect.topLeft() + QPoint(int(x), int(top + line.y() + line.height() / 2))
            it += 1
        block = block.next()
    raise AssertionError(f"no link {href} in the label")


def test_a_citation_link_in_the_answer_selects_its_source(qtbot, panel, answered):
    message = answered.rent
    numbers = cited_numbers(message.content, sum(r["in_prompt"] for r in message.sources))
    assert numbers, f"the model cited nothing: {message.content!r}"
    number = numbers[0]
    chat = ChatView()
    qtbot.addWidget(chat)
    chat.resize(640, 500)
    chat.show()
    chat.show_messages(answered.core.conversations.messages(message.conversation_id), lambda m: "")
    panel.follow(chat, answered.core.conversations.message)
    bubble = chat.bubble_for(message.id)
    assert f'href="cite:{number}"' in bubble.body.text()
    # Bubbles added to a shown view are shown and laid out by the event loop.
    qtbot.waitUntil(lambda: bubble.body.isVisible() and bubble.body.width() < bubble.width())

    with qtbot.waitSignal(chat.citation_clicked) as clicked, qtbot.waitSignal(panel.source_selected) as selected:
        qtbot.mouseClick(bubble.body, Qt.MouseButton.LeftButton, pos=anchor_point(bubble.body, f"cite:{number}"))
    assert clicked.args == [message.id, number]
    row = selected.args[0]
    assert row["number"] == number and row["in_prompt"] and row["cited"]
    assert panel.message().id == message.id and panel.selected() == row
    card = next(c for c in panel.cards() if c.row == row)
    assert card.selected and sum(c.selected for c in panel.cards()) == 1

    # A number the prompt did not have selects nothing; clicking the user's question does nothing.
    assert not panel.select_citation(99)
    user_bubble = next(b for b in chat.bubbles() if b.role == "user")
    with qtbot.assertNotEmitted(chat.answer_selected):
        qtbot.mouseClick(user_bubble.body, Qt.MouseButton.LeftButton)



def test_screenshot_of_the_panel_beside_the_chat(qtbot, answered):
    message = answered.rent
    window = QWidget()
    window.setStyleSheet(STYLE)  # the main window's look
    qtbot.addWidget(window)
    chat, panel = ChatView(), SourcesPanel()
    layout = QHBoxLayout(window)
    layout.addWidget(chat, 3)
    layout.addWidget(panel, 2)
    window.resize(1280, 820)
    window.show()
    qtbot.waitExposed(window)
    chat.show_messages(answered.core.conversations.messages(message.conversation_id), lambda m: "")
    panel.follow(chat, answered.core.conversations.message)
    number = next(r["number"] for r in message.sources if r["cited"])
    chat.citation_clicked.emit(message.id, number)
    card = next(c for c in panel.cards() if c.selected)
    assert card.row["number"] == number
    # Wrapped labels take a few layout passes to settle; then every excerpt is shown whole.
    qtbot.waitUntil(lambda: card.isVisible() and chat.bubble_for(message.id).body.isVisible() and all(
        c.excerpt.height() >= c.excerpt.heightForWidth(c.excerpt.width()) for c in panel.cards()))
    # The selected card is scrolled into the panel's view.
    shown = panel.scroll.viewport().rect()
    top_left = card.mapTo(panel.scroll.viewport(), card.rect().topLeft())
    assert shown.contains(top_left)
    image = window.grab()
    assert image.save("/tmp/panel.png") and image.width() >= 1280
    panel.shutdown()


def test_citation_markers_become_links_only_outside_code_and_in_range():
    html = markdown_html("Rent is 1,250 euros [1]. See also [3] and `[2]`.\n\n```\nx = a[2]\n```", citations=2)
    assert 'href="cite:1"' in html
    assert 'href="cite:2"' not in html  # [2] only appears in code
    assert 'href="cite:3"' not in html  # out of range: the prompt had two sources
    assert "[3]" in html
    assert 'href="cite:' not in markdown_html("Plain chat [1].")  # no sources, no links


@pytest.mark.parametrize("answer", [
    "The rent is 1,250 euros [1, 2].",
    "Read it with:\n```python\nrent = rents[1]\n```\nas [2] says.",
    "See `rents[3]` and [1](https://example.org), or [2][3].",
    "Clause [12] says so [3].",
])
def test_the_sources_an_answer_cites_are_the_links_the_chat_shows(answer):
    """What the panel badges as cited (cited_numbers) is what the chat makes [n] links of."""
    links = re.findall(r'href="cite:(\d+)"', markdown_html(separate_citations(answer), 3))
    assert sorted({int(n) for n in links}) == cited_numbers(answer, 3)


def test_each_score_says_what_it_is_and_how_to_read_it(qtbot):
    from assistant.knowledge.retriever import CANDIDATES, RRF_K

    row = {"rank": 1, "path": "/nowhere/lease.txt", "text": "The deposit is 1,250 euros.", "in_prompt": False,
           "scores": {"keyword": 7.31, "vector": 0.62, "fused": 0.88, "sentence": 0.71, "rerank": 0.75},
           "ranks": {"keyword": 1, "vector": 2}}
    card = SourceCard(row, ["deposit"])
    qtbot.addWidget(card)
    tip = card.scores.toolTip()
    assert tip.startswith("<p>")  # rich text: Qt wraps it to a readable width
    paragraphs = {p.split("</b>")[0]: p for p in tip.split("<p><b>")[1:]}
    assert list(paragraphs) == ["keyword", "vector", "fused", "best sentence"]
    keyword, vector, fused, sentence = paragraphs.values()
    assert "BM25" in keyword and "FTS5" in keyword and "no fixed scale" in keyword and "same question" in keyword
    assert f"not among its {CANDIDATES} best" in keyword
    assert "cosine similarity" in vector and "at most 1" in vector
    assert "Weighted fusion" in fused and f"1/({RRF_K} + place)" in fused and "within one question" in fused
    assert "best sentence" in sentence and "cosine" in sentence
    assert "Higher is better" in tip
    # An answer whose passages were not re-ordered by sentence has no best sentence to explain.
    plain = {**row, "scores": {k: v for k, v in row["scores"].items() if k not in ("sentence", "rerank")}}
    assert "best sentence" not in score_line(plain) and "best sentence" not in score_tooltip(plain)
