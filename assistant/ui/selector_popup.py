"""The model selector's popup: widgets only; ModelSelector (model_selector.py) fills them and reacts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.config import physical_cores
from assistant.ui.model_widgets import Badge, thin_bar
from assistant.ui.style import use_sheet

MIN_CTX, MAX_CTX, CTX_STEP = 512, 131_072, 512


def _label(name: str, text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


class SelectorPopup(QFrame):
    hidden = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("selectorPopup")
        use_sheet(self, "selector")
        self.setFixedWidth(600)
        heading = _label("pageHeading", "Model size and speed", wrap=False)
        hint = _label("hint", "Smaller models answer sooner; larger ones answer better. Figures are for this "
                              "computer.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("modelSlider")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        slider_row = QHBoxLayout()
        slider_row.addWidget(_label("sliderEnd", "Fastest", wrap=False))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(_label("sliderEnd", "Smartest", wrap=False))
        self.position = _label("sliderEnd")
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.models_list = QTreeWidget()
        self.models_list.setObjectName("selectorList")
        self.models_list.setHeaderLabels(["Model", "File", "Memory", "Speed", ""])
        self.models_list.setRootIsDecorated(False)
        self.models_list.setUniformRowHeights(True)
        self.models_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.models_list.header().setStretchLastSection(False)
        self.models_list.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.models_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

        card = QFrame()
        card.setObjectName("selectorCard")
        self.title = _label("modelTitle")
        self.fit_badge, self.recommended_badge, self.current_badge = Badge(), Badge(), Badge()
        self.size_line = _label("modelFacts")
        self.ram_line = _label("modelRam")
        self.speed_line = _label("modelSpeed")
        self.measure_button = QPushButton("Measure speed")
        self.measure_button.setObjectName("measureButton")
        self.measure_button.setToolTip("Time a 1,000-token document question on this computer, in the background.")
        self.bench_bar = thin_bar()
        self.bench_label = _label("modelStatus")
        self.bench_stop = QPushButton("Stop")
        self.use_button = QPushButton("Use this model")
        self.use_button.setObjectName("useModelButton")
        self.use_button.setDefault(True)
        badges = QHBoxLayout()
        for badge in (self.fit_badge, self.recommended_badge, self.current_badge):
            badges.addWidget(badge)
        badges.addStretch(1)
        speed_row = QHBoxLayout()
        speed_row.addWidget(self.speed_line, 1)
        speed_row.addWidget(self.measure_button)
        bench_row = QHBoxLayout()
        bench_col = QVBoxLayout()
        bench_col.addWidget(self.bench_bar)
        bench_col.addWidget(self.bench_label)
        bench_row.addLayout(bench_col, 1)
        bench_row.addWidget(self.bench_stop)
        inner = QVBoxLayout(card)
        inner.addWidget(self.title)
        inner.addLayout(badges)
        inner.addWidget(self.size_line)
        inner.addWidget(self.ram_line)
        inner.addLayout(speed_row)
        inner.addLayout(bench_row)
        inner.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignRight)

        self.ctx_spin = QSpinBox()
        self.ctx_spin.setObjectName("contextSpin")
        self.ctx_spin.setRange(MIN_CTX, MAX_CTX)
        self.ctx_spin.setSingleStep(CTX_STEP)
        self.ctx_spin.setGroupSeparatorShown(True)
        self.ctx_spin.setSuffix(" tokens")
        self.ctx_spin.setToolTip("How much text (question, documents and history) the model can see at once. "
                                 "More context needs more memory.")
        self.threads_spin = QSpinBox()
        self.threads_spin.setObjectName("threadsSpin")
        self.threads_spin.setRange(0, max(1, physical_cores()) * 2)
        self.threads_spin.setSpecialValueText(f"automatic ({physical_cores()})")
        self.threads_spin.setToolTip("CPU threads the model uses. Speeds were measured with the threads shown "
                                     "in their detail; more threads than cores rarely helps.")
        settings = QGridLayout()
        settings.addWidget(QLabel("Context"), 0, 0)
        settings.addWidget(self.ctx_spin, 0, 1)
        settings.addWidget(QLabel("Threads"), 1, 0)
        settings.addWidget(self.threads_spin, 1, 1)
        settings.setColumnStretch(2, 1)
        self.recommendation = _label("hint")
        self.empty = _label("hint", "No chat model is installed. Download one on the Models page.")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.addWidget(heading)
        layout.addWidget(hint)
        layout.addLayout(slider_row)
        layout.addWidget(self.position)
        layout.addWidget(self.models_list)
        layout.addWidget(card)
        layout.addWidget(self.empty)
        layout.addLayout(settings)
        layout.addWidget(self.recommendation)
        self.card = card

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().hideEvent(event)
        self.hidden.emit()

    def set_benching(self, on: bool, text: str = "", fraction: float | None = None) -> None:
        self.bench_bar.setVisible(on)
        self.bench_label.setVisible(on)
        self.bench_stop.setVisible(on)
        if on:
            self.bench_label.setText(text)
            if fraction is None:
                self.bench_bar.setRange(0, 0)
            else:
                self.bench_bar.setRange(0, 1000)
                self.bench_bar.setValue(int(1000 * fraction))
