"""The main window's answers: send (with or without documents), stop, regenerate, edit and resend.

A mixin of MainWindow. Every answer runs as one AnswerJob on the window's
EngineTasks thread, including the document search: the embedder's first use
imports torch (seconds), which must never happen on the UI thread, and the
search only reads `core.db`, which that thread already shares with the UI.
"""

from __future__ import annotations

import logging
from functools import partial

from PySide6.QtCore import Slot

from assistant.answer import Retrieved, ask_documents
from assistant.answer_check import checker_for
from assistant.chat import Restarted, Started, ask, edit_and_resend, last_question
from assistant.llm.protocol import Notice
from assistant.store.conversations import Message
from assistant.ui.collection_picker import gone_sentence
from assistant.ui.formatting import status_for_loaded
from assistant.ui.workers import AnswerJob

log = logging.getLogger("assistant.ui")


class Answering:
    # the knowledge base: made and used on the engine thread only ---------------------------
    def _knowledge_base(self):
        if self._kb is None:
            from assistant.knowledge.base import KnowledgeBase

            self._kb = KnowledgeBase(self.core)
        return self._kb

    def _documents_answer(self, collections: list[str]):
        """An `ask`-shaped function that answers from `collections` (a generator: it runs on the engine thread)."""
        def answer(core, text, conversation_id=None, settings=None, stop=None, replaces=None):
            yield from ask_documents(core, self._knowledge_base(), text, collections, conversation_id, settings,
                                     stop=stop, replaces=replaces)
        return answer

    @Slot(list)
    def _prepare_documents(self, collections: list[str]) -> None:
        """Load the embedder and vectors, and the model that checks answers, in the background as
        soon as documents are chosen, so the first question does not wait for them (the 1.5B
        checking by default takes seconds to load)."""
        if not collections or self._kb_ready or self._closed:
            return
        self._kb_ready = True

        def warm():
            self._knowledge_base().search("warm up", collections, k=1)
            if self.core.model is not None:
                checker_for(self.core, self.core.settings.retrieval)

        def failed(exc: BaseException) -> None:
            self._kb_ready = False
            log.warning("could not prepare the document search: %s", exc)

        self.tasks.run(warm, lambda _result: log.info("document search ready"), failed)

    # starting -------------------------------------------------------------------------------
    @Slot()
    def send(self) -> None:
        text = self.input.toPlainText().strip()
        if not self.send_button.isEnabled() or not text:
            return
        editing = self._editing
        if editing is not None:
            self.chat_view.truncate_from(editing)
        self._start_answer(text, self.collection_picker.selected(), replaces=editing)

    @Slot()
    def regenerate(self, _answer_id: int | None = None) -> None:
        """Ask the conversation's last question again; the new answer replaces the last one. It draws on
        the same collections as the answer it replaces (those that still exist)."""
        if self._conversation_id is None or not self.model_usable() or self.generating or self._loading:
            return
        question = last_question(self.core, self._conversation_id)
        if question is None:
            return
        answers = [m for m in self.core.conversations.messages(self._conversation_id)
                   if m.role == "assistant" and m.id > question.id]
        used = ((answers[-1].details or {}).get("collections") or []) if answers else []
        collections = self.collection_picker.known(used)[0]
        if used and not collections:  # all gone: the ones chosen since, never the model alone unasked
            collections = self.collection_picker.selected()
            if not collections:
                self.show_problem(gone_sentence(used, "choose documents below the chat and ask again."),
                                  kind="collections")
                return
        self.cancel_edit()
        self.chat_view.truncate_from(question.id)
        self._start_answer(question.content, collections, replaces=question.id, resample=True, from_box=False)

    def begin_edit(self, message_id: int, text: str) -> None:
        """Put an earlier question in the box; Send then asks it again in its place. What the box
        held is kept and comes back if the edit is left."""
        if self.generating:
            return
        if self._editing is None:
            self._keep_draft()
        self._editing = message_id
        self.input.setPlainText(text)
        self.input_bar.set_editing(True)
        self.input.setFocus()
        self._update_controls()

    @Slot()
    def cancel_edit(self) -> None:
        if self._editing is None:
            return
        self._editing = None
        self.input.setPlainText(self._drafts.pop(self._conversation_id, ""))  # what was typed before the edit
        self.input_bar.set_editing(False)
        self._update_controls()

    def _start_answer(self, text: str, collections: list[str], replaces: int | None = None,
                      resample: bool = False, from_box: bool = True) -> None:
        """`resample`: a Regenerate, which wants another answer, so a document answer samples at the
        chat's temperature instead of picking the most likely words again. `from_box`: the question
        is the box's text (sent), so the box is emptied; a Regenerate leaves what is typed there."""
        self._dismiss_problem("answer")
        self._question, self._question_stored, self._replaces = text, False, replaces
        self._question_from_box = from_box
        # Whose answer this is: the conversation shown now (None: a new chat, until it is stored).
        self._answer_cid, self._answer_ids, self._answer_view, self._live_text = \
            self._conversation_id, None, self._view, ""
        # What the answer stores comes after this id: drawn from the stream until it ends, even in the
        # moment the worker has stored the question and the window has not heard of it yet.
        self._answer_floor = self.core.conversations.last_message_id()
        self._answer_collections = list(collections)
        self.conversation_list.busy_id = self._conversation_id
        edited, self._editing = self._editing is not None, None
        self.input_bar.set_editing(False)
        if from_box:  # an edit sent: what was typed before it comes back
            self.input.setPlainText(self._drafts.pop(self._conversation_id, "") if edited else "")
        self._question_bubble = self.chat_view.add_user(text)
        self.chat_view.begin_answer()
        self.chat_view.set_busy(True)
        core, conversation_id, tasks = self.core, self._conversation_id, self.tasks
        answer = self._documents_answer(collections) if collections else ask
        if replaces is not None:
            def stream(stop):
                return edit_and_resend(core, replaces, text, core.settings.generation if resample else None,
                                       answer=answer, stop=stop)
        else:
            def stream(stop):
                return answer(core, text, conversation_id, None, stop=stop)
        self._job = AnswerJob(stream=stream, cancel=core.engine.cancel,
                              post_event=lambda event: tasks.post(partial(self._on_stream_event, event)))
        self._flush_timer.start()
        self._update_controls()
        where = ", ".join(collections)
        self._set_status(f"Searching {where}…" if collections else f"{self._display(core.model.name)} is writing…",
                         busy=True)
        tasks.run(self._job.run, self._on_answer_done, self._on_answer_failed)

    @Slot()
    def stop(self) -> None:
        """Esc: stops the answer shown; with none, leaves an edit of an earlier question. An answer
        being written into a conversation not shown is stopped from its own conversation, not here."""
        if self._job is None or not self.answer_shown():
            self.cancel_edit()
            return
        if self._job.stop_requested:
            return
        self._job.stop()
        self._set_status("Stopping…", busy=True)
        self._update_controls()

    # while it streams ------------------------------------------------------------------------
    def answer_shown(self) -> bool:
        """Whether an answer is being written into the conversation shown. The user may look at
        other conversations meanwhile; the answer goes on into its own."""
        if self._job is None:
            return False
        if self._answer_cid is None:  # a new chat's, not stored yet: shown until the user looks elsewhere
            return self._view == self._answer_view
        return self._conversation_id == self._answer_cid

    def live_cut(self) -> int:
        """Stored messages from this id on are the running answer's question and answer (or the ones
        it replaces): shown from the stream instead."""
        return self._replaces if self._replaces is not None else self._answer_floor + 1

    def _redraw_live(self) -> None:
        """Back in the conversation being answered: its question and the answer so far."""
        self._question_bubble = self.chat_view.add_user(self._question)
        if self._answer_ids and self._answer_ids[0] > 0:
            self.chat_view.set_question_id(self._question_bubble, self._answer_ids[0])
        self.chat_view.begin_answer()
        self.chat_view.append_to_answer(self._live_text)

    def _on_stream_event(self, event) -> None:
        if isinstance(event, Started):
            shown = self.answer_shown()  # a new chat's is told by the view, before it has an id
            self._question_stored = True
            self._answer_cid = self.conversation_list.busy_id = event.conversation_id
            self._answer_ids = (event.user_message_id, event.assistant_message_id)
            if shown:
                if event.user_message_id > 0:
                    self.chat_view.set_question_id(self._question_bubble, event.user_message_id)
                self._conversation_id = event.conversation_id
            self._refresh_conversations()
            self.answer_started.emit(event.conversation_id)
        elif isinstance(event, Retrieved):
            found = len(event.results)
            self._set_status(f"Found {found} passage{'s' if found != 1 else ''} in {event.retrieval_ms:.0f} ms; "
                             f"{self._display(self.core.model.name)} is writing…", busy=True)
        elif isinstance(event, (Notice, Restarted)) and self.answer_shown():
            self.chat_view.add_note(event.message if isinstance(event, Notice) else event.reason)

    @Slot()
    def _flush_tokens(self) -> None:
        if self._job is not None:
            restarted, text = self._job.take_text()
            self._live_text = text if restarted else self._live_text + text  # drawn again on coming back
            if self.answer_shown():
                self.chat_view.append_to_answer(text, replace=restarted)

    def _end_stream(self) -> None:
        self._flush_tokens()
        self._flush_timer.stop()
        self._job = None
        self.conversation_list.busy_id = None
        self.chat_view.set_busy(False)

    # how it ended ------------------------------------------------------------------------------
    def _on_answer_done(self, finished) -> None:
        if finished is None:  # cannot happen with chat.ask; treat it as a failure, not a crash
            self._on_answer_failed(RuntimeError("the answer stream ended without a result"))
            return
        shown = self.answer_shown()
        self._end_stream()
        message: Message = finished.message
        if shown:  # else it is in the store, shown when its conversation is opened
            self.chat_view.finish_answer(message, self._meta(message))
            self.sources_panel.show_message(message)
        self._refresh_conversations()
        usable = self.model_usable()
        self._set_status(status_for_loaded(self.core.model if usable else None))
        if message.status == "error" and not usable:  # the engine died and took the model with it
            self.engine_lost(message.error or "The model stopped.")
        self._update_controls()
        self.input.setFocus()
        self.answer_finished.emit(message)

    def _on_answer_failed(self, exc: BaseException) -> None:
        shown = self.answer_shown()
        self._end_stream()
        message = self.describe_error(exc)
        if shown:
            self._show_conversation()  # what the store holds is the truth
            if not self._question_stored:
                self._put_question_back()
        elif not self._question_stored and self._question_from_box:
            self._keep_question_elsewhere()
        self._set_status(status_for_loaded(self.core.model if self.model_usable() else None))
        self.show_problem(message, kind="answer")
        self._update_controls()
        self.answer_failed.emit(message)

    def _keep_question_elsewhere(self) -> None:
        """The question of a conversation the user has left, nothing stored: an edit opens again when
        the conversation does; a new question waits as its unsent text, before what was typed there."""
        cid = self._answer_cid
        if self._replaces is not None and cid is not None:
            self._pending_edits[cid] = (self._replaces, self._question)
        elif cid == self._conversation_id:  # a new chat left for another new chat: its box is the draft
            self.input.setPlainText(_joined(self._question, self.input.toPlainText()))
        else:
            self._drafts[cid] = _joined(self._question, self._drafts.get(cid, ""))

    def reopen_pending_edit(self) -> None:
        """An edit that failed while its conversation was not shown opens again now that it is."""
        edit = self._pending_edits.pop(self._conversation_id, None)
        if edit is not None and self.chat_view.bubble_for(edit[0]) is not None:
            self.begin_edit(*edit)
        elif edit is not None:  # its question is gone (deleted meanwhile): the text is kept as a draft
            self.input.setPlainText(_joined(edit[1], self.input.toPlainText()))

    def _put_question_back(self) -> None:
        """Nothing was stored: what was sent comes back as it was, and nothing typed is lost."""
        replaced = self._replaces is not None and self.chat_view.bubble_for(self._replaces) is not None
        if replaced and self._question_from_box:
            # An edit opens again with the edited text. The box now holds the draft that came back at
            # Send (or what was typed since): begin_edit keeps it again, for when the edit is sent or left.
            self.begin_edit(self._replaces, self._question)
        elif not replaced and not self.input.toPlainText().strip():
            # A question whose place is gone (a new one, or an edit whose old question was dropped)
            # goes in the box, unless something typed since is there. A Regenerate whose question is
            # still there needs nothing back.
            self.input.setPlainText(self._question)


def _joined(question: str, draft: str) -> str:
    """A question put back beside text typed since: both kept, the question first."""
    if not draft.strip() or draft.strip() == question.strip():
        return question
    return f"{question}\n\n{draft}"
