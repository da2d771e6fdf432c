"""Starting the desktop app: QApplication, Core, MainWindow, and a safety net for bugs."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.errors import UserFacingError

log = logging.getLogger("assistant.ui")
qt_log = logging.getLogger("assistant.qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(msg_type, _context, message: str) -> None:
    """Qt's own warnings go to our log instead of the terminal."""
    qt_log.log(_QT_LEVELS.get(msg_type, logging.WARNING), message)


def process_age_s() -> float:
    """Seconds since this process started (as the OS counts it, so the interpreter's start is included)."""
    import psutil

    return time.time() - psutil.Process(os.getpid()).create_time()


class FirstPaint(QObject):
    """Notes the first paint of `window`: how long the user waited, from the process start, to see it."""

    def __init__(self, window):
        super().__init__(window)
        self.seconds: float | None = None
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and self.seconds is None:
            self.seconds = process_age_s()
            log.info("first paint %.2f s after the process started", self.seconds)
            self._window.removeEventFilter(self)
        return False


def app_icon() -> QIcon:
    """The window icon at every size shipped in resources/icons (packaging/make_icons.py draws them)."""
    from assistant.models.catalog import RESOURCES

    icon = QIcon()
    for png in sorted((RESOURCES / "icons" / "hicolor").glob("*/apps/assistant.png")):
        icon.addFile(str(png))
    return icon


def install_excepthook(window) -> Callable[[], None]:
    """Anything that escapes a Qt callback is logged and shown; the app keeps running.

    A UserFacingError is shown as it is; any other exception as "Something went
    wrong" (the traceback goes to the log). Returns a function that restores the
    previous hook.
    """
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        if exc is not None and exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        try:
            if isinstance(exc, UserFacingError):
                log.info("shown to the user: %s", exc)
            window.report_exception(exc)
        except Exception:  # noqa: BLE001 - the net under the net: never raise from the hook
            log.exception("the error handler itself failed")
            previous(exc_type, exc, tb)

    sys.excepthook = hook

    def restore() -> None:
        if sys.excepthook is hook:
            sys.excepthook = previous

    return restore


def _cannot_start(exc: UserFacingError, previous_handler) -> int:
    log.error("cannot start: %s", exc)  # reaches the log only if its folder could be made
    QMessageBox.critical(None, "Assistant", str(exc))
    qInstallMessageHandler(previous_handler)
    return 1


def run(argv: list[str] | None = None) -> int:
    """Open the window and run until it closes. Returns the exit code."""
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Assistant")
    app.setDesktopFileName("assistant")  # packaging/linux/assistant.desktop
    app.setWindowIcon(app_icon())
    previous_handler = qInstallMessageHandler(_qt_message)

    from assistant.config import folder_unusable, paths
    from assistant.logs import setup_logging

    try:
        setup_logging(paths().logs, verbose="--verbose" in argv or "-v" in argv)
        from assistant.core import Core

        core = Core()
    except OSError as exc:  # the app's folders cannot be made (a file in their place, a read-only disk)
        return _cannot_start(folder_unusable(Path(exc.filename or paths().logs), exc), previous_handler)
    except UserFacingError as exc:  # e.g. a database that cannot be opened
        return _cannot_start(exc, previous_handler)

    from assistant.ui.main_window import MainWindow

    window = MainWindow(core, owns_core=True)
    window.first_paint = FirstPaint(window)
    restore_hook = install_excepthook(window)
    app.aboutToQuit.connect(window.shutdown)

    # Ctrl-C in the terminal closes the window cleanly. Python only runs signal
    # handlers between bytecodes, so a timer lets it in while Qt's loop spins;
    # the close is queued so a Ctrl-C before the loop starts is not lost.
    previous_sigint = signal.signal(signal.SIGINT, lambda *_: QTimer.singleShot(0, window.close))
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    try:
        window.show()
        log.info("window shown %.2f s after the process started", process_age_s())
        return app.exec()
    finally:
        wake.stop()
        app.aboutToQuit.disconnect(window.shutdown)
        signal.signal(signal.SIGINT, previous_sigint)
        window.shutdown()  # also when exec() ended some other way; idempotent
        restore_hook()
        qInstallMessageHandler(previous_handler)
