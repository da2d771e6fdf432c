"""Which side panels the chat page shows at the window's width, so the chat keeps a readable column.

The Sources panel shows when the user wants it (the toolbar's Sources, a click on a citation), as
long as the conversation list, the chat and the panel all fit. In a narrower window it waits,
hidden, and comes back by itself once the window is wide enough again. Asked for while it waits,
it widens the window as far as the screen allows, and if that is not enough the list gives way
to it (until the panel is hidden again).

The window's minimum width counts only what the page shown cannot do without (for the chat page:
the list and the chat column), never the Sources panel: a panel that held the window wide could
never be hidden by making the window narrower.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QStyle, QToolBar, QWidget

CHAT_FLOOR = 360  # the chat column's narrowest: a question and its answer still read comfortably
CHAT_ROOM = 440  # the Sources panel is wider than its minimum only if the chat keeps this much
LIST_MIN = 140  # the conversation list's narrowest: "New chat", the search and titles (elided)
SLACK = 4  # rounding in the layouts, so a panel is not shown a pixel short of its room


class SidePanels(QObject):
    def __init__(self, window: QMainWindow, *, nav: QWidget, splitter: QSplitter, conversation_list: QWidget,
                 chat_column: QWidget, dock: QDockWidget, on_chat_page: Callable[[], bool]):
        super().__init__(window)
        self._window, self._nav, self._splitter = window, nav, splitter
        self._list, self._dock = conversation_list, dock
        self._on_chat_page = on_chat_page
        self.wanted = True  # the user's wish for the Sources panel, kept while there is no room for it
        self.over_list = False  # the user asked for the panel where only the list could make room
        self._list_width = LIST_MIN  # as last chosen (or restored); narrower only while the chat needs it
        self._shared: tuple[int, int] | None = None  # (the splitter's width, the list's) as last set
        self._arranging = False
        conversation_list.setMinimumWidth(LIST_MIN)
        chat_column.setMinimumWidth(CHAT_FLOOR)
        # A child's minimum changing (the documents page, a wide source card) changes what fits;
        # its LayoutRequests come in bursts while an answer streams, so they are handled once, later.
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self.arrange)
        dock.toggleViewAction().triggered.connect(self.ask)
        dock.installEventFilter(self)
        window.installEventFilter(self)
        splitter.installEventFilter(self)

    # what fits --------------------------------------------------------------------------------
    def _nav_width(self) -> int:
        return max(self._nav.minimumWidth(), self._nav.minimumSizeHint().width())

    def _free(self) -> int:
        """The width right of the navigation column, where the page and the Sources panel go."""
        return self._window.width() - self._nav_width()

    def _separator(self) -> int:
        return self._window.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent, None, self._window)

    def _dock_width(self) -> int:
        """The Sources panel's narrowest, with the separator beside it."""
        return self._separator() + max(self._dock.minimumWidth(), self._dock.minimumSizeHint().width())

    def _fits(self, with_list: bool) -> bool:
        needed = CHAT_FLOOR + self._dock_width() + SLACK
        if with_list:
            needed += LIST_MIN + self._splitter.handleWidth()
        return self._free() >= needed

    def full_width(self) -> int:
        """The window width at which the list, the chat and the Sources panel all fit."""
        return self._nav_width() + LIST_MIN + self._splitter.handleWidth() + CHAT_FLOOR + self._dock_width() + SLACK

    # deciding -------------------------------------------------------------------------------
    def arrange(self) -> None:
        chat = self._on_chat_page()
        fits_all = self._fits(with_list=True)
        dock = chat and self.wanted and (fits_all or (self.over_list and self._fits(with_list=False)))
        show_list = not dock or fits_all
        self._arranging = True
        try:
            if self._dock.isHidden() == dock:
                self._dock.setVisible(dock)
            if self._list.isHidden() == show_list:
                self._list.setVisible(show_list)
        finally:
            self._arranging = False
        self._window.setMinimumWidth(self._minimum_width())
        self._share()

    def _share(self) -> None:
        """Keep the list at the width last chosen for it and give the chat the rest; the list is
        narrower only while the chat would otherwise be under its floor. Left to itself, QSplitter
        takes from both alike, and after a few resizes the list had drifted wider than the chat."""
        if not (self._list.isVisible() and self._splitter.isVisible()):
            return
        sizes = self._splitter.sizes()
        total = sum(sizes)
        if self._shared is None or (total == self._shared[0] and sizes[0] != self._shared[1]):
            self._list_width = sizes[0]  # restored, or dragged by the user
        want = max(LIST_MIN, min(self._list_width, total - CHAT_FLOOR))
        if sizes[0] != want:
            self._splitter.setSizes([want, total - want])
        self._shared = (total, want)
        # The panel keeps its width as the window narrows (QMainWindow takes from the chat): it
        # gives way down to its minimum first.
        short = CHAT_ROOM - (total - want)
        least = self._dock_width() - self._separator()
        if short > 0 and self._dock.isVisible() and self._dock.width() > least:
            self._window.resizeDocks([self._dock], [max(least, self._dock.width() - short)], Qt.Orientation.Horizontal)

    def ask(self, shown: bool = True) -> None:
        """The user showed (or hid) the Sources panel. Shown where it has no room: the window widens
        for it if the screen allows, else the list gives way."""
        self.wanted = shown
        self.over_list = False
        if shown and self._on_chat_page() and not self._fits(with_list=True):
            self._widen(self.full_width())
            self.over_list = not self._fits(with_list=True)
        self.arrange()

    def _widen(self, width: int) -> None:
        window = self._window
        screen = window.screen()
        if screen is None or window.isMaximized() or window.isFullScreen():
            return
        free = screen.availableGeometry()
        frame = window.frameGeometry().width() - window.geometry().width()
        width = min(width, free.width() - frame)
        if width <= window.width():
            return
        window.resize(width, window.height())
        overflow = window.frameGeometry().right() - free.right()
        if overflow > 0:  # keep the right edge, and the panel just asked for, on the screen
            window.move(max(free.left(), window.x() - overflow), window.y())

    def _minimum_width(self) -> int:
        window = self._window
        parts = [window.centralWidget(), window.statusBar(), *window.findChildren(QToolBar)]
        least = max((w.minimumSizeHint().width() for w in parts if w is not None), default=0)
        if self._on_chat_page():  # the list is hidden only beside the Sources panel: it comes back when that goes
            least = max(least, self._nav_width() + LIST_MIN + self._splitter.handleWidth() + CHAT_FLOOR)
        return least

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if watched is self._window:
            if kind == QEvent.Type.Resize:
                self.arrange()
            elif kind == QEvent.Type.LayoutRequest:
                self._later.start()
        elif watched is self._splitter and kind == QEvent.Type.Resize:
            self._later.start()  # after the splitter has placed its children itself
        elif watched is self._dock and kind == QEvent.Type.Close and not self._arranging:
            self.wanted = self.over_list = False  # closed some other way than the toolbar's button
        return super().eventFilter(watched, event)
