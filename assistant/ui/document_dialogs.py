"""The pages' small dialogs, as plain functions; the tests drive the real ones."""

from __future__ import annotations

from PySide6.QtCore import QDir, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox, QWidget

# The texts quote names the user chose (a collection, a conversation): as rich text, a "<b>" in one
# was drawn bold, the tag gone, and the blank line before the explanation collapsed.


def confirm(parent: QWidget, title: str, text: str, action: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    ok = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is ok


def ask_text(parent: QWidget, title: str, label: str, text: str) -> str | None:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    for child in dialog.findChildren(QLabel):
        child.setTextFormat(Qt.TextFormat.PlainText)
    ok = bool(dialog.exec())
    value = dialog.textValue()
    dialog.deleteLater()
    return value if ok else None


def choose_folder(parent: QWidget) -> list[str]:
    folder = QFileDialog.getExistingDirectory(parent, "Add a folder", QDir.homePath())
    return [folder] if folder else []


def choose_files(parent: QWidget) -> list[str]:
    from assistant.knowledge.parsers import SUPPORTED_SUFFIXES

    patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
    files, _filter = QFileDialog.getOpenFileNames(parent, "Add files", QDir.homePath(),
                                                  f"Documents ({patterns});;All files (*)")
    return files
