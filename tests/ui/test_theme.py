"""The dark theme reaches every page: their own style sheets follow a theme switch, both ways."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFrame

from assistant.store.conversations import Message
from assistant.ui.selector_popup import SelectorPopup
from assistant.ui.style import DARK, LIGHT, apply_theme, is_dark

ROWS = [
    {"rank": 1, "number": 1, "in_prompt": True, "cited": True, "path": "/nowhere/handbook.pdf", "page": 2,
     "heading": "Heating", "text": "The heating runs from October to April.", "scores": {"fused": 1.0}},
    {"rank": 2, "in_prompt": False, "path": "/nowhere/notes.md", "line_start": 3, "line_end": 9,
     "text": "The garden is shared by all tenants.", "scores": {"fused": 0.2}},
]
ANSWER = Message(id=0, conversation_id=0, role="assistant", content="From October to April [1].",
                 status="complete", sources=ROWS, details={"question": "When does the heating run?"})


def lightness(widget) -> tuple[float, float, float]:
    """The widget as drawn: its mean lightness, and that of its darkest and brightest 0.1 % (0-255):
    mostly background, then the text (dark on light, or light on dark)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    pixels = pixels[:, :image.width()]
    return float(pixels.mean()), float(np.percentile(pixels, 0.1)), float(np.percentile(pixels, 99.9))


def shown(window) -> dict:
    """The pages and popups a user sees, each made visible and laid out before it is drawn."""
    window.show_page("documents")
    documents = lightness(window.documents_page)
    window.show_page("models")
    card = window.models_page.findChild(QFrame, "modelCard")
    assert card is not None
    models = lightness(card)
    window.show_page("chat")
    window.model_selector.show_popup()
    selector = lightness(window.model_selector.popup)
    window.model_selector.popup.hide()
    return {"documents": documents, "model card": models, "selector": selector,
            "sources": lightness(window.sources_panel), "source card": lightness(window.sources_panel.cards()[0])}


def test_a_theme_switch_restyles_every_page_and_popup(qtbot, smol_window, smol_core):
    window = smol_window
    window.documents_page.name_edit.setText("Home")
    window.documents_page.create_collection()  # a page with a title and a status line to read
    window.sources_panel.show_message(ANSWER)
    assert len(window.sources_panel.cards()) == 2
    light = shown(window)
    for name, (mean, text, _bright) in light.items():
        assert mean > 170, f"{name} is not light in the light theme: {mean:.0f}"
        assert text < 110, f"{name} has no dark text in the light theme: {text:.0f}"
    try:
        smol_core.settings.theme = "dark"
        window.apply_theme()
        assert is_dark()
        for name, (mean, _dark, text) in shown(window).items():
            assert mean < 90, f"{name} stayed light in the dark theme: mean lightness {mean:.0f}"
            assert text > 150, f"{name} has no light text on its dark background: {text:.0f}"
        assert DARK["card"] in window.models_page.styleSheet()
        # A popup built while the theme is dark is dark from the start.
        later = SelectorPopup()
        assert DARK["popup"] in later.styleSheet() and LIGHT["popup"] not in later.styleSheet()
        later.deleteLater()

        smol_core.settings.theme = "light"
        window.apply_theme()
        assert not is_dark()
        for name, (mean, _text, _bright) in shown(window).items():
            assert mean > 170, f"{name} stayed dark after switching back to light: {mean:.0f}"
    finally:
        apply_theme(QApplication.instance(), "light")  # the palette is the whole test run's
