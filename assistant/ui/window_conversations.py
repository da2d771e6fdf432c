"""The main window's conversations: a new chat, opening one (with its documents and sources), and
what happens when the open one is deleted. A mixin of MainWindow."""

from __future__ import annotations

import json

from PySide6.QtCore import Slot
from PySide6.QtGui import QTextCursor

from assistant.store.conversations import Message
from assistant.ui.collection_picker import gone_sentence
from assistant.ui.formatting import answer_meta


class ConversationHandling:
    def _refresh_conversations(self) -> None:
        self.conversation_list.refresh(self._conversation_id)
        if self._conversation_id is None:
            self.conversation_list.select(None)

    # what was typed and not sent, per conversation (None: a new chat) --------------------------
    def _keep_draft(self) -> None:
        """Keep the box's text as the open conversation's draft (an edit of an earlier question is not one)."""
        if self._editing is None:
            text = self.input.toPlainText()
            if text.strip():
                self._drafts[self._conversation_id] = text
            else:
                self._drafts.pop(self._conversation_id, None)

    def _switch_draft(self, conversation_id: int | None) -> None:
        """Leaving the open conversation for `conversation_id`: each keeps its own unsent text."""
        self._view += 1
        self.cancel_edit()
        self._keep_draft()
        self.input.setPlainText(self._drafts.pop(conversation_id, ""))  # in the box now, kept again on leaving
        self.input.moveCursor(QTextCursor.MoveOperation.End)

    def drafts_to_save(self) -> str:
        self._keep_draft()
        return json.dumps({"" if k is None else str(k): v for k, v in self._drafts.items()})

    def restore_drafts(self, saved: str | None) -> None:
        try:
            drafts = json.loads(saved or "{}")
        except ValueError:
            drafts = {}
        ids = {c["id"] for c in self.core.conversations.list()}  # an id can be given again after a deletion
        self._drafts = {None if k == "" else int(k): v for k, v in drafts.items()
                        if isinstance(v, str) and (k == "" or (k.isascii() and k.isdigit() and int(k) in ids))
                        } if isinstance(drafts, dict) else {}

    @Slot()
    def new_chat(self) -> None:
        self._switch_draft(None)
        self._conversation_id = None
        self.chat_view.clear()
        self.sources_panel.show_message(None)
        self._dismiss_problem("collections")
        self.conversation_list.select(None)
        self.show_page("chat")
        self.input.setFocus()
        self._update_controls()  # Stop is for the answer shown

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        self._switch_draft(conversation_id)
        self._conversation_id = conversation_id
        messages = self._show_conversation()
        answers = [m for m in messages if m.role == "assistant"]
        self.sources_panel.show_message(answers[-1] if answers else None)
        # Continue with the documents the conversation last drew on (none: the model alone), or those
        # of the answer being written into it.
        used = ((answers[-1].details or {}).get("collections") or []) if answers else []
        if self.answer_shown():
            used = self._answer_collections
        self.collection_picker.set_selected(used)
        self._dismiss_problem("collections")
        if gone := self.collection_picker.known(used)[1]:
            self.show_problem(gone_sentence(gone, "new questions are answered from the documents chosen below." if
                                            self.collection_picker.selected() else
                                            "choose documents below, or the model answers alone."),
                              kind="collections")
        if self._started:  # not while the window is made: the model loads first, then the documents
            self._prepare_documents(self.collection_picker.selected())
        self.reopen_pending_edit()
        self.input.setFocus()
        self._update_controls()  # Stop is for the answer shown

    def _show_conversation(self) -> list[Message]:
        if self._conversation_id is not None and self.core.conversations.get(self._conversation_id) is None:
            self._conversation_id = None  # deleted elsewhere (e.g. from the CLI)
            self._refresh_conversations()
        if self._conversation_id is None:
            self.chat_view.clear()
            return []
        messages = self.core.conversations.messages(self._conversation_id)
        live = self.answer_shown()
        if live:
            messages = [m for m in messages if m.id < self.live_cut()]
        self.chat_view.show_messages(messages, self._meta)
        if live:
            self._redraw_live()
        return messages

    @Slot(int)
    def _on_conversation_deleted(self, conversation_id: int) -> None:
        if conversation_id == self._conversation_id:
            self.cancel_edit()
            self.input.clear()  # its unsent text goes with it, not to the new chat
            self._conversation_id = None
            self.new_chat()
        self._drafts.pop(conversation_id, None)
        self._set_status("Conversation deleted")

    def _meta(self, message: Message) -> str:
        return answer_meta(message, self._display(message.model))
