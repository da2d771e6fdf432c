"""The main window: conversations on the left, the chat in the middle, the model in the toolbar.

All engine work (loading, answering, repairing) goes through one EngineTasks
worker thread, so it is serialised; the window only reacts to its results.
"""

from __future__ import annotations

import logging
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from assistant.chat import Started, ask
from assistant.core import Core
from assistant.errors import ModelUnavailable, UserFacingError
from assistant.llm.protocol import Notice
from assistant.store.conversations import Message
from assistant.ui.banner import ProblemBanner
from assistant.ui.chat_view import ChatView, InputBar
from assistant.ui.conversation_list import ConversationList
from assistant.ui.formatting import answer_meta, status_for_loaded
from assistant.ui.model_picker import ModelPicker
from assistant.ui.style import STYLE
from assistant.ui.workers import AnswerJob, EngineTasks, repair_job

log = logging.getLogger("assistant.ui")

FLUSH_MS = 50  # how often streamed text reaches the screen
SOMETHING_WRONG = "Something went wrong. The app is still running; the details are in the log ({log})."


class MainWindow(QMainWindow):
    model_loading = Signal(str)  # a model started loading in the background (its name)
    model_ready = Signal(str)  # a model finished loading (its name)
    model_failed = Signal(str)  # a model could not be loaded (the sentence shown)
    answer_started = Signal(int)  # the conversation the answer belongs to
    answer_finished = Signal(object)  # the stored Message: complete | stopped | error
    answer_failed = Signal(str)  # the answer could not even start (the sentence shown)
    repair_finished = Signal(bool)
    problem_shown = Signal(str)

    def __init__(self, core: Core, *, owns_core: bool = False, parent: QWidget | None = None):
        """`owns_core`: close the core (and the engine it owns) when the window closes."""
        super().__init__(parent)
        self.core = core
        self.owns_core = owns_core
        self.tasks = EngineTasks(self)
        self._job: AnswerJob | None = None
        self._question = ""
        self._question_stored = False
        self._loading: str | None = None
        self._repairing = False
        self._wanted_model: str | None = core.settings.default_model
        self._conversation_id: int | None = None
        self._display_names: dict[str, str] = {}
        self._started = False
        self._closed = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush_tokens)
        self._build()
        self._refresh_models()
        self._refresh_conversations()
        self._update_controls()

    # layout -----------------------------------------------------------------------
    def _build(self) -> None:
        self.setWindowTitle("Assistant")
        self.resize(1100, 720)
        self.setStyleSheet(STYLE)

        toolbar = QToolBar("Model")
        toolbar.setObjectName("modelToolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(QLabel(" Model: "))
        self.model_picker = ModelPicker()
        self.model_picker.model_chosen.connect(self._on_model_chosen)
        toolbar.addWidget(self.model_picker)
        self.addToolBar(toolbar)

        self.conversation_list = ConversationList()
        self.conversation_list.setMinimumWidth(180)
        self.conversation_list.conversation_selected.connect(self.open_conversation)
        self.conversation_list.new_chat_requested.connect(self.new_chat)

        self.banner = ProblemBanner()
        self.chat_view = ChatView()
        input_bar = InputBar()
        self.input, self.send_button, self.stop_button = input_bar.edit, input_bar.send_button, input_bar.stop_button
        self.input.submitted.connect(self.send)
        self.input.textChanged.connect(self._update_controls)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 8, 8, 8)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.chat_view, 1)
        right_layout.addWidget(input_bar)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.conversation_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 850])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.status_label = QElidingLabel("Starting…")
        self.status_label.setObjectName("statusLabel")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedWidth(120)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.offline_label = QLabel("Offline")
        self.offline_label.setObjectName("offlineLabel")
        self.offline_label.setToolTip("Nothing you type leaves this computer.")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.statusBar().addPermanentWidget(self.offline_label)

        new_action = QAction("New chat", self)
        new_action.setShortcut(QKeySequence.StandardKey.New)
        new_action.triggered.connect(self.new_chat)
        stop_action = QAction("Stop", self)
        stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        stop_action.triggered.connect(self.stop)
        self.addActions([new_action, stop_action])
        self.input.setFocus()

    # state --------------------------------------------------------------------------
    @property
    def generating(self) -> bool:
        return self._job is not None

    @property
    def conversation_id(self) -> int | None:
        """The conversation shown (None: a new chat, created by its first question)."""
        return self._conversation_id

    def model_usable(self) -> bool:
        return self._loading is None and self.core.model is not None and self.core.engine.loaded is not None

    @Slot()
    def _update_controls(self) -> None:
        busy = self.generating or self._loading is not None or self._repairing
        has_text = bool(self.input.toPlainText().strip())
        self.send_button.setEnabled(not busy and has_text and self.model_usable())
        self.stop_button.setEnabled(self.generating and not self._job.stop_requested)
        self.model_picker.setEnabled(not busy and bool(self.model_picker.names()))
        self.conversation_list.setEnabled(not self.generating)

    def _set_status(self, text: str, busy: bool = False) -> None:
        self.status_label.setText(text)
        self.busy_bar.setVisible(busy)

    def show_problem(self, text: str, *, kind: str = "general", action: str | None = None,
                     on_action=None) -> None:
        self.banner.show_problem(text, action, on_action, kind=kind)
        self.problem_shown.emit(text)

    def _dismiss_problem(self, kind: str) -> None:
        if self.banner.kind == kind:
            self.banner.dismiss()

    def describe_error(self, exc: BaseException) -> str:
        """A UserFacingError's own sentence; anything else is a bug: logged, and said plainly."""
        if isinstance(exc, UserFacingError):
            return str(exc)
        log.error("unexpected error", exc_info=exc)
        return SOMETHING_WRONG.format(log=self.core.paths.logs / "assistant.log")

    def report_exception(self, exc: BaseException) -> None:
        """For the app's excepthook: show what escaped, keep running."""
        self.show_problem(self.describe_error(exc), kind="bug")

    # models -------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._started:
            self._started = True
            # After the first paint: the window is up before the model is read.
            QTimer.singleShot(0, self, self._load_default_model)

    @Slot()
    def _load_default_model(self) -> None:
        self.load_model(self.core.settings.default_model)

    def _refresh_models(self) -> None:
        models = self.core.registry.all("chat")
        self._display_names = {m.name: m.display_name for m in models}
        self.model_picker.set_models(models, self._loading or self._wanted_model)

    def _display(self, name: str | None) -> str:
        if not name:
            return "no model"
        return self._display_names.get(name, name)

    @Slot(str)
    def _on_model_chosen(self, name: str) -> None:
        if name != self._loading:
            self.load_model(name, remember=True)

    def load_model(self, name: str, *, remember: bool = False) -> None:
        """Load `name` in the background; model_ready or model_failed follows."""
        if self._closed:
            return
        self._loading = self._wanted_model = name
        self._dismiss_problem("model")
        self.model_picker.set_current(name)
        self._set_status(f"Loading {self._display(name)}…", busy=True)
        self._update_controls()
        self.model_loading.emit(name)
        self.tasks.run(partial(self.core.load_model, name), partial(self._on_model_loaded, name, remember),
                       partial(self._on_model_failed, name))

    def _on_model_loaded(self, name: str, remember: bool, loaded) -> None:
        self._loading = None
        model = self.core.model
        log.info("model %s ready (loaded in %.2fs)", model.name, loaded.load_s)
        self._set_status(status_for_loaded(model, loaded.load_s))
        if remember and self.core.settings.default_model != model.name:
            self.core.settings.default_model = model.name  # the next start opens with it
            try:
                self.core.settings.save(self.core.paths)
            except OSError as exc:
                log.warning("could not save the chosen model as default: %s", exc)
        self._update_controls()
        self.model_ready.emit(model.name)

    def _on_model_failed(self, name: str, exc: BaseException) -> None:
        self._loading = None
        message = self.describe_error(exc)
        log.warning("model %s could not be loaded: %s", name, message)
        current = self.core.model if self.model_usable() else None
        self.model_picker.set_current(current.name if current else name)
        self._set_status(f"{status_for_loaded(current)}  ·  {self._display(name)} could not be loaded")
        if isinstance(exc, ModelUnavailable):
            self.show_problem(message, kind="model", action="Repair", on_action=self.repair_models)
        else:
            self.show_problem(message, kind="model", action="Try again", on_action=partial(self.load_model, name))
        self._update_controls()
        self.model_failed.emit(message)

    def repair_models(self) -> None:
        """Rebuild the starter models (assistant setup --repair) in the background, then load again."""
        if self._closed or self._repairing:
            return
        self._repairing = True
        wanted = self._wanted_model or self.core.settings.default_model
        self._set_status("Repairing models…", busy=True)
        self._update_controls()
        job = repair_job(self.core, self.tasks, report=partial(self._set_status, busy=True))
        self.tasks.run(job, partial(self._on_repaired, wanted), self._on_repair_failed)

    def _on_repaired(self, wanted: str, _installed) -> None:
        self._repairing = False
        self._dismiss_problem("model")
        self._refresh_models()
        self.repair_finished.emit(True)
        self.load_model(wanted)

    def _on_repair_failed(self, exc: BaseException) -> None:
        self._repairing = False
        self._refresh_models()
        self._set_status(status_for_loaded(self.core.model if self.model_usable() else None))
        self.show_problem(self.describe_error(exc), kind="model", action="Repair", on_action=self.repair_models)
        self._update_controls()
        self.repair_finished.emit(False)

    # conversations ----------------------------------------------------------------
    def _refresh_conversations(self) -> None:
        self.conversation_list.set_conversations(self.core.conversations.list(), self._conversation_id)

    @Slot()
    def new_chat(self) -> None:
        if self.generating:
            return
        self._conversation_id = None
        self.chat_view.clear()
        self.conversation_list.select(None)
        self.input.setFocus()

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        if self.generating:
            self.conversation_list.select(self._conversation_id)
            return
        self._conversation_id = conversation_id
        self._show_conversation()
        self.input.setFocus()

    def _show_conversation(self) -> None:
        if self._conversation_id is not None and self.core.conversations.get(self._conversation_id) is None:
            self._conversation_id = None  # deleted elsewhere (e.g. from the CLI)
            self._refresh_conversations()
        if self._conversation_id is None:
            self.chat_view.clear()
            return
        self.chat_view.show_messages(self.core.conversations.messages(self._conversation_id), self._meta)

    def _meta(self, message: Message) -> str:
        return answer_meta(message, self._display(message.model))

    # answering ----------------------------------------------------------------------
    @Slot()
    def send(self) -> None:
        text = self.input.toPlainText().strip()
        if not self.send_button.isEnabled() or not text:
            return
        self._dismiss_problem("answer")
        self._question, self._question_stored = text, False
        self.input.clear()
        self.chat_view.add_user(text)
        self.chat_view.begin_answer()
        core, conversation_id, tasks = self.core, self._conversation_id, self.tasks
        self._job = AnswerJob(stream=lambda: ask(core, text, conversation_id), cancel=core.engine.cancel,
                              post_event=lambda event: tasks.post(partial(self._on_stream_event, event)))
        self._flush_timer.start()
        self._update_controls()
        self._set_status(f"{self._display(core.model.name)} is writing…", busy=True)
        tasks.run(self._job.run, self._on_answer_done, self._on_answer_failed)

    @Slot()
    def stop(self) -> None:
        if self._job is None or self._job.stop_requested:
            return
        self._job.stop()
        self._set_status("Stopping…", busy=True)
        self._update_controls()

    def _on_stream_event(self, event) -> None:
        if isinstance(event, Started):
            self._question_stored = True
            if event.conversation_id != self._conversation_id:
                self._conversation_id = event.conversation_id
                self._refresh_conversations()
            self.answer_started.emit(event.conversation_id)
        elif isinstance(event, Notice):
            self.chat_view.add_note(event.message)

    @Slot()
    def _flush_tokens(self) -> None:
        if self._job is not None:
            self.chat_view.append_to_answer(self._job.take_text())

    def _end_stream(self) -> None:
        self._flush_tokens()
        self._flush_timer.stop()
        self._job = None

    def _on_answer_done(self, finished) -> None:
        self._end_stream()
        if finished is None:  # cannot happen with chat.ask; treat it as a failure, not a crash
            self._on_answer_failed(RuntimeError("the answer stream ended without a result"))
            return
        message: Message = finished.message
        self.chat_view.finish_answer(message, self._meta(message))
        self._refresh_conversations()
        usable = self.model_usable()
        self._set_status(status_for_loaded(self.core.model if usable else None))
        if message.status == "error" and not usable:  # the engine crashed and lost the model
            name = self._wanted_model or self.core.settings.default_model
            self.show_problem(message.error or "The model stopped.", kind="model", action="Load again",
                              on_action=partial(self.load_model, name))
        self._update_controls()
        self.input.setFocus()
        self.answer_finished.emit(message)

    def _on_answer_failed(self, exc: BaseException) -> None:
        self._end_stream()
        message = self.describe_error(exc)
        self._show_conversation()  # what the store holds is the truth
        if not self._question_stored and not self.input.toPlainText().strip():
            self.input.setPlainText(self._question)  # nothing was saved: keep the question
        self._set_status(status_for_loaded(self.core.model if self.model_usable() else None))
        self.show_problem(message, kind="answer")
        self._update_controls()
        self.answer_failed.emit(message)

    # closing ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the answer, end the worker thread, close the core if this window owns it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._flush_timer.stop()
        if self._job is not None:
            self._job.stop()
        self.tasks.shutdown()  # waits for the running job (a stopped answer ends within ~0.3 s)
        self._job = None
        if self.owns_core:
            self.core.close()
