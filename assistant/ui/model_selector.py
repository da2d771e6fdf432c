"""The toolbar's model selector: installed chat models from fastest to smartest, with what each costs here.

A compact button shows the model in use; its popup has a slider over the
installed chat models ordered by size, and for the one under the slider its
file size, the memory it needs at the chosen context length, its fit, and its
speed measured on this computer (or "not measured yet", with a button that
measures it in the background). The core's recommendation is marked. Choosing
only emits `model_chosen`: loading is the window's job, on its engine thread.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QTreeWidgetItem, QWidget

from assistant.models.catalog import CatalogEntry, load_catalog
from assistant.models.overview import FactsCache, InstalledItem, installed_view
from assistant.models.speed import SpeedProgress
from assistant.models.units import size_text
from assistant.ui.formatting import human_size, rate
from assistant.ui.model_tasks import JobOutcome, ModelTasks
from assistant.ui.model_text import (
    NOT_MEASURED,
    fit_badge,
    measured_detail,
    ram_text,
    ram_tooltip,
    speed_text,
)
from assistant.ui.model_widgets import describe_error
from assistant.ui.selector_popup import SelectorPopup


def short_speed(item: InstalledItem) -> str:
    s = item.speed
    if s is None:
        return "not measured"
    return f"{rate(s.gen_tokens_per_s)} tokens/s" if s.measured else f"about {rate(s.gen_tokens_per_s)} tokens/s"


def list_cells(item: InstalledItem, current: str | None) -> list[str]:
    """One model in the popup's overview: name, file size, memory needed, speed, and marks."""
    marks = []
    if item.name == current:
        marks.append("in use")
    if item.recommended:
        marks.append("★ recommended")
    if item.fit is not None and not item.fit.fits:
        marks.append(item.fit.verdict)
    return [item.model.display_name, human_size(item.model.size_bytes), size_text(item.fit.needed) if item.fit else "",
            short_speed(item), ", ".join(marks)]


class ModelSelector(QWidget):
    model_chosen = Signal(str)  # the user chose another model: the window loads it in the background
    context_changed = Signal(int, int)  # (n_ctx, n_threads; 0 = automatic), when the popup closes after a change

    def __init__(self, core, parent: QWidget | None = None, *, tasks: ModelTasks | None = None,
                 entries: list[CatalogEntry] | None = None):
        """`tasks`: the ModelsPage's ModelTasks, so a measurement started here shows there and the
        two never measure at once."""
        super().__init__(parent)
        self.setObjectName("modelSelector")
        self.core = core
        self.entries = load_catalog() if entries is None else entries
        self._owns_tasks = tasks is None
        self.tasks = tasks or ModelTasks(core, self)
        self._items: list[InstalledItem] = []
        self._current: str | None = core.model.name if core.model is not None else core.settings.default_model
        self._preview: str | None = None
        gen = core.settings.generation
        self._n_ctx, self._n_threads = gen.n_ctx, gen.n_threads or 0
        self._context_dirty = False
        self._facts = FactsCache()
        self._recommended: str | None = None
        self.problem = ""  # the last refresh's failure, if any (the button's tooltip says it too)

        self.button = QToolButton()
        self.button.setObjectName("modelSelectorButton")
        self.button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.button.clicked.connect(self.show_popup)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)

        self.popup = p = SelectorPopup(self)
        p.slider.valueChanged.connect(self._on_slider)
        p.models_list.currentItemChanged.connect(
            lambda item, _old: item is not None and p.slider.setValue(p.models_list.indexOfTopLevelItem(item)))
        p.use_button.clicked.connect(lambda: self.choose(self._preview))
        p.measure_button.clicked.connect(lambda: self.measure(self._preview))
        p.bench_stop.clicked.connect(self._stop_measuring)
        p.ctx_spin.setValue(self._n_ctx)
        p.threads_spin.setValue(self._n_threads)
        p.ctx_spin.valueChanged.connect(self._on_context_spin)
        p.threads_spin.valueChanged.connect(self._on_context_spin)
        p.hidden.connect(self._on_popup_hidden)
        benches = self.tasks.benches
        benches.submitted.connect(lambda _name: self._show_card())
        benches.started.connect(self._on_bench_started)
        benches.progress.connect(self._on_bench_progress)
        benches.finished.connect(self._on_bench_finished)
        self.refresh()

    # state -----------------------------------------------------------------------------
    def names(self) -> list[str]:
        """The selectable models, fastest (smallest) first."""
        return [i.name for i in self._items]

    def item(self, name: str) -> InstalledItem | None:
        return next((i for i in self._items if i.name == name), None)

    def current_name(self) -> str | None:
        return self._current

    def previewed_name(self) -> str | None:
        return self._preview

    def recommended_name(self) -> str | None:
        return self._recommended

    def context(self) -> tuple[int, int]:
        return self._n_ctx, self._n_threads

    # from the window ---------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Read the installed models, their measurements and this computer's memory again."""
        try:
            items = installed_view(self.core, self._n_ctx, self.entries, facts=self._facts, chat_only=True)
            self.problem = ""
        except Exception as exc:  # noqa: BLE001 - a toolbar control must not take the window down
            self.problem = describe_error(exc)
            items = []
        self._items = [i for i in items if i.problem is None]
        self._recommended = next((i.name for i in self._items if i.recommended), None)
        names = self.names()
        if self._preview not in names:
            self._preview = self._current if self._current in names else (names[0] if names else None)
        slider = self.popup.slider
        slider.blockSignals(True)
        slider.setRange(0, max(0, len(names) - 1))
        slider.setValue(names.index(self._preview) if self._preview in names else 0)
        slider.blockSignals(False)
        slider.setEnabled(len(names) > 1)
        self._fill_list()
        self._show_button()
        self._show_card()

    def set_current(self, name: str | None) -> None:
        """Show `name` as the model in use, quietly (no model_chosen)."""
        self._current = name
        self._fill_list()
        if name in self.names():
            self.preview(name)
        self._show_button()
        self._show_card()

    def set_context(self, n_ctx: int, n_threads: int | None = None) -> None:
        """Show the memory needed at this context length (and thread count; 0/None = automatic), quietly."""
        p = self.popup
        for spin, value in ((p.ctx_spin, n_ctx), (p.threads_spin, n_threads or 0)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._n_ctx, self._n_threads = p.ctx_spin.value(), p.threads_spin.value()
        self.refresh()

    def shutdown(self, timeout: float = 10.0) -> bool:
        self.popup.hide()
        return self.tasks.shutdown(timeout) if self._owns_tasks else True

    # from the user ---------------------------------------------------------------------
    @Slot()
    def show_popup(self) -> None:
        self.refresh()
        self.popup.adjustSize()
        self.popup.move(self.button.mapToGlobal(QPoint(0, self.button.height())))
        self.popup.show()

    def preview(self, name: str) -> None:
        """Move the slider to `name` (as dragging it would)."""
        if name in self.names():
            self.popup.slider.setValue(self.names().index(name))

    def choose(self, name: str | None = None) -> None:
        """Use `name` (default: the one under the slider): emits model_chosen unless it is in use."""
        name = name or self._preview
        if name is None or name not in self.names():
            return
        self.popup.hide()
        if name != self._current:
            self.set_current(name)
            self.model_chosen.emit(name)

    def measure(self, name: str | None = None) -> bool:
        name = name or self._preview
        return name is not None and self.tasks.bench(name)

    @Slot()
    def _stop_measuring(self) -> None:
        if self._preview is not None:
            self.popup.bench_stop.setEnabled(False)
            self.popup.bench_label.setText("Stopping…")
            self.tasks.benches.cancel(self._preview)

    @Slot(int)
    def _on_slider(self, index: int) -> None:
        names = self.names()
        if 0 <= index < len(names):
            self._preview = names[index]
            self._show_card()

    @Slot()
    def _on_context_spin(self) -> None:
        self._n_ctx, self._n_threads = self.popup.ctx_spin.value(), self.popup.threads_spin.value()
        self._context_dirty = True
        self.refresh()

    @Slot()
    def _on_popup_hidden(self) -> None:
        if self._context_dirty:
            self._context_dirty = False
            self.context_changed.emit(self._n_ctx, self._n_threads)

    def _on_bench_started(self, name: str) -> None:
        if name == self._preview:
            self.popup.measure_button.hide()
            self.popup.set_benching(True, "Starting…", 0.0)

    def _on_bench_progress(self, name: str, p: SpeedProgress) -> None:
        if name == self._preview and self.popup.bench_stop.isEnabled():
            self.popup.set_benching(True, p.message, p.fraction)

    def _on_bench_finished(self, outcome: JobOutcome) -> None:
        self.popup.bench_stop.setEnabled(True)
        self.refresh()
        if outcome.key == self._preview and outcome.error and not outcome.cancelled:
            self.popup.speed_line.setText(outcome.error)

    # showing ---------------------------------------------------------------------------
    def _show_button(self) -> None:
        item = self.item(self._current) if self._current else None
        if item is None:
            text = "Choose a model" if self._items else "No models installed"
        else:
            text = f"{item.model.display_name}  ·  {human_size(item.model.size_bytes)}  ·  {short_speed(item)}"
        self.button.setText(text + "  ▾")
        tip = "Choose the model: from fastest to smartest, with memory and speed on this computer."
        self.button.setToolTip(f"{tip}\n{self.problem}" if self.problem else tip)

    def _fill_list(self) -> None:
        box = self.popup.models_list
        box.blockSignals(True)
        box.clear()
        for item in self._items:
            row = QTreeWidgetItem(list_cells(item, self._current))
            row.setToolTip(2, ram_tooltip(item.fit))
            row.setToolTip(3, speed_text(item.speed))
            box.addTopLevelItem(row)
        rows = min(6, max(1, len(self._items)))
        box.setFixedHeight(box.header().sizeHint().height() + rows * (box.fontMetrics().height() + 8) + 4)
        box.setVisible(bool(self._items))
        box.blockSignals(False)

    def _show_card(self) -> None:
        p = self.popup
        item = self.item(self._preview) if self._preview else None
        p.card.setVisible(item is not None)
        p.empty.setVisible(item is None)
        p.empty.setText(self.problem or "No chat model is installed. Download one on the Models page.")
        names = self.names()
        p.position.setText(f"{names.index(item.name) + 1} of {len(names)}, ordered by size" if item else "")
        rec = self.item(self._recommended) if self._recommended else None
        p.recommendation.setText(f"Recommended for your speed targets: {rec.model.display_name}." if rec else
                                 "No recommendation yet: measure the installed models' speed first, or none "
                                 "meets your speed targets.")
        if item is None:
            return
        row = p.models_list.topLevelItem(names.index(item.name))
        if row is not None and p.models_list.currentItem() is not row:
            p.models_list.blockSignals(True)
            p.models_list.setCurrentItem(row)
            p.models_list.blockSignals(False)
        p.title.setText(item.model.display_name)
        p.fit_badge.set(*fit_badge(item.fit), tooltip=item.fit.reason if item.fit else "")
        p.recommended_badge.set("Recommended" if item.recommended else "", "star")
        p.current_badge.set("In use" if item.name == self._current else "", "info")
        p.size_line.setText(f"{human_size(item.model.size_bytes)} file")
        ram = ram_text(item.fit)
        p.ram_line.setText(ram[:1].upper() + ram[1:])
        p.ram_line.setToolTip(ram_tooltip(item.fit))
        p.speed_line.setText(speed_text(item.speed) if item.speed else NOT_MEASURED)
        p.speed_line.setToolTip(measured_detail(item.measurement))
        benches = self.tasks.benches
        busy = benches.is_busy(item.name)
        p.measure_button.setVisible(item.measurement is None and not busy)
        if busy and benches.running() != item.name:
            p.set_benching(True, "Waiting for the measurement before it…")
        elif busy and not p.bench_bar.isVisible():
            p.set_benching(True, "Measuring…", 0.0)
        elif not busy:
            p.set_benching(False)
        p.use_button.setEnabled(item.name != self._current)
        p.use_button.setText("In use" if item.name == self._current else "Use this model")
