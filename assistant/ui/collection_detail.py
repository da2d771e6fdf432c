"""One collection on the documents page: its sources, status, indexing progress and skipped files.

A view only: the page decides what to show and reacts to the buttons.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from assistant.knowledge.collections import CollectionStatus
from assistant.knowledge.indexer import IndexProgress
from assistant.knowledge.library import plural, shown_path, source_problem, status_line
from assistant.ui.style import colour

PATH_ROLE = Qt.ItemDataRole.UserRole
REINDEX_TIP = "Read the sources again: new and changed files are indexed, removed ones forgotten."
BUSY_TIP = "Cancel the indexing first."
OUTDATED = ("{files} {verb} read by an earlier version of the app, which read some documents less well "
            "(such as the page each sentence is on, or spreadsheet cells holding quotes). Choose Re-index to read them again, quickly where their "
            "text is unchanged; until then they are searched as they are.")
UNFINISHED = "Indexing has not finished: only the files counted here can be searched. Choose Re-index for the rest."

def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionHeading")
    return label


def progress_text(event: IndexProgress) -> str:
    if event.phase == "waiting":
        return "Waiting for another indexing run (another window or the command line) to finish…"
    if event.phase == "scanning":
        return "Looking for files…"
    if event.phase == "cleaning":
        return f"Tidying up after {plural(event.files_total, 'file')}…"
    text = f"{event.files_done:,} of {plural(event.files_total, 'file')} · {plural(event.chunks, 'chunk')} added"
    if event.errors:
        text += f" · {event.errors:,} skipped"
    return text


class CollectionDetail(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 12)

        # Names are the user's words: "<b>" or "&" in one is text, and a long one is elided (its
        # full width would force the window wider than a small screen).
        self.title = QElidingLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setObjectName("collectionTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)

        buttons = QHBoxLayout()
        self.add_folder_button = QPushButton("Add folder…")
        self.add_files_button = QPushButton("Add files…")
        self.rename_button = QPushButton("Rename…")
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip(REINDEX_TIP)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeCollectionButton")
        for button in (self.add_folder_button, self.add_files_button, self.rename_button, self.reindex_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        layout.addLayout(buttons)

        self.status_label = QLabel()
        self.status_label.setObjectName("statusLine")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

        self.progress_box = QFrame()
        self.progress_box.setObjectName("progressBox")
        box = QVBoxLayout(self.progress_box)
        box.setContentsMargins(10, 8, 10, 8)
        row = QHBoxLayout()
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelIndexingButton")
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("progressText")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)  # names the collection it waits for
        self.current_file = QElidingLabel()
        self.current_file.setTextFormat(Qt.TextFormat.PlainText)
        self.current_file.setObjectName("currentFile")
        self.current_file.setElideMode(Qt.TextElideMode.ElideMiddle)
        box.addLayout(row)
        box.addWidget(self.progress_label)
        box.addWidget(self.current_file)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        layout.addWidget(_heading("Folders and files"))
        self.sources = QListWidget()
        self.sources.setObjectName("sourceList")
        self.sources.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.sources.setMaximumHeight(96)
        layout.addWidget(self.sources)
        source_row = QHBoxLayout()
        self.sources_hint = QLabel("Drop folders or files here to add them.")
        self.sources_hint.setObjectName("hint")
        self.remove_source_button = QPushButton("Remove from collection")
        self.remove_source_button.setEnabled(False)
        self.sources.itemSelectionChanged.connect(
            lambda: self.remove_source_button.setEnabled(bool(self.sources.selectedItems())))
        source_row.addWidget(self.sources_hint, 1)
        source_row.addWidget(self.remove_source_button)
        layout.addLayout(source_row)

        self.skipped_heading = _heading("Skipped files")
        layout.addWidget(self.skipped_heading)
        self.skipped = QTreeWidget()
        self.skipped.setObjectName("skippedList")
        self.skipped.setHeaderLabels(["File", "Why"])
        self.skipped.setRootIsDecorated(False)
        self.skipped.setAlternatingRowColors(True)
        self.skipped.setWordWrap(True)
        self.skipped.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.skipped.header().setStretchLastSection(True)
        self.skipped.setColumnWidth(0, 280)
        self.skipped.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.no_skipped = QLabel("Nothing was skipped.")
        self.no_skipped.setObjectName("hint")
        layout.addWidget(self.skipped, 1)
        layout.addWidget(self.no_skipped)
        self.filler = QWidget()  # takes the height the hidden skipped list leaves
        self.filler.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        layout.addWidget(self.filler, 1)
        for label in (self.title, self.status_label, self.progress_label, self.no_skipped):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    # what the page shows ----------------------------------------------------------
    def show_status(self, status: CollectionStatus, busy: bool = False) -> None:
        self.title.setText(status.name)
        self.title.setToolTip(status.name)
        line = status_line(status)
        if status.unfinished and not busy:
            # A run that was cancelled or failed: its counts are how far it got, not what the
            # folders hold, and after a restart nothing else says so.
            line += "\n" + UNFINISHED
        if status.outdated and not busy:
            line += "\n" + OUTDATED.format(files=plural(status.outdated, "file"),
                                             verb="was" if status.outdated == 1 else "were")
        self.status_label.setText(line)
        self._show_sources(status.sources)
        self._show_skipped(status.skipped, status.sources, status.partial)

    def _show_sources(self, sources: list[str]) -> None:
        self.sources.clear()
        for path in sources:
            problem = source_problem(path)
            item = QListWidgetItem(f"{path}   ⚠ {problem}" if problem else path)
            item.setData(PATH_ROLE, path)
            item.setToolTip(problem or path)
            if problem:
                item.setForeground(colour("error"))
            self.sources.addItem(item)
        if not sources:
            item = QListWidgetItem("No folders or files yet: use Add folder… or drop them here.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.sources.addItem(item)

    def _show_skipped(self, skipped: list[tuple[str, str]], sources: list[str],
                      partial: list[tuple[str, str]] = ()) -> None:
        """Skipped files, then files indexed without some pages (scans in a PDF): both leave text
        the user may expect to find out of the search."""
        self.skipped.clear()
        for path, reason in [*skipped, *partial]:
            item = QTreeWidgetItem([shown_path(path, sources), reason or "unknown reason"])
            item.setData(0, PATH_ROLE, path)
            item.setToolTip(0, path)
            item.setToolTip(1, reason or "")
            self.skipped.addTopLevelItem(item)
        heading = f"Skipped files ({len(skipped):,})" if skipped else "Skipped files"
        if partial:
            heading += f" and files partly read ({len(partial):,})"
        self.skipped_heading.setText(heading)
        shown = bool(skipped or partial)
        self.skipped.setVisible(shown)
        self.no_skipped.setVisible(not shown)
        self.filler.setVisible(not shown)

    def source_paths(self, selected_only: bool = False) -> list[str]:
        items = self.sources.selectedItems() if selected_only else [
            self.sources.item(i) for i in range(self.sources.count())]
        return [item.data(PATH_ROLE) for item in items if item.data(PATH_ROLE)]

    def skipped_rows(self) -> list[tuple[str, str]]:
        """(full path, reason) of every skipped file shown."""
        return [(self.skipped.topLevelItem(i).data(0, PATH_ROLE), self.skipped.topLevelItem(i).text(1))
                for i in range(self.skipped.topLevelItemCount())]

    def show_waiting(self, running: str | None) -> None:
        self.progress_box.show()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(f"Waiting for {running!r} to finish…" if running else "Starting…")
        self.current_file.setText("")

    def show_progress(self, event: IndexProgress) -> None:
        self.progress_box.show()
        if event.phase == "scanning" or not event.files_total:
            self.progress_bar.setRange(0, 0)  # busy: the total is not known yet
        else:
            self.progress_bar.setRange(0, event.files_total)
            self.progress_bar.setValue(event.files_done)
        self.progress_label.setText(progress_text(event))
        self.current_file.setText(event.current_file)

    def hide_progress(self) -> None:
        self.progress_box.hide()
        self.cancel_button.setEnabled(True)

    def set_busy(self, busy: bool) -> None:
        """While its run is queued or going, the collection cannot be renamed or removed."""
        for button in (self.rename_button, self.remove_button, self.reindex_button):
            button.setEnabled(not busy)
            button.setToolTip(BUSY_TIP if busy else "")
        if not busy:
            self.reindex_button.setToolTip(REINDEX_TIP)
