"""One installed model on the models page: size, memory, speed, and Info / Measure / Delete.

A view only: the page tells it what to show and reacts to its signals.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from assistant.models.overview import InstalledItem
from assistant.models.speed import SpeedProgress
from assistant.ui.download_row import _label
from assistant.ui.formatting import human_size
from assistant.ui.model_text import (
    bench_progress_text,
    fit_badge,
    measured_detail,
    params_text,
    ram_text,
    ram_tooltip,
    speed_text,
)
from assistant.ui.model_widgets import Badge, thin_bar

SOURCES = {"download": "downloaded", "import": "imported", "starter": "starter model"}


class InstalledRow(QFrame):
    info_requested = Signal(str)
    bench_requested = Signal(str)
    bench_cancel_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, item: InstalledItem, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = item.name
        self.benching = False
        self.setObjectName("modelCard")
        self.setProperty("state", "installed")
        self.title = _label("modelTitle", wrap=False)
        self.fit_badge = Badge()
        self.recommended_badge = Badge()
        self.loaded_badge = Badge()
        self.facts = _label("modelFacts")
        self.ram = _label("modelRam")
        self.speed = _label("modelSpeed")
        self.measured = _label("modelDescription")
        self.problem = _label("modelError")
        self.bench_bar = thin_bar()
        self.bench_label = _label("modelStatus")
        self.info_button = QPushButton("Info")
        self.bench_button = QPushButton("Measure speed")
        self.bench_button.setToolTip("Time a 1,000-token document question on this computer, in the background.")
        self.bench_cancel_button = QPushButton("Stop")
        self.delete_button = QPushButton("Delete…")
        for button, signal in ((self.info_button, self.info_requested), (self.bench_button, self.bench_requested),
                               (self.bench_cancel_button, self.bench_cancel_requested),
                               (self.delete_button, self.delete_requested)):
            button.clicked.connect(lambda _=False, s=signal: s.emit(self.name))

        head = QHBoxLayout()
        head.addWidget(self.title)
        for badge in (self.fit_badge, self.recommended_badge, self.loaded_badge):
            head.addWidget(badge)
        head.addStretch(1)
        for button in (self.info_button, self.bench_button, self.bench_cancel_button, self.delete_button):
            head.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(3)
        layout.addLayout(head)
        for widget in (self.facts, self.ram, self.speed, self.measured, self.problem, self.bench_bar,
                       self.bench_label):
            layout.addWidget(widget)
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
                 f"{human_size(m.size_bytes)} file", m.architecture or "", SOURCES.get(m.source, m.source)]
        self.facts.setText(" · ".join(p for p in parts if p))
        self.ram.setText(ram_text(item.fit))
        self.ram.setToolTip(ram_tooltip(item.fit))
        self.ram.setVisible(item.fit is not None)
        self.speed.setText(speed_text(item.speed) if item.is_chat else "")
        self.speed.setVisible(item.is_chat)
        detail = measured_detail(item.measurement)
        if note and not note_is_error:
            detail = f"{note} {detail}".strip()
        self.measured.setText(detail)
        self.measured.setVisible(bool(detail))
        problem = item.problem or (note if note_is_error else "")
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        # The embedder is part of the app (documents need it) and the engine does not run it.
        self.bench_button.setVisible(item.is_chat and not self.benching)
        self.delete_button.setVisible(item.is_chat)
        self.bench_button.setEnabled(item.problem is None and not self.benching)
        self.delete_button.setEnabled(not self.benching)

    def set_benching(self, on: bool, queued: bool = False) -> None:
        self.benching = on
        self.bench_bar.setVisible(on)
        self.bench_label.setVisible(on)
        self.bench_cancel_button.setVisible(on)
        self.bench_cancel_button.setEnabled(on)
        self.bench_button.setVisible(not on and self.item.is_chat)
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
