"""Driving the app's real modal dialogs from a test."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def when_modal(qtbot, handle, kind: type | None = None, *, within_s: float = 30.0) -> None:
    """Call `handle(dialog)` once a modal dialog (of `kind`, if given) is up: dialogs run their own
    event loop, so the test's next line only runs once it is closed. Polling stops after `within_s`
    so a dialog that never came cannot be answered in a later test."""
    deadline = time.monotonic() + within_s

    def poll():
        dialog = QApplication.activeModalWidget()
        if dialog is not None and (kind is None or isinstance(dialog, kind)):
            handle(dialog)
        elif time.monotonic() < deadline:
            QTimer.singleShot(10, poll)
    QTimer.singleShot(0, poll)


def answer(button_text: str, asked: list | None = None):
    """A handler pressing `button_text` in a real message box, noting the question in `asked`."""
    def handle(box):
        assert isinstance(box, QMessageBox), box
        if asked is not None:
            asked.append(box.text())
        next(b for b in box.buttons() if b.text().replace("&", "") == button_text).click()
    return handle
