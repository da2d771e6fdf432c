"""Small pieces shared by the models page and the model selector: badges, a slim bar, a guard."""

from __future__ import annotations

import functools

from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from assistant.knowledge.library import describe_error

__all__ = ["Badge", "describe_error", "guarded", "restyle", "thin_bar"]

class Badge(QLabel):
    """A rounded label whose colour follows its tone (good | warn | bad | info | star | none)."""

    def __init__(self, text: str = "", tone: str = "none", parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("badge", True)
        self.set(text, tone)

    def set(self, text: str, tone: str, tooltip: str = "") -> None:
        self.setText(text)
        self.setToolTip(tooltip)
        if self.property("tone") != tone:
            self.setProperty("tone", tone)
            restyle(self)
        self.setVisible(bool(text))

    @property
    def tone(self) -> str:
        return self.property("tone")


def guarded(method):
    """A slot that shows what went wrong on its widget (`show_problem`) instead of raising into Qt."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            self.show_problem(describe_error(exc))
            return None
    return wrapper


def restyle(widget: QWidget) -> None:
    """Apply a changed dynamic property to the style sheet."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def thin_bar() -> QProgressBar:
    """A slim progress bar in thousandths (a smooth bar for a 100 MB download needs more than percent)."""
    bar = QProgressBar()
    bar.setRange(0, 1000)
    bar.setTextVisible(False)
    bar.setFixedHeight(8)
    return bar
