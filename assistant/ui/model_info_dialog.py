"""What an installed model is: its GGUF header facts, fingerprint, memory fit and speed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from assistant.models.manage import ModelInfo
from assistant.models.units import size_text
from assistant.ui.model_text import NOT_MEASURED, fit_badge, ram_text, speed_text
from assistant.ui.model_widgets import Badge
from assistant.ui.style import use_sheet


def info_rows(info: ModelInfo) -> list[tuple[str, str]]:
    """(label, value) in the order shown; a fact the header does not state shows as "not stated"."""
    def stated(value, fmt=str) -> str:
        return fmt(value) if value not in (None, "") else "not stated"

    rows = [
        ("Name", info.name),
        ("Architecture", stated(info.architecture)),
        ("Parameters", stated(info.parameters, lambda n: f"{n:,}")),
        ("Quantization", stated(info.quantization)),
        ("Context length", stated(info.context_length, lambda n: f"{n:,} tokens")),
    ]
    if info.kind == "chat":
        rows += [
            ("Layers", stated(info.layers)),
            ("Attention", f"{info.kv_heads} key/value heads × {info.head_dim}" if info.kv_heads else "not stated"),
            ("Vocabulary", stated(info.vocab_size, lambda n: f"{n:,} tokens")),
            ("Chat template", "present" if info.has_chat_template else "missing: the app cannot chat with it"),
        ]
    rows += [
        ("File size", f"{size_text(info.file_size)} ({info.file_size:,} bytes)"),
        ("SHA-256", info.sha256),
        ("File", info.path + ("" if info.in_models_folder else "  (used where it lies, not copied)")),
        ("Source", info.source),
    ]
    if info.fit is not None:
        rows.append(("Memory", f"{ram_text(info.fit)}. {info.fit.reason[0].upper()}{info.fit.reason[1:]}."))
    if info.kind == "chat":
        rows.append(("Speed", speed_text(info.speed) if info.speed else NOT_MEASURED.removeprefix("Speed: ")))
    return rows


class ModelInfoDialog(QDialog):
    def __init__(self, info: ModelInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.info = info
        self.setWindowTitle(f"About {info.display_name}")
        self.setObjectName("modelInfoDialog")
        use_sheet(self, "models")
        self.setMinimumWidth(560)
        title = QLabel(info.display_name)
        title.setObjectName("pageHeading")
        self.fit_badge = Badge(*fit_badge(info.fit))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._values: dict[str, QLabel] = {}
        for key, value in info_rows(info):
            label = QLabel(value)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setObjectName(f"info_{key.lower().replace(' ', '_').replace('-', '')}")
            form.addRow(f"{key}:", label)
            self._values[key] = label
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.fit_badge, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def value(self, key: str) -> str:
        """The text shown for `key` (e.g. "Architecture")."""
        return self._values[key].text()

    def keys(self) -> list[str]:
        return list(self._values)
