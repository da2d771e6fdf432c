"""The main window: a navigation column (Chat, Documents, Models), the pages, the Sources dock,
the model in the toolbar and a status bar.

All engine work (loading, answering with or without documents, repairing) goes
through one EngineTasks worker thread, so it is serialised; the window only
reacts to its results. Answers are in answering.py, conversations in
window_conversations.py, models in window_models.py.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from assistant.answer_check import check_model_choices
from assistant.core import Core
from assistant.errors import UserFacingError
from assistant.models.catalog import load_catalog
from assistant.ui.answering import Answering
from assistant.ui.banner import ProblemBanner
from assistant.ui.chat_view import ChatView
from assistant.ui.collection_picker import CollectionPicker
from assistant.ui.conversation_list import ConversationList
from assistant.ui.documents_page import DocumentsPage
from assistant.ui.input_bar import InputBar
from assistant.ui.nav_bar import PAGES, NavBar
from assistant.ui.settings_dialog import SettingsDialog
from assistant.ui.side_panels import SidePanels
from assistant.ui.sources_panel import SourcesPanel
from assistant.ui.status_bar import AppStatusBar
from assistant.ui.style import apply_theme, restyle_tree, window_style
from assistant.ui.window_conversations import ConversationHandling
from assistant.ui.window_models import ModelLoading
from assistant.ui.window_state import PREFERRED_SIZE, WindowState, fit_to_screen
from assistant.ui.workers import EngineTasks

log = logging.getLogger("assistant.ui")

FLUSH_MS = 50  # how often streamed text reaches the screen
SOMETHING_WRONG = "Something went wrong. The app is still running; the details are in the log ({log})."
class MainWindow(Answering, ConversationHandling, ModelLoading, QMainWindow):
    model_loading = Signal(str)  # a model started loading in the background (its name)
    model_ready = Signal(str)  # a model finished loading (its name)
    model_failed = Signal(str)  # a model could not be loaded (the sentence shown)
    answer_started = Signal(int)  # the conversation the answer belongs to
    answer_finished = Signal(object)  # the stored Message: complete | stopped | error
    answer_failed = Signal(str)  # the answer could not even start (the sentence shown)
    repair_finished = Signal(bool)
    problem_shown = Signal(str)
    page_changed = Signal(str)
    settings_saved = Signal(object)  # the Settings now in effect

    def __init__(self, core: Core, *, owns_core: bool = False, parent: QWidget | None = None):
        """`owns_core`: close the core (and the engine it owns) when the window closes."""
        super().__init__(parent)
        self.core = core
        self.owns_core = owns_core
        self.tasks = EngineTasks(self)
        self._job = None
        self._question, self._question_stored, self._replaces = "", False, None
        self._question_from_box = True  # the question was the box's text (not a Regenerate)
        self._view = 0  # counts the conversations shown, so a new chat's answer knows if it is still in view
        self._answer_cid: int | None = None  # the conversation the running answer is written into
        self._answer_ids: tuple[int, int] | None = None  # its stored (question, answer) ids, once stored
        self._answer_view = 0
        self._live_text = ""  # the running answer's text so far
        self._answer_floor = 0  # the newest message id when it started (see Answering.live_cut)
        self._answer_collections: list[str] = []
        self._pending_edits: dict[int, tuple[int, str]] = {}  # failed edits of conversations not shown
        self._question_bubble = None
        self._editing: int | None = None  # the question being edited (Send replaces it)
        self._drafts: dict[int | None, str] = {}  # unsent text of the conversations not open (None: a new chat)
        self._kb = None  # the KnowledgeBase, made on the engine thread at the first document answer
        self._kb_ready = False
        self._loading: str | None = None
        self._repairing = False
        self._wanted_model: str | None = core.settings.default_model
        self._conversation_id: int | None = None
        # Models by id -> the name shown. The catalog's names first: an answer of a model deleted
        # before this start is still named as the user knew it.
        self._display_names: dict[str, str] = {e.name: e.display_name for e in load_catalog()}
        self._started = False
        self._closed = False
        self.settings_dialog: SettingsDialog | None = None
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush_tokens)
        self._build()
        self.apply_theme()
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_scheme)
        self._refresh_models()
        self._refresh_conversations()
        self._show_model_in_status()
        self._restore_layout()
        self._update_controls()

    # layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.setWindowTitle("Assistant")
        self._build_toolbar()
        self._build_chat_page()
        self._build_pages()
        self._build_sources_dock()
        self.side_panels = SidePanels(self, nav=self.nav, splitter=self.chat_splitter,
                                      conversation_list=self.conversation_list, chat_column=self.chat_column,
                                      dock=self.sources_dock, on_chat_page=lambda: self.current_page() == "chat")
        # A click on [n] asks for its source: the panel opens if it was closed or waiting for room.
        self.chat_view.citation_clicked.connect(
            lambda _message_id, _n: self.sources_dock.isVisible() or self.side_panels.ask())
        self.status_bar = AppStatusBar(engine_pid=lambda: self.core.engine.pid)
        self.setStatusBar(self.status_bar)
        self.documents_page.indexing_active.connect(self.status_bar.set_indexing)
        self.documents_page.indexing_status.connect(self.status_bar.set_indexing_text)
        self.models_page.download_status.connect(self.status_bar.set_download_text)
        self.model_ready.connect(lambda _name: self.status_bar.refresh_memory())
        self._wire_background_work()
        self._build_actions()
        self.input.setFocus()

    def _build_chat_page(self) -> None:
        self.conversation_list = ConversationList(self.core.conversations, model_names=lambda: self._display_names)
        self.conversation_list.conversation_selected.connect(self.open_conversation)
        self.conversation_list.new_chat_requested.connect(self.new_chat)
        self.conversation_list.conversation_deleted.connect(self._on_conversation_deleted)
        self.conversation_list.conversation_exported.connect(
            lambda _cid, path: self._set_status(f"Exported to {path}"))
        self.conversation_list.problem.connect(lambda text: self.show_problem(text, kind="export"))

        self.banner = ProblemBanner()
        self.chat_view = ChatView()
        self.chat_view.edit_requested.connect(self.begin_edit)
        self.chat_view.regenerate_requested.connect(self.regenerate)
        self.chat_view.copied.connect(lambda _id: self._set_status("Answer copied"))
        self.collection_picker = CollectionPicker(self.core)
        self.input_bar = InputBar(above=self.collection_picker)
        bar = self.input_bar
        self.input, self.send_button, self.stop_button = bar.edit, bar.send_button, bar.stop_button
        self.input.submitted.connect(self.send)
        self.input.textChanged.connect(self._update_controls)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        bar.cancel_edit_requested.connect(self.cancel_edit)

        self.chat_column = chat_column = QWidget()
        column = QVBoxLayout(chat_column)
        column.setContentsMargins(8, 8, 8, 8)
        column.addWidget(self.banner)
        column.addWidget(self.chat_view, 1)
        column.addWidget(bar)
        self.chat_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.chat_splitter.setObjectName("chatSplitter")
        self.chat_splitter.addWidget(self.conversation_list)
        self.chat_splitter.addWidget(chat_column)
        self.chat_splitter.setStretchFactor(1, 1)
        self.chat_splitter.setSizes([200, 800])  # the chat has the room; the list's titles are short
        self.chat_splitter.setChildrenCollapsible(False)  # too narrow, the list hides (side_panels.py)

    def _build_pages(self) -> None:
        self.documents_page = DocumentsPage(self.core, parent=None)
        self.documents_page.collections_changed.connect(self.collection_picker.refresh)
        self.documents_page.collection_renamed.connect(self.collection_picker.rename_collection)
        self.collection_picker.selection_changed.connect(self._prepare_documents)
        # documents chosen: a note that the conversation's collection is gone has been acted on
        self.collection_picker.selection_changed.connect(lambda _names: self._dismiss_problem("collections"))
        self.collection_picker.manage_requested.connect(lambda: self.show_page("documents"))

        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self._page_widgets = {"chat": self.chat_splitter, "documents": self.documents_page,
                              "models": self.models_page}
        for widget in self._page_widgets.values():
            self.pages.addWidget(widget)
        self._set_page("chat")
        self.nav = NavBar()
        self.nav.page_chosen.connect(self.show_page)
        self.nav.set_current("chat")
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.pages, 1)
        self.setCentralWidget(central)

    def _build_sources_dock(self) -> None:
        self.sources_panel = SourcesPanel()
        self.sources_dock = QDockWidget("Sources", self)
        self.sources_dock.setObjectName("sourcesDock")
        self.sources_dock.setWidget(self.sources_panel)
        # The panel has its own title; the toolbar's Sources button shows and hides it.
        self.sources_dock.setTitleBarWidget(QWidget())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.sources_dock)
        self.resizeDocks([self.sources_dock], [440], Qt.Orientation.Horizontal)
        self.sources_panel.follow(self.chat_view, self.core.conversations.message)
        self.sources_toggle = self.sources_dock.toggleViewAction()
        self.sources_toggle.setText("Sources")
        self.sources_toggle.setToolTip("Show or hide the passages behind the chosen answer")
        self.toolbar.addAction(self.sources_toggle)
        self.toolbar.addAction(self.settings_action)

    def _build_toolbar(self) -> None:
        self.toolbar = QToolBar("Main")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self._build_models()
        self.toolbar.addWidget(self.model_selector)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.open_settings)
        self.addToolBar(self.toolbar)

    def _build_actions(self) -> None:
        actions = [("New chat", QKeySequence.StandardKey.New, self.new_chat),
                   ("Stop", QKeySequence(Qt.Key.Key_Escape), self.stop)]
        for number, (key, _label, _tip) in enumerate(PAGES, start=1):
            # triggered(checked) passes its flag first: a lambda taking only k got False for it
            actions.append((f"Show {key}", QKeySequence(f"Ctrl+{number}"),
                            lambda _checked=False, k=key: self.show_page(k)))
        for text, shortcut, slot in actions:
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            self.addAction(action)
        self.addAction(self.settings_action)

    # pages --------------------------------------------------------------------------------
    @Slot(str)
    def show_page(self, key: str) -> None:
        if key not in self._page_widgets or self.current_page() == key:
            return
        self._set_page(key)
        self.nav.set_current(key)
        # The Sources panel explains answers: it belongs beside the chat only.
        self.side_panels.arrange()
        self.sources_toggle.setEnabled(key == "chat")
        if key == "chat":
            self.input.setFocus()
        self.page_changed.emit(key)

    def _set_page(self, key: str) -> None:
        # A stack is as wide as its widest page; only the shown page's minimum size should count,
        # or the documents page would keep the chat (and its dock) from fitting a small screen.
        for name, widget in self._page_widgets.items():
            policy = QSizePolicy.Policy.Preferred if name == key else QSizePolicy.Policy.Ignored
            widget.setSizePolicy(policy, policy)
        self.pages.setCurrentWidget(self._page_widgets[key])

    def current_page(self) -> str:
        widget = self.pages.currentWidget()
        return next(k for k, w in self._page_widgets.items() if w is widget)

    # state --------------------------------------------------------------------------------
    @property
    def generating(self) -> bool:
        return self._job is not None

    @property
    def conversation_id(self) -> int | None:
        """The conversation shown (None: a new chat, created by its first question)."""
        return self._conversation_id

    @property
    def editing(self) -> int | None:
        """The id of the earlier question being edited, if one is."""
        return self._editing

    # The status bar's parts, by the names the window has always had.
    status_label = property(lambda self: self.status_bar.status_label)
    busy_bar = property(lambda self: self.status_bar.busy_bar)
    offline_label = property(lambda self: self.status_bar.offline_label)

    @Slot()
    def _update_controls(self) -> None:
        busy = self.generating or self._loading is not None or self._repairing
        has_text = bool(self.input.toPlainText().strip())
        self.send_button.setEnabled(not busy and has_text and self.model_usable())
        self.stop_button.setEnabled(self.answer_shown() and not self._job.stop_requested)
        self.model_selector.setEnabled(not busy and bool(self.model_selector.names()))
        self.settings_action.setEnabled(not self.generating)

    def _set_status(self, text: str, busy: bool = False) -> None:
        self.status_bar.set_status(text, busy)

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

    # settings and theme -----------------------------------------------------------------
    @Slot()
    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(
                self.core.settings, self.core.paths, self,
                check_models=lambda: check_model_choices(self.core))
            self.settings_dialog.saved.connect(self._on_settings_saved)
        self.settings_dialog.load(self.core.settings)
        self.settings_dialog.open()
        return self.settings_dialog

    def _on_settings_saved(self, settings, before) -> None:
        self.apply_theme()
        self.reload_if_needed(before.generation.load_key())
        self._set_status("Settings saved")
        self.settings_saved.emit(settings)

    @Slot()
    def _on_system_scheme(self) -> None:
        if self.core.settings.theme == "system" and not self._closed:
            self.apply_theme()

    def apply_theme(self) -> None:
        dark = apply_theme(QApplication.instance(), self.core.settings.theme)
        self.setStyleSheet(window_style(dark))
        restyle_tree()  # the pages, and popups or dialogs that live outside the window

    # layout across restarts -------------------------------------------------------------
    def _restore_layout(self) -> None:
        self.window_state = WindowState(self.core.paths.config)
        if self.window_state.restore(self, {"chat": self.chat_splitter}):
            panels, value = self.side_panels, self.window_state.value
            panels.wanted = value("sources/visible", "true") in (True, "true")
            panels.over_list = value("sources/over_list", "false") in (True, "true")
        else:
            fit_to_screen(self, PREFERRED_SIZE, self.side_panels.full_width())
        self.side_panels.arrange()
        # The conversation open at the last close, with what was typed and not sent.
        self.restore_drafts(self.window_state.value("conversation/drafts"))
        self.input.setPlainText(self._drafts.pop(None, ""))  # a new chat's, until the last conversation opens
        last = str(self.window_state.value("conversation/last", "") or "")
        if last.isascii() and last.isdigit() and self.core.conversations.get(int(last)) is not None:
            self.open_conversation(int(last))
            self.conversation_list.select(int(last))

    def save_layout(self) -> None:
        self.window_state.save(self, {"chat": self.chat_splitter}, **{
            "sources/visible": self.side_panels.wanted, "sources/over_list": self.side_panels.over_list,
            "conversation/last": self._conversation_id or "",
            "conversation/drafts": self.drafts_to_save()})

    # closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the answer, indexing and the worker threads; close the core if this window owns it.
        Idempotent. The window goes away first, so waiting for a thread never looks like a hang."""
        if self._closed:
            return
        self._closed = True
        self.save_layout()
        self.hide()
        self._flush_timer.stop()
        if self._job is not None:
            self._job.stop()
        self.documents_page.shutdown(timeout=10.0)
        self._shutdown_models()
        if self._loading is not None:  # a load cannot be interrupted inside llama.cpp: end its process
            self.core.engine.stop_loading()
        self.tasks.shutdown()  # waits for the running job (a stopped answer ends within ~0.3 s)
        self._job = None
        self.sources_panel.shutdown()
        self.status_bar.shutdown()
        QGuiApplication.styleHints().colorSchemeChanged.disconnect(self._on_system_scheme)
        if self.owns_core:
            self.core.close()
