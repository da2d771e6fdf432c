"""Dropping files on a page: a mixin for a QWidget that takes local files and folders."""

from __future__ import annotations

from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent


class FileDropMixin:
    """Put it before QWidget in the bases and define `files_dropped(paths)`.

    While a drag is over the widget its `dropping` property is true, so its style
    sheet can outline `drop_outline` (default: the widget itself) as the target.
    """

    drop_outline = None

    def files_dropped(self, paths: list[str]) -> None:
        raise NotImplementedError

    @staticmethod
    def _local_paths(event) -> list[str]:
        mime = event.mimeData()
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if self._local_paths(event):
            event.acceptProposedAction()
            self._set_dropping(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt's name
        self._set_dropping(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        self._set_dropping(False)
        paths = self._local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped(paths)

    def _set_dropping(self, on: bool) -> None:
        self.setProperty("dropping", on)
        target = self.drop_outline or self
        target.style().unpolish(target)
        target.style().polish(target)
