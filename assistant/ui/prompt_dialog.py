"""The exact prompt an answer was generated from, with how many tokens each part took."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.store.conversations import Message
from assistant.ui.source_format import prompt_parts

NO_PROMPT = "The model was not asked for this answer, so there is no prompt to show."
COUNT_NOTE = ("Parts are counted in words and punctuation marks (as the chunker counts them); "
              "the total is the model's own token count.")


class PromptDialog(QDialog):
    def __init__(self, message: Message, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("promptDialog")
        self.setWindowTitle("Prompt sent to the model")
        self.resize(720, 640)
        details = message.details or {}
        prompt = details.get("prompt") or ""

        self.parts_table = QTableWidget(0, 2)
        self.parts_table.setObjectName("promptParts")
        self.parts_table.setHorizontalHeaderLabels(["Part", "Tokens"])
        self.parts_table.verticalHeader().hide()
        self.parts_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.parts_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.parts_table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.parts_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        rows = prompt_parts(details)
        if message.prompt_tokens:
            rows.append(("Whole prompt (model tokens)", message.prompt_tokens))
        for label, count in rows:
            at = self.parts_table.rowCount()
            self.parts_table.insertRow(at)
            self.parts_table.setItem(at, 0, QTableWidgetItem(label))
            self.parts_table.setItem(at, 1, QTableWidgetItem(f"{count:,}"))
        self.parts_table.setFixedHeight(self.parts_table.horizontalHeader().height() + 6
                                        + sum(self.parts_table.rowHeight(r) for r in range(len(rows))))
        self.parts_table.setVisible(bool(rows))
        note = QLabel(COUNT_NOTE if rows else "")
        note.setObjectName("promptNote")
        note.setWordWrap(True)
        note.setVisible(bool(rows))

        self.prompt_view = QPlainTextEdit()
        self.prompt_view.setObjectName("promptText")
        self.prompt_view.setReadOnly(True)
        self.prompt_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.prompt_view.setPlainText(prompt or NO_PROMPT)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.parts_table)
        layout.addWidget(note)
        layout.addWidget(self.prompt_view, 1)
        layout.addWidget(buttons)

    def prompt_text(self) -> str:
        return self.prompt_view.toPlainText()

    def part_counts(self) -> dict[str, int]:
        """Label -> count, as shown."""
        table = self.parts_table
        return {table.item(r, 0).text(): int(table.item(r, 1).text().replace(",", ""))
                for r in range(table.rowCount())}
