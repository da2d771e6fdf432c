"""Settings: how answers are generated, how documents are searched, where the data lives, the theme.

Save writes them with `Settings.save`; the window then applies what can be
applied at once (the theme; a model reload when the context or threads
changed). A new data folder is used from the next start.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDir, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.answer_check import AUTO
from assistant.config import GenerationSettings, Paths, RetrievalSettings, Settings, physical_cores

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
RESTART_NOTE = "Takes effect at the next start. The app does not move your files: copy them there first to keep them."


def _double(low: float, high: float, step: float, decimals: int = 2, tip: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setToolTip(tip)
    return box


def _int(low: int, high: int, step: int = 1, tip: str = "", special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setToolTip(tip)
    if special:
        box.setSpecialValueText(special)  # shown for the minimum, which then means "automatic"
    return box


def choose_data_folder(parent: QWidget, start: str) -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, "Choose the data folder", start or QDir.homePath())
    return folder or None


class SettingsDialog(QDialog):
    saved = Signal(object, object)  # (the Settings now in effect, the Settings before)

    def __init__(self, settings: Settings, paths: Paths, parent: QWidget | None = None,
                 check_models: Callable[[], list[tuple[str, str]]] = list):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.settings = settings
        self.paths = paths
        self.check_models = check_models  # (setting, label) of each choice, asked at each load
        self.error: str | None = None
        self._build()
        self.load(settings)

    def _build(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.addTab(self._generation_tab(), "Answers")
        self.tabs.addTab(self._retrieval_tab(), "Documents")
        self.tabs.addTab(self._general_tab(), "General")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        self.problem = QLabel()
        self.problem.setObjectName("settingsProblem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(560, 520)

    def _generation_tab(self) -> QWidget:
        self.temperature = _double(0, 2, 0.05, tip="Higher: more varied answers; 0: always the likeliest word")
        self.top_p = _double(0, 1, 0.05, tip="Sample only from the likeliest words that make up this share")
        self.top_k = _int(0, 500, tip="Sample only from this many likeliest words (0: no limit)")
        self.min_p = _double(0, 1, 0.01, tip="Drop words less likely than this share of the likeliest")
        self.repeat_penalty = _double(1, 2, 0.05, tip="Above 1: repeating words is discouraged")
        self.max_tokens = _int(16, 32768, 64, tip="The longest answer, in tokens (about ¾ of a word each)")
        self.n_ctx = _int(512, 131072, 512, tip="How much of the conversation the model sees; more needs more memory. "
                                                "Changing it reloads the model.")
        self.threads = _int(0, max(64, physical_cores() * 4), special="Automatic",
                            tip=f"CPU threads for the model (automatic: {physical_cores()}, one per core). "
                                "Changing it reloads the model.")
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setObjectName("systemPromptEdit")
        self.system_prompt.setToolTip("Told to the model before every conversation (not used for document answers)")
        self.system_prompt.setFixedHeight(90)
        form = QFormLayout()
        for label, widget in (("Temperature", self.temperature), ("Top-p", self.top_p), ("Top-k", self.top_k),
                              ("Min-p", self.min_p), ("Repeat penalty", self.repeat_penalty),
                              ("Maximum answer length", self.max_tokens), ("Context size", self.n_ctx),
                              ("Threads", self.threads), ("System prompt", self.system_prompt)):
            form.addRow(label, widget)
        tab = QWidget()
        tab.setLayout(form)
        return tab

    def _retrieval_tab(self) -> QWidget:
        self.k = _int(1, 50, tip="Passages found per question (all are shown in the Sources panel)")
        self.prompt_sources = _int(1, 10, tip="Of those, at most this many are given to the model as numbered sources")
        self.vector_weight = _double(0, 1, 0.05, tip="0: match words only; 1: match meaning only")
        self.min_vector_score = _double(0, 1, 0.01, tip="If no passage is at least this close to the question, "
                                                        "the assistant says it could not find the answer")
        self.check_model = QComboBox()
        self.check_model.setObjectName("checkModelCombo")
        # Its items say what each model needs in memory: the list shows them whole, the box need not.
        self.check_model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.check_model.setMinimumContentsLength(32)
        self.check_model.setToolTip(
            "If the checking model doubts, the assistant says it could not find the answer. Automatic: the "
            "1.5B starter checks a smaller model's answers when it is installed and fits in memory. Measured "
            "with the 1.5B checking the 0.5B: it held back 0.54 of the unanswerable questions against 0.34, "
            "losing 2.4 points of good answers against 3.1; it costs 1.9 GB more memory, a few seconds to "
            "load on the first question, then about 0.1 s per question.")
        form = QFormLayout()
        form.addRow("Passages found", self.k)
        form.addRow("Passages given to the model", self.prompt_sources)
        form.addRow("Meaning vs. keywords", self.vector_weight)
        form.addRow("Confidence threshold", self.min_vector_score)
        form.addRow("Double-check answers with", self.check_model)
        note = QLabel("Before answering, this model is asked whether the passages answer the question. A larger "
                      "model judges that more accurately, but runs beside the answering one in its own memory.")
        note.setObjectName("checkModelNote")
        note.setWordWrap(True)
        form.addRow("", note)
        tab = QWidget()
        tab.setLayout(form)
        return tab

    def _general_tab(self) -> QWidget:
        self.theme = QComboBox()
        self.theme.setObjectName("themeCombo")
        for key, label in THEME_LABELS.items():
            self.theme.addItem(label, key)
        self.data_folder = QLineEdit()
        self.data_folder.setObjectName("dataFolderEdit")
        self.data_folder.setReadOnly(True)
        self.change_folder_button = QPushButton("Change…")
        self.change_folder_button.clicked.connect(self._change_folder)
        self.default_folder_button = QPushButton("Default")
        self.default_folder_button.setToolTip("Use the platform's data folder")
        self.default_folder_button.clicked.connect(lambda: self._set_folder(""))
        row = QHBoxLayout()
        row.addWidget(self.data_folder, 1)
        row.addWidget(self.change_folder_button)
        row.addWidget(self.default_folder_button)
        self.folder_note = QLabel(f"Now: {self.paths.data}")
        self.folder_note.setObjectName("folderNote")
        self.folder_note.setWordWrap(True)
        self.measure_background = QCheckBox("Measure models' speed in the background")
        self.measure_background.setObjectName("measureBackgroundCheck")
        self.measure_background.setToolTip("Models not measured yet are measured once, after the app starts, "
                                           "pausing while you are answered or documents are indexed.")
        form = QFormLayout()
        form.addRow("Theme", self.theme)
        form.addRow("Data folder", row)
        form.addRow("", self.folder_note)
        form.addRow("Speed", self.measure_background)
        tab = QWidget()
        tab.setLayout(form)
        return tab

    # values ------------------------------------------------------------------------------
    def load(self, settings: Settings) -> None:
        g, r = settings.generation, settings.retrieval
        self.temperature.setValue(g.temperature)
        self.top_p.setValue(g.top_p)
        self.top_k.setValue(g.top_k)
        self.min_p.setValue(g.min_p)
        self.repeat_penalty.setValue(g.repeat_penalty)
        self.max_tokens.setValue(g.max_tokens)
        self.n_ctx.setValue(g.n_ctx)
        self.threads.setValue(g.n_threads or 0)
        self.system_prompt.setPlainText(settings.system_prompt)
        self.k.setValue(r.k)
        self.prompt_sources.setValue(r.prompt_sources)
        self.vector_weight.setValue(r.vector_weight)
        self.min_vector_score.setValue(r.min_vector_score)
        self._fill_check_models(r.check_model)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.measure_background.setChecked(settings.measure_in_background)
        self._set_folder(settings.data_folder)

    def values(self) -> Settings:
        """The settings as the dialog shows them (the others, such as the default model, unchanged)."""
        out = copy.deepcopy(self.settings)
        g = out.generation
        g.temperature, g.top_p, g.top_k = self.temperature.value(), self.top_p.value(), self.top_k.value()
        g.min_p, g.repeat_penalty = self.min_p.value(), self.repeat_penalty.value()
        g.max_tokens, g.n_ctx = self.max_tokens.value(), self.n_ctx.value()
        g.n_threads = self.threads.value() or None
        out.system_prompt = self.system_prompt.toPlainText().strip() or Settings.system_prompt
        r = out.retrieval
        r.k, r.prompt_sources = self.k.value(), min(self.prompt_sources.value(), self.k.value())
        r.vector_weight, r.min_vector_score = self.vector_weight.value(), self.min_vector_score.value()
        r.check_model = self.check_model.currentData() or ""
        out.theme = self.theme.currentData()
        out.measure_in_background = self.measure_background.isChecked()
        out.data_folder = self._folder
        return out

    def _fill_check_models(self, chosen: str) -> None:
        self.check_model.clear()
        for name, label in self.check_models() or [(AUTO, "Automatic (recommended)"), ("", "The answering model")]:
            self.check_model.addItem(label, name)
        if chosen and self.check_model.findData(chosen) < 0:  # chosen, then deleted: say so, keep it
            self.check_model.addItem(f"{chosen} (not installed: the answering model checks)", chosen)
        self.check_model.setCurrentIndex(max(0, self.check_model.findData(chosen)))

    def _set_folder(self, folder: str) -> None:
        self._folder = folder
        self.data_folder.setText(folder or "Default")
        changed = (Path(folder) if folder else None) != (Path(self.settings.data_folder)
                                                         if self.settings.data_folder else None)
        self.folder_note.setText(f"Now: {self.paths.data}" + (f"\n{RESTART_NOTE}" if changed else ""))

    @Slot()
    def _change_folder(self) -> None:
        folder = choose_data_folder(self, self._folder or str(self.paths.data))
        if folder:
            self._set_folder(folder)

    @Slot()
    def restore_defaults(self) -> None:
        """Defaults for what the dialog shows; the data folder and theme stay as chosen."""
        defaults = Settings(generation=GenerationSettings(), retrieval=RetrievalSettings(),
                            theme=self.theme.currentData(), data_folder=self._folder)
        self.load(defaults)

    @Slot()
    def save(self) -> None:
        before = copy.deepcopy(self.settings)
        chosen = self.values()
        try:
            chosen.save(self.paths)
        except OSError as exc:
            self.error = f"The settings could not be saved ({exc.strerror or exc})."
            self.problem.setText(self.error)
            self.problem.show()
            return
        # The core holds this Settings object: change it in place so every reader sees the new values.
        for field in ("system_prompt", "theme", "data_folder", "measure_in_background"):
            setattr(self.settings, field, getattr(chosen, field))
        self.settings.generation.__dict__.update(chosen.generation.__dict__)
        self.settings.retrieval.__dict__.update(chosen.retrieval.__dict__)
        self.saved.emit(self.settings, before)
        self.accept()
