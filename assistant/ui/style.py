"""The window's look: quiet colours, readable bubbles, in a light and a dark variant.

`apply_theme(app, "system" | "light" | "dark")` sets the application palette
(Fusion, so the palette is honoured on every platform), remembers and returns
whether the result is dark; `window_style(dark)` is the window's own style sheet.
Pages take theirs from sheets.py with `use_sheet(widget, name)`; `restyle_tree()`
fills them again after a theme switch.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from assistant.ui.sheets import SHEETS

LIGHT = {
    "panel": "#f3f4f6", "selected": "#dbe4f3", "text": "#111827", "muted": "#6b7280", "chat": "#ffffff",
    "user": "#e8f0fe", "answer": "#f5f5f4", "border": "#d1d5db", "note": "#92400e", "offline": "#047857",
    "online": "#b45309", "banner": "#fef3c7", "banner_border": "#f59e0b", "banner_text": "#78350f",
    "nav": "#e5e7eb", "nav_checked": "#ffffff", "edit": "#eef2ff",
}
DARK = {
    "panel": "#1f2428", "selected": "#2f3b52", "text": "#e5e7eb", "muted": "#9ca3af", "chat": "#16191c",
    "user": "#1e3a5f", "answer": "#25292e", "border": "#3f454d", "note": "#fbbf24", "offline": "#34d399",
    "online": "#fbbf24", "banner": "#422006", "banner_border": "#b45309", "banner_text": "#fde68a",
    "nav": "#1b1f23", "nav_checked": "#2d333b", "edit": "#1e293b",
}
# The page sheets' colours (sheets.py), each key's light and dark variant side by side.
_PAGE_COLOURS = {
    # cards and the text on them (models, documents, sources, the selector)
    "card": ("#ffffff", "#24292f"),
    "card_alt": ("#f9fafb", "#1c2024"),
    "card_border": ("#e5e7eb", "#3a4049"),
    "popup": ("#ffffff", "#202428"),
    "strong": ("#111827", "#f3f4f6"),
    "body": ("#374151", "#d1d5db"),
    "soft": ("#4b5563", "#a1a8b3"),
    "error": ("#b91c1c", "#f87171"),
    "accent": ("#2563eb", "#60a5fa"),
    "accent_bg": ("#eff6ff", "#1e2a3d"),
    "progress_bg": ("#eef2ff", "#1e293b"),
    "progress_border": ("#c7d2fe", "#334155"),
    "notice_bg": ("#ecfdf5", "#052e25"),
    "notice_border": ("#a7f3d0", "#065f46"),
    "plain_bg": ("#f3f4f6", "#2d333b"),
    # badge tones: a pale fill under dark text in light, a deep fill under light text in dark
    "good_bg": ("#d1fae5", "#064e3b"),
    "good": ("#065f46", "#a7f3d0"),
    "warn_bg": ("#fef3c7", "#4a2c07"),
    "warn": ("#92400e", "#fcd34d"),
    "bad_bg": ("#fee2e2", "#5c1d1d"),
    "bad": ("#991b1b", "#fecaca"),
    "info_bg": ("#dbeafe", "#1e3a5f"),
    "info": ("#1e40af", "#bfdbfe"),
    "star_bg": ("#ede9fe", "#3b1f6e"),
    "star": ("#5b21b6", "#ddd6fe"),
}
LIGHT.update({key: light for key, (light, _dark) in _PAGE_COLOURS.items()})
DARK.update({key: dark for key, (_light, dark) in _PAGE_COLOURS.items()})

_TEMPLATE = """
#conversationPanel {{ background: {panel}; }}
#conversationList {{ border: none; background: transparent; font-size: 13px; }}
#conversationList::item {{ padding: 6px 8px; border-radius: 6px; }}
#conversationList::item:selected {{ background: {selected}; color: {text}; }}
#conversationsEmpty {{ color: {muted}; padding: 8px; }}
#newChatButton {{ padding: 6px; font-weight: 600; }}
#chatInner {{ background: {chat}; }}
#emptyHint {{ color: {muted}; font-size: 15px; padding: 40px; }}
#userBubble {{ background: {user}; border-radius: 10px; }}
#answerBubble {{ background: {answer}; border-radius: 10px; }}
#answerBubble[status="stopped"] {{ border-left: 3px solid #d97706; }}
#answerBubble[status="error"] {{ border-left: 3px solid #dc2626; }}
#bubbleWho {{ color: {muted}; font-size: 11px; font-weight: 600; }}
#bubbleBody {{ font-size: 14px; color: {text}; }}
#bubbleNotes {{ color: {note}; font-size: 12px; font-style: italic; }}
#bubbleMeta {{ color: {muted}; font-size: 11px; }}
QPushButton[bubbleAction="true"] {{ color: {muted}; font-size: 11px; padding: 1px 6px; border: none; }}
QPushButton[bubbleAction="true"]:hover {{ color: {text}; text-decoration: underline; }}
#problemBanner {{ background: {banner}; border: 1px solid {banner_border}; border-radius: 6px; }}
#problemText {{ color: {banner_text}; }}
#editingStrip {{ background: {edit}; border-radius: 6px; }}
#editingLabel {{ color: {text}; }}
#promptEdit {{ font-size: 14px; border: 1px solid {border}; border-radius: 6px; padding: 4px; }}
#sendButton {{ font-weight: 600; min-width: 72px; }}
#stopButton {{ min-width: 72px; }}
#navBar {{ background: {nav}; }}
#navBar QToolButton {{ border: none; border-radius: 6px; padding: 8px 4px; color: {muted}; font-size: 11px; }}
#navBar QToolButton:checked {{ background: {nav_checked}; color: {text}; font-weight: 600; }}
#offlineLabel {{ color: {offline}; font-weight: 600; padding: 0 8px; }}
#offlineLabel[online="true"] {{ color: {online}; }}
#ramLabel, #modelStatusLabel, #indexingLabel, #downloadLabel {{ color: {muted}; padding: 0 6px; }}
"""


def window_style(dark: bool = False) -> str:
    return _TEMPLATE.format(**(DARK if dark else LIGHT))


_dark = False  # the theme last applied; the palette is process-wide, so this is too
SHEET_PROPERTY = "themeSheet"


def is_dark() -> bool:
    return _dark


def colour(key: str) -> QColor:
    """A colour of the current theme, for what a style sheet cannot reach (a list item's text)."""
    return QColor((DARK if _dark else LIGHT)[key])


def sheet(name: str, dark: bool | None = None) -> str:
    """The page style sheet `name` (a key of sheets.SHEETS) in the current theme, or in `dark`'s."""
    return SHEETS[name].format(**(DARK if (_dark if dark is None else dark) else LIGHT))


def use_sheet(widget: QWidget, name: str) -> None:
    """Give `widget` the sheet `name` now, and again in the new colours whenever the theme changes."""
    widget.setProperty(SHEET_PROPERTY, name)
    widget.setStyleSheet(sheet(name))


def restyle_tree(root: QWidget | None = None) -> int:
    """Fill every themed sheet under `root` (every widget of the app when None, which catches
    popups and dialogs that live outside the window) with the current colours; returns how many."""
    widgets = QApplication.allWidgets() if root is None else [root, *root.findChildren(QWidget)]
    count = 0
    for widget in widgets:
        name = widget.property(SHEET_PROPERTY)
        if name:
            widget.setStyleSheet(sheet(name))
            count += 1
    return count


STYLE = window_style(False)


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    c = DARK
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#202428", QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: "#16191c", QPalette.ColorRole.AlternateBase: c["answer"],
        QPalette.ColorRole.Text: c["text"], QPalette.ColorRole.Button: "#2d333b",
        QPalette.ColorRole.ButtonText: c["text"], QPalette.ColorRole.ToolTipBase: "#2d333b",
        QPalette.ColorRole.ToolTipText: c["text"], QPalette.ColorRole.Highlight: "#2f6feb",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#60a5fa",
        QPalette.ColorRole.PlaceholderText: c["muted"], QPalette.ColorRole.BrightText: "#ffffff",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    return palette


_native_style: str | None = None


def apply_theme(app: QApplication, theme: str) -> bool:
    """Set the palette for `theme`; True when the window should use its dark style sheet.

    Light keeps the platform's own style; dark switches to Fusion, the one style that draws every
    control from the palette on every platform (and back when light is chosen again).
    """
    global _native_style, _dark
    if _native_style is None:
        _native_style = app.style().name()
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    else:
        if app.style().name() != _native_style:
            app.setStyle(_native_style)
        app.setPalette(app.style().standardPalette())
    _dark = dark
    return dark
