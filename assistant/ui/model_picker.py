"""The toolbar's model picker: installed chat models, smallest first, with their size."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget
from superqt.utils import signals_blocked

from assistant.models.registry import InstalledModel
from assistant.ui.formatting import model_label, models_by_size

NAME_ROLE = Qt.ItemDataRole.UserRole


class ModelPicker(QComboBox):
    """Emits `model_chosen(name)` when the user (or a test) picks another model; never when filled."""

    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setToolTip("The model that answers. Switching loads it in the background.")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.currentIndexChanged.connect(self._on_index_changed)

    def set_models(self, models: list[InstalledModel], current: str | None) -> None:
        with signals_blocked(self):
            self.clear()
            for model in models_by_size(models):
                self.addItem(model_label(model), model.name)
                self.setItemData(self.count() - 1, str(model.path), Qt.ItemDataRole.ToolTipRole)
            if not models:
                self.addItem("No models installed", None)
        self.set_current(current)

    def set_current(self, name: str | None) -> None:
        """Show `name` as the chosen model, quietly (no model_chosen)."""
        index = self.findData(name, NAME_ROLE) if name else -1
        if not self.names():
            index = 0 if self.count() else -1  # the "No models installed" line
        with signals_blocked(self):
            self.setCurrentIndex(index)  # -1 (blank) when that model is not installed

    def names(self) -> list[str]:
        return [self.itemData(i, NAME_ROLE) for i in range(self.count()) if self.itemData(i, NAME_ROLE)]

    def current_name(self) -> str | None:
        return self.currentData(NAME_ROLE)

    def index_of(self, name: str) -> int:
        return self.findData(name, NAME_ROLE)

    @Slot(int)
    def _on_index_changed(self, index: int) -> None:
        name = self.itemData(index, NAME_ROLE) if index >= 0 else None
        if name:
            self.model_chosen.emit(name)
