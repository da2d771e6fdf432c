"""The window's look: quiet colours, readable bubbles, in a light and a dark variant.

`apply_theme(app, "system" | "light" | "dark")` sets the application palette
(Fusion, so the palette is honoured on every platform) and returns whether the
result is dark; `window_style(dark)` is the window's own style sheet.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

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
    global _native_style
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
    return dark
