"""Small pieces shared by the models page and the model selector: badges, a slim bar, a guard,
and the card frame both model rows are built on."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from assistant.knowledge.library import describe_error

__all__ = ["Badge", "ModelCard", "card_label", "describe_error", "guarded", "restyle", "thin_bar"]


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


def card_label(name: str, *, wrap: bool = True) -> QLabel:
    """A selectable line of a model card, styled by its object name."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ModelCard(QFrame):
    """One model on the models page: a title with badges and buttons, then lines of text. The rows
    add their own badges, buttons and lines, and arrange them with `lay_out`."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.setObjectName("modelCard")
        self.title = card_label("modelTitle", wrap=False)
        self.fit_badge = Badge()
        self.recommended_badge = Badge()
        self.facts = card_label("modelFacts")
        self.ram = card_label("modelRam")
        self.speed = card_label("modelSpeed")

    def button(self, text: str, signal: SignalInstance) -> QPushButton:
        """A head button that emits `signal` with this card's model name."""
        button = QPushButton(text)
        button.clicked.connect(lambda _=False: signal.emit(self.name))
        return button

    def lay_out(self, badges: list[QWidget], buttons: list[QWidget], lines: list[QWidget]) -> None:
        head = QHBoxLayout()
        head.addWidget(self.title)
        for badge in (self.fit_badge, self.recommended_badge, *badges):
            head.addWidget(badge)
        head.addStretch(1)
        for button in buttons:
            head.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(3)
        layout.addLayout(head)
        for widget in (self.facts, self.ram, self.speed, *lines):
            layout.addWidget(widget)
