"""One installed model on the models page: size, memory, speed, and Info / Measure / Delete
(Locate… and Remove… for an imported model whose file went missing, Download again for a
downloaded one).

A view only: the page tells it what to show and reacts to its signals.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from assistant.models.overview import InstalledItem
from assistant.models.speed import SpeedProgress
from assistant.models.units import size_text
from assistant.ui.model_text import (
    bench_progress_text,
    fit_badge,
    measured_detail,
    params_text,
    ram_text,
    ram_tooltip,
    speed_text,
)
from assistant.ui.model_widgets import Badge, ModelCard, card_label, thin_bar

SOURCES = {"download": "downloaded", "import": "imported", "starter": "starter model"}


class InstalledRow(ModelCard):
    info_requested = Signal(str)
    bench_requested = Signal(str)
    bench_cancel_requested = Signal(str)
    delete_requested = Signal(str)
    locate_requested = Signal(str)
    download_again_requested = Signal(str)

    def __init__(self, item: InstalledItem, parent: QWidget | None = None):
        super().__init__(item.name, parent)
        self.benching = False
        self.setProperty("state", "installed")
        self.loaded_badge = Badge()
        self.measured = card_label("modelDescription")
        self.problem = card_label("modelError")
        self.bench_bar = thin_bar()
        self.bench_label = card_label("modelStatus")
        self.info_button = self.button("Info", self.info_requested)
        self.bench_button = self.button("Measure speed", self.bench_requested)
        self.bench_button.setToolTip("Time a 1,000-token document question on this computer, in the background.")
        self.bench_cancel_button = self.button("Stop", self.bench_cancel_requested)
        self.locate_button = self.button("Locate…", self.locate_requested)
        self.locate_button.setToolTip("Show the app where this model's file is now.")
        self.download_again_button = self.button("Download again", self.download_again_requested)
        self.download_again_button.setToolTip("Fetch this model's file from the model hub again, checked against "
                                              "its SHA-256.")
        self.delete_button = self.button("Delete…", self.delete_requested)
        self.lay_out([self.loaded_badge],
                     [self.info_button, self.bench_button, self.bench_cancel_button, self.locate_button,
                      self.download_again_button, self.delete_button],
                     [self.measured, self.problem, self.bench_bar, self.bench_label])
        self.show_item(item)
        self.set_benching(False)

    def show_item(self, item: InstalledItem, *, loaded: bool = False, note: str = "",
                  note_is_error: bool = False) -> None:
        self.item = item
        m, facts = item.model, item.facts
        self.title.setText(m.display_name)
        self.fit_badge.set(*fit_badge(item.fit), tooltip=item.fit.reason if item.fit else "")
        self.recommended_badge.set("Recommended" if item.recommended else "", "star",
                                   "The largest installed model that fits and meets your speed targets.")
        self.loaded_badge.set("Loaded" if loaded else "", "info")
        params = facts.parameter_count() if facts else m.parameters
        parts = [params_text(params) if item.is_chat else "document embedder", m.quantization or "",
                 f"{size_text(m.size_bytes)} file" if m.size_bytes else "", m.architecture or "",
                 SOURCES.get(m.source, m.source)]
        self.facts.setText(" · ".join(p for p in parts if p))
        self.ram.setText(ram_text(item.fit))
        self.ram.setToolTip(ram_tooltip(item.fit))
        self.ram.setVisible(item.fit is not None)
        self.speed.setText(speed_text(item.speed) if item.is_chat else "")
        self.speed.setVisible(item.is_chat and not item.missing)
        detail = measured_detail(item.measurement)
        if note and not note_is_error:
            detail = f"{note} {detail}".strip()
        self.measured.setText(detail)
        self.measured.setVisible(bool(detail))
        problem = item.problem or (note if note_is_error else "")
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        # The embedder is part of the app (documents need it) and the engine does not run it.
        self.bench_button.setVisible(self._measurable and not self.benching)
        self.delete_button.setVisible(item.is_chat)
        self.bench_button.setEnabled(item.problem is None and not self.benching)
        self.delete_button.setEnabled(not self.benching)
        # Nothing is left on disk to delete: the app only forgets the model.
        self.delete_button.setText("Remove…" if item.missing else "Delete…")
        self.info_button.setVisible(not item.missing)  # no file: no header to describe, nothing to measure
        self.locate_button.setVisible(item.locatable)
        self.download_again_button.setVisible(item.redownloadable)

    @property
    def _measurable(self) -> bool:
        return self.item.is_chat and not self.item.missing

    def set_benching(self, on: bool, queued: bool = False) -> None:
        self.benching = on
        self.bench_bar.setVisible(on)
        self.bench_label.setVisible(on)
        self.bench_cancel_button.setVisible(on)
        self.bench_cancel_button.setEnabled(on)
        self.bench_button.setVisible(not on and self._measurable)
        self.delete_button.setEnabled(not on)  # its file is open in the measuring engine
        if on:
            self.bench_bar.setRange(0, 0 if queued else 1000)
            self.bench_bar.setValue(0)
            self.bench_label.setText("Waiting for the measurement before it…" if queued else "Starting…")

    def show_bench_progress(self, p: SpeedProgress) -> None:
        if not self.benching:
            self.set_benching(True)
        self.bench_bar.setRange(0, 1000)
        self.bench_bar.setValue(int(1000 * p.fraction))
        self.bench_label.setText(bench_progress_text(p))

    def set_bench_cancelling(self) -> None:
        self.bench_cancel_button.setEnabled(False)
        self.bench_label.setText("Stopping…")
