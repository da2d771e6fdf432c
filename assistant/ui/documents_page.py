"""The documents page: collections, their folders, and indexing that runs while the user chats.

Reads (status, sources) go through the window's `core.db`; they are quick.
Indexing goes to an IndexingQueue, whose thread has its own connection. A
collection being indexed cannot be renamed or removed until its run ends or
is cancelled: the run looked it up by name.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.errors import UserFacingError
from assistant.knowledge.collections import Collections
from assistant.knowledge.index_lock import default_lock_path
from assistant.knowledge.indexer import IndexProgress
from assistant.knowledge.library import describe_error, unique_name
from assistant.ui.banner import ProblemBanner
from assistant.ui.collection_detail import CollectionDetail
from assistant.ui.document_dialogs import ask_text, choose_files, choose_folder, confirm
from assistant.ui.file_drop import FileDropMixin
from assistant.ui.indexing import IndexingQueue, IndexOutcome
from assistant.ui.style import use_sheet

log = logging.getLogger("assistant.ui")

NAME_ROLE = Qt.ItemDataRole.UserRole


def _guarded(method):
    """A slot that shows what went wrong on the page instead of raising into Qt."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence on the page
            self.show_problem(describe_error(exc))
            return None
    return wrapper


class DocumentsPage(FileDropMixin, QWidget):
    collections_changed = Signal()  # created, renamed or removed: the picker refreshes
    collection_renamed = Signal(str, str)  # (old name, new name)
    indexing_active = Signal(bool)  # for the status bar's "Indexing…": True at the start, False when all is done
    indexing_status = Signal(str)  # a short line for the status bar ("" when indexing is over)
    indexing_started = Signal(str)
    indexing_finished = Signal(object)  # IndexOutcome
    problem_shown = Signal(str)

    def __init__(self, core, parent: QWidget | None = None, *, queue: IndexingQueue | None = None):
        super().__init__(parent)
        self.core = core
        self.collections = Collections(core.db)
        self.queue = queue or IndexingQueue(core.paths, self, settings=getattr(core, "settings", None))
        self._notes: dict[str, str] = {}  # what the last run of a collection left to say
        self._cancelling: set[str] = set()
        self._progress: dict[str, IndexProgress] = {}  # the last seen, to show again on coming back
        self.setAcceptDrops(True)
        use_sheet(self, "documents")
        self._build()
        self.queue.started.connect(self._on_started)
        self.queue.progress.connect(self._on_progress)
        self.queue.finished.connect(self._on_finished)
        self.queue.active_changed.connect(self._on_active_changed)
        self.refresh()

    def _build(self) -> None:
        left = QWidget()
        left.setObjectName("collectionsPanel")
        left.setFixedWidth(240)
        column = QVBoxLayout(left)
        heading = QLabel("Collections")
        heading.setObjectName("sectionHeading")
        self.list = QListWidget()
        self.list.setObjectName("collectionList")
        # A long name is elided in the middle, so "· indexing…" after it stays in sight (the panel
        # has a fixed width; a sideways scroll bar hid the end of the name and the state alike).
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("newCollectionName")
        self.name_edit.setPlaceholderText("New collection name")
        self.name_edit.setAcceptDrops(False)  # a dropped folder adds a source, not its path as text
        self.name_edit.returnPressed.connect(self.create_collection)
        self.name_edit.textChanged.connect(self._check_new_name)
        self.create_button = QPushButton("Create")
        self.create_button.setObjectName("createCollectionButton")
        self.create_button.clicked.connect(self.create_collection)
        row = QHBoxLayout()
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.create_button)
        self.name_problem = QLabel()
        self.name_problem.setObjectName("nameProblem")
        self.name_problem.setTextFormat(Qt.TextFormat.PlainText)  # it quotes a name, "<b>" and all
        self.name_problem.setWordWrap(True)
        self.name_problem.hide()
        column.addWidget(heading)
        column.addWidget(self.list, 1)
        column.addLayout(row)
        column.addWidget(self.name_problem)

        self.detail = CollectionDetail()
        self.detail.setObjectName("collectionDetail")
        d = self.detail
        d.add_folder_button.clicked.connect(lambda: self.add_paths(choose_folder(self)))
        d.add_files_button.clicked.connect(lambda: self.add_paths(choose_files(self)))
        d.rename_button.clicked.connect(self.rename_current)
        d.reindex_button.clicked.connect(lambda: self.reindex())
        d.remove_button.clicked.connect(self.remove_current)
        d.cancel_button.clicked.connect(lambda: self.cancel())
        d.remove_source_button.clicked.connect(self.remove_selected_sources)
        self.empty = QLabel("Create a collection on the left, then add folders or files to it, "
                            "or drop them here.\n\nThe assistant answers from the collections you choose "
                            "above the chat input. Nothing leaves this computer.")
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.drop_outline = self.stack
        self.stack.setObjectName("documentsStack")
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.detail)
        self.banner = ProblemBanner()
        right = QVBoxLayout()
        right.setContentsMargins(16, 8, 16, 0)
        right.addWidget(self.banner)
        right.addWidget(self.stack, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left)
        layout.addLayout(right, 1)

    # state ---------------------------------------------------------------------------
    def current(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item else None

    def names(self) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())]

    @property
    def indexing(self) -> bool:
        return self.queue.active

    def show_problem(self, text: str) -> None:
        self.banner.show_problem(text, kind="documents")
        self.problem_shown.emit(text)

    # showing -------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        before = self.names()
        self.refresh()  # the CLI may have changed collections meanwhile
        if self.names() != before:
            self.collections_changed.emit()  # or the chat's picker would go on offering the old ones

    @_guarded
    def refresh(self, select: str | None = None) -> None:
        wanted = select or self.current()
        names = [row["name"] for row in self.collections.list()]
        self.list.blockSignals(True)
        self.list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setData(NAME_ROLE, name)
            item.setToolTip(name)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if names:
            self.list.setCurrentRow(names.index(wanted) if wanted in names else 0)
        self._mark_busy()
        self._show_current()

    def select(self, name: str) -> None:
        self.refresh(select=name)

    def _mark_busy(self) -> None:
        running, queued = self.queue.running(), self.queue.queued()
        for i in range(self.list.count()):
            item = self.list.item(i)
            name = item.data(NAME_ROLE)
            suffix = "  · indexing…" if name == running else "  · waiting" if name in queued else ""
            item.setText(name + suffix)

    @_guarded
    def _show_current(self) -> None:
        name = self.current()
        if name is None:
            self.banner.dismiss()
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.detail)
        if self.detail.title.text() != name:
            self.banner.dismiss()
        busy = self.queue.is_busy(name)
        self.detail.show_status(self.collections.status(name), busy)
        self.detail.set_busy(busy)
        self.detail.cancel_button.setEnabled(name not in self._cancelling)
        if name in self._notes:
            self.banner.show_problem(self._notes[name], kind="documents")
        running = self.queue.running()
        if not busy:
            self.detail.hide_progress()
        elif name == running and name in self._progress:
            self.detail.show_progress(self._progress[name])
        else:  # queued, or its thread took it but has not said anything yet
            self.detail.show_waiting(running if running != name else None)
        if busy and name in self._cancelling:
            self.detail.progress_label.setText("Cancelling…")

    # creating, renaming, removing ----------------------------------------------------
    @Slot(str)
    def _check_new_name(self, text: str) -> None:
        problem = self.collections.name_problem(text) if text.strip() else None
        self.name_problem.setText(problem or "")
        self.name_problem.setVisible(bool(problem))

    @Slot()
    @_guarded
    def create_collection(self) -> bool:
        name = self.name_edit.text().strip()
        problem = self.collections.name_problem(name)
        if problem:
            self.name_problem.setText(problem)
            self.name_problem.show()
            return False
        self.collections.create(name)
        self.name_edit.clear()
        self.refresh(select=name)
        self.collections_changed.emit()
        return True

    @Slot()
    @_guarded
    def rename_current(self) -> None:
        old = self.current()
        if old is None or self.queue.is_busy(old):
            return
        new = ask_text(self, "Rename collection", f"New name for {old!r}:", old)
        if new is None or new.strip() == old:
            return
        new = new.strip()
        problem = self.collections.name_problem(new, current=old)
        if problem:
            self.show_problem(problem)
            return
        self.collections.rename(old, new)
        if old in self._notes:
            self._notes[new] = self._notes.pop(old)
        self.refresh(select=new)
        self.collection_renamed.emit(old, new)
        self.collections_changed.emit()

    @Slot()
    @_guarded
    def remove_current(self) -> None:
        name = self.current()
        if name is None or self.queue.is_busy(name):
            return
        if not confirm(self, "Remove collection",
                            f"Remove the collection {name!r}?\n\nIts index is deleted. "
                            "Your files stay where they are.", "Remove"):
            return
        self.collections.remove(name, default_lock_path(self.core.paths.data))
        self._notes.pop(name, None)
        self.queue.collect_garbage()  # its chunks and vectors, unless another collection shares them
        self.refresh()
        self.collections_changed.emit()

    # sources and indexing ------------------------------------------------------------
    @_guarded
    def add_paths(self, paths: list[str | Path]) -> None:
        """Add folders or files to the chosen collection (a new one, named after the first, if none
        is chosen) and index it. The dialogs and a drop both come here."""
        paths = [Path(p) for p in paths if str(p)]
        problems = [f"{p} does not exist." for p in paths if not p.exists() and not p.is_symlink()]
        paths = [p for p in paths if p.exists() or p.is_symlink()]
        name = self.current()
        if paths and name is None:
            name = unique_name(self.collections, paths[0].name or "Documents")
            self.collections.create(name)
            self.refresh(select=name)
            self.collections_changed.emit()
        added = 0
        for path in paths:
            try:
                self.collections.add_source(name, path)
                added += 1
            except (UserFacingError, OSError) as exc:
                problems.append(describe_error(exc))
        if added:
            self.reindex(name)
        if problems:
            self.show_problem(" ".join(problems))

    @Slot()
    @_guarded
    def remove_selected_sources(self) -> None:
        name = self.current()
        chosen = self.detail.source_paths(selected_only=True)
        if name is None or not chosen:
            return
        for path in chosen:
            self.collections.remove_source(name, path)
        self.refresh()
        self.reindex(name)  # forgets the documents of what was removed

    def reindex(self, name: str | None = None) -> None:
        name = name or self.current()
        if name is None:
            return
        self._notes.pop(name, None)
        if name == self.current():
            self.banner.dismiss()
        self.queue.index(name)
        self._mark_busy()
        self._show_current()

    def resume_interrupted(self) -> list[str]:
        """Index again each collection whose run the app's last exit cut off (it continues where it
        stopped: finished files are not read again). Returns their names."""
        names = [n for n in self.collections.interrupted() if not self.queue.is_busy(n)]
        for name in names:
            log.info("indexing of %r was interrupted when the app closed; continuing", name)
            self.reindex(name)
        return names

    def cancel(self, name: str | None = None) -> None:
        name = name or self.current()
        if name is None:
            return
        self._cancelling.add(name)
        if name == self.current():
            self.detail.cancel_button.setEnabled(False)
            self.detail.progress_label.setText("Cancelling…")
        self.queue.cancel(name)

    @Slot(str)
    def _on_started(self, name: str) -> None:
        self._mark_busy()
        if name == self.current():
            self.detail.set_busy(True)
            self.detail.show_waiting(None)
        self.indexing_status.emit(f"Indexing {name}…")
        self.indexing_started.emit(name)

    @Slot(str, object)
    def _on_progress(self, name: str, event: IndexProgress) -> None:
        self._progress[name] = event
        if name == self.current() and name not in self._cancelling:
            self.detail.show_progress(event)
        if event.files_total:
            self.indexing_status.emit(f"Indexing {name}: {event.files_done:,} of {event.files_total:,} files")

    @Slot(object)
    def _on_finished(self, outcome: IndexOutcome) -> None:
        self._cancelling.discard(outcome.name)
        self._progress.pop(outcome.name, None)
        if outcome.error:
            self._notes[outcome.name] = outcome.error
        elif outcome.cancelled:
            self._notes[outcome.name] = ("Indexing was cancelled. What was indexed so far is kept; "
                                         "choose Re-index to finish.")
        self._mark_busy()
        if outcome.name == self.current():
            if not self.queue.is_busy(outcome.name):
                self.detail.hide_progress()
            self._show_current()
        self.indexing_finished.emit(outcome)

    @Slot(bool)
    def _on_active_changed(self, active: bool) -> None:
        if not active:
            self.indexing_status.emit("")
        self.indexing_active.emit(active)

    # drag and drop (FileDropMixin) ---------------------------------------------------
    def files_dropped(self, paths: list[str]) -> None:
        self.add_paths(paths)

    # closing -------------------------------------------------------------------------
    def shutdown(self, timeout: float = 10.0) -> bool:
        """Cancel indexing and wait up to `timeout` s for its thread. True if it ended. Idempotent."""
        return self.queue.shutdown(timeout)
