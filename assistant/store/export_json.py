"""A conversation as one JSON document: everything the store recorded about each message, for a
reader who wants to check an answer with a program rather than by eye."""

from __future__ import annotations

import json

from assistant.store.conversations import Conversations, Message
from assistant.store.export_audit import LEGEND
from assistant.store.timeutil import now_iso

FORMAT = "assistant-conversation"
VERSION = 1
# The engine's timings are columns of the message; these are the answer's own, kept in its details.
DETAIL_TIMINGS = ("retrieval_ms", "evidence_ms", "check_ms", "prompt_s", "cached_tokens")


def message_json(message: Message) -> dict:
    """A question as role, text and time; an answer also with its model, status, timings, settings,
    the prompt the model read, every retrieved source with all its fields, and its details."""
    out = {"id": message.id, "role": message.role, "text": message.content, "time": message.created_at}
    if message.role != "assistant":
        return out
    details = dict(message.details or {})
    timings = {"ttft_s": message.ttft_s, "total_s": message.total_s, "tokens_per_s": message.tokens_per_s,
               "prompt_tokens": message.prompt_tokens, "completion_tokens": message.completion_tokens}
    timings.update({key: details[key] for key in DETAIL_TIMINGS if key in details})
    return {**out, "model": message.model, "status": message.status, "error": message.error,
            "timings": timings, "settings": message.settings,
            # Moved up, not copied: the prompt is the largest field, and the one an auditor looks for.
            "prompt": details.pop("prompt", None),
            "sources": message.sources or [], "details": details}


def conversation_json(store: Conversations, conversation_id: int) -> dict:
    conversation = store.get(conversation_id)
    if conversation is None:
        raise KeyError(f"no conversation {conversation_id}")
    return {"format": FORMAT, "version": VERSION, "exported_at": now_iso(),
            "conversation": {key: conversation.get(key) for key in ("id", "title", "model", "created_at",
                                                                    "updated_at")},
            "legend": dict(LEGEND),
            "messages": [message_json(m) for m in store.messages(conversation_id)]}


def conversation_json_text(store: Conversations, conversation_id: int) -> str:
    return json.dumps(conversation_json(store, conversation_id), ensure_ascii=False, indent=2) + "\n"
