"""The window's size and position, its docks and toolbars, and its splitters, kept across restarts.

They live in an INI file in the app's config folder (QSettings, so the
platform's own format for window state), next to settings.json.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter

log = logging.getLogger("assistant.ui")

FILE_NAME = "window.ini"
STATE_VERSION = 1  # bump when the docks or toolbars change so an old layout is not forced on a new one
PREFERRED_SIZE = QSize(1280, 800)
SCREEN_SHARE = 0.9  # of the screen's free area, on a screen smaller than the preferred size
FRAME_ALLOWANCE = 16  # for the borders, which are not known before the window is first shown


def fit_to_screen(window: QMainWindow, preferred: QSize, wanted_width: int = 0) -> None:
    """First start: `preferred`, but never larger than the screen (a 1366x768 laptop, a 1024x768
    projector), and centred on it, so no edge or button starts out of reach. At least `wanted_width`
    (what the page needs to show all its panels) when the screen has room for it."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(preferred)
        return
    free = screen.availableGeometry()
    frame = window.frameGeometry().size() - window.geometry().size()  # title bar and borders, once shown
    widest = free.width() - max(frame.width(), FRAME_ALLOWANCE)
    size = QSize(min(widest, max(wanted_width, min(preferred.width(), int(free.width() * SCREEN_SHARE) - frame.width()))),
                 min(preferred.height(), int(free.height() * SCREEN_SHARE) - frame.height()))
    window.resize(size.expandedTo(QSize(window.minimumWidth(), window.minimumSizeHint().height()))
                  .boundedTo(free.size()))
    centre = free.center()
    window.move(centre.x() - window.width() // 2, centre.y() - window.height() // 2)


class WindowState:
    def __init__(self, config_folder: Path):
        self.path = Path(config_folder) / FILE_NAME
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def restore(self, window: QMainWindow, splitters: dict[str, QSplitter]) -> bool:
        """Apply what was saved; False when nothing was (first start: the window's defaults stay)."""
        s = self._settings
        geometry = s.value("window/geometry")
        if not isinstance(geometry, QByteArray) or geometry.isEmpty():
            return False
        window.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            window.restoreState(state, STATE_VERSION)
        for name, splitter in splitters.items():
            sizes = s.value(f"splitters/{name}")
            if isinstance(sizes, QByteArray):
                splitter.restoreState(sizes)
        return True

    def value(self, key: str, default=None):
        return self._settings.value(key, default)

    def save(self, window: QMainWindow, splitters: dict[str, QSplitter], **extra) -> None:
        s = self._settings
        s.setValue("window/geometry", window.saveGeometry())
        s.setValue("window/state", window.saveState(STATE_VERSION))
        for name, splitter in splitters.items():
            s.setValue(f"splitters/{name}", splitter.saveState())
        for key, value in extra.items():
            s.setValue(key, value)
        s.sync()
        if s.status() != QSettings.Status.NoError:
            log.warning("could not save the window layout to %s", self.path)
