"""The models page's widgets and their layout, apart from its behaviour (models_page.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from assistant.models.overview import CatalogView
from assistant.models.units import size_text
from assistant.ui.banner import ProblemBanner
from assistant.ui.file_drop import FileDropMixin
from assistant.ui.model_widgets import thin_bar
from assistant.ui.style import use_sheet


def _label(text: str, name: str, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


class ModelsLayout(FileDropMixin, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelsPage")
        self.setAcceptDrops(True)
        use_sheet(self, "models")

        heading = _label("Models", "pageHeading", wrap=False)
        self.import_button = QPushButton("Import .gguf…")
        self.import_button.setObjectName("importButton")
        self.import_button.setToolTip("Add a GGUF model file from this computer (or drop it on this page).")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.import_button)
        self.machine_line = _label("", "machineLine")
        self.recommendation_line = _label("", "hint")
        self.banner = ProblemBanner()
        self.notice = _label("", "pageNotice")
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()

        self.import_box = QFrame()
        self.import_box.setObjectName("importBox")
        self.import_label = _label("", "modelStatus")
        self.import_bar = thin_bar()
        self.import_cancel = QPushButton("Cancel")
        row = QHBoxLayout(self.import_box)
        row.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout()
        column.addWidget(self.import_label)
        column.addWidget(self.import_bar)
        row.addLayout(column, 1)
        row.addWidget(self.import_cancel)
        self.import_box.hide()

        inner = QWidget()
        inner.setObjectName("modelsInner")
        body = QVBoxLayout(inner)
        body.setContentsMargins(0, 0, 8, 8)
        body.setSpacing(6)
        self.installed_heading = _label("Installed", "sectionHeading", wrap=False)
        self.installed_empty = _label("No models installed yet. Download one below, or import a .gguf file.",
                                      "hint")
        self.installed_box = QVBoxLayout()
        self.installed_box.setSpacing(6)
        self.catalog_heading = _label("Catalog", "sectionHeading", wrap=False)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("catalogFilter")
        self.filter_edit.setPlaceholderText("Filter by name, family or quantization")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAcceptDrops(False)  # a dropped file is imported, not typed in
        catalog_head = QHBoxLayout()
        catalog_head.addWidget(self.catalog_heading)
        catalog_head.addStretch(1)
        catalog_head.addWidget(self.filter_edit, 1)
        self.catalog_box = QVBoxLayout()
        self.catalog_box.setSpacing(6)
        hint = _label("Memory fit and speed are for this computer. Speeds marked “estimated” come from the "
                      "models measured here; use Measure speed on an installed model for its real figures. "
                      "Downloads are the only thing that goes online, and only when you click.", "sectionHint")
        body.addWidget(self.installed_heading)
        body.addWidget(self.installed_empty)
        body.addLayout(self.installed_box)
        body.addLayout(catalog_head)
        body.addWidget(hint)
        body.addLayout(self.catalog_box)
        body.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("modelsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(inner)
        self.drop_outline = self.scroll

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 8, 0)
        layout.addLayout(top)
        layout.addWidget(self.machine_line)
        layout.addWidget(self.recommendation_line)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice)
        layout.addWidget(self.import_box)
        layout.addWidget(self.scroll, 1)

    def show_machine(self, view: CatalogView) -> None:
        rec, memory = view.recommendation, view.memory
        # The same "free" figure every row's fit was measured against, said the same way.
        held = (f" for a model, counting the {size_text(memory.free - memory.available)} the loaded model "
                "would give back" if memory.free > memory.available else "")
        self.machine_line.setText(
            f"This computer: {size_text(memory.total)} of memory, {size_text(memory.free)} free{held}. Memory "
            f"fit is for {view.n_ctx:,} tokens of context; speed targets: {rec.target_tokens_per_s:g} tokens/s "
            f"and the first token within {rec.target_ttft_s:g} s.")
        if rec.choice is not None:
            text = f"Recommended: {rec.reason}"
        elif not any(c.speed for c in rec.candidates):
            text = ("No recommendation yet: no model has been measured, so speeds are unknown. "
                    "Use Measure speed on an installed model.")
        else:
            text = rec.reason
        self.recommendation_line.setText(text)
