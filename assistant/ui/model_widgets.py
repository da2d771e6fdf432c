"""Small pieces shared by the models page and the model selector: badges, the style sheet, a guard."""

from __future__ import annotations

import functools

from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from assistant.knowledge.library import describe_error

__all__ = ["MODELS_STYLE", "Badge", "describe_error", "guarded", "restyle", "thin_bar"]

MODELS_STYLE = """
#modelCard { background: #ffffff; border: 1px solid #e5e7eb; border-radius: 8px; }
#modelCard[state="installed"] { background: #f9fafb; }
#modelTitle { font-size: 14px; font-weight: 600; color: #111827; }
#modelFacts, #modelSpeed, #modelRam { color: #374151; }
#modelDescription, #hint, #sectionHint { color: #6b7280; }
#modelStatus { color: #374151; }
#modelError { color: #b91c1c; }
#pageNotice { color: #065f46; background: #ecfdf5; border: 1px solid #a7f3d0; border-radius: 6px; padding: 6px; }
#sectionHeading { font-size: 15px; font-weight: 600; color: #111827; margin-top: 10px; }
#pageHeading { font-size: 18px; font-weight: 600; }
#machineLine { color: #374151; }
QLabel[badge="true"] { border-radius: 8px; padding: 1px 8px; font-size: 11px; font-weight: 600; }
QLabel[tone="good"] { background: #d1fae5; color: #065f46; }
QLabel[tone="warn"] { background: #fef3c7; color: #92400e; }
QLabel[tone="bad"] { background: #fee2e2; color: #991b1b; }
QLabel[tone="info"] { background: #dbeafe; color: #1e40af; }
QLabel[tone="star"] { background: #ede9fe; color: #5b21b6; }
QLabel[tone="none"] { background: transparent; }
ModelsPage[dropping="true"] #modelsScroll { border: 2px dashed #2563eb; border-radius: 8px; }
"""


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
