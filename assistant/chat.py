"""One user message in, one streamed and stored answer out.

The answer row exists from the first moment (status 'streaming') and its text
is flushed as it grows, so a killed process leaves the partial answer behind;
the next start marks it 'stopped'.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.config import GenerationSettings
from assistant.core import Core
from assistant.llm.protocol import Done, Error, Notice, Token
from assistant.store.conversations import Message

FLUSH_EVERY_S = 0.5
TITLE_CHARS = 60


@dataclass
class Started:
    conversation_id: int
    user_message_id: int
    assistant_message_id: int


@dataclass
class Restarted:
    """The answer streamed so far is dropped: what streams next replaces it (`reason` says why)."""

    reason: str


@dataclass
class Finished:
    message: Message
    prompt: str = ""


def title_for(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def history_for_model(core: Core, conversation_id: int, upto_id: int | None = None) -> list[dict]:
    """The transcript the model sees: system prompt plus every kept turn, oldest first."""
    turns = [{"role": "system", "content": core.settings.system_prompt}]
    for m in core.conversations.messages(conversation_id):
        if upto_id is not None and m.id >= upto_id:
            break
        if m.role not in ("user", "assistant"):
            continue
        if m.role == "assistant" and (m.status == "error" or not m.content.strip()):
            continue
        turn = {"role": m.role, "content": m.content}
        if m.role == turns[-1]["role"] == "user":
            # Templates expect alternating turns. A question left without an answer (it failed, or
            # was stopped before a word) is replaced by the next one: the user moved on, and merged,
            # the old question would be answered instead (a question too long for the context would
            # fail every later answer). It stays in the conversation, on screen and in the store.
            turns[-1] = turn
        else:
            turns.append(turn)
    # Regenerating: the answer being replaced is not part of what the model sees.
    while len(turns) > 1 and turns[-1]["role"] == "assistant":
        turns.pop()
    return turns


def ask(core: Core, text: str, conversation_id: int | None = None,
        settings: GenerationSettings | None = None,
        stop: threading.Event | None = None, replaces: int | None = None) -> Iterator[Started | Token | Notice | Finished]:
    """Store the question, stream the answer, store the answer. The model must be loaded. `stop`, once
    set, ends the answer as 'stopped' wherever it is, even before its first word. `replaces`: the
    question this one is an edit of, dropped with what followed it when this one is stored."""
    model = core.require_model()
    settings = settings or core.settings.generation
    store = core.conversations
    if conversation_id is None or store.get(conversation_id) is None:
        conversation_id = store.create(title=title_for(text), model=model.name)
    user_id = store.add_question(conversation_id, text, replaces)
    answer_id = store.add_message(conversation_id, "assistant", "", status="streaming", model=model.name,
                                  settings=settings.to_dict())
    yield Started(conversation_id, user_id, answer_id)
    yield from _stream_answer(core, conversation_id, answer_id, settings, stop)


def _stream_answer(core: Core, conversation_id: int, answer_id: int, settings: GenerationSettings,
                   stop: threading.Event | None = None):
    messages = history_for_model(core, conversation_id, upto_id=answer_id)
    yield from stream_answer(core, conversation_id, answer_id, messages, settings, stop=stop)


def stream_answer(core: Core, conversation_id: int, answer_id: int, messages: list[dict],
                  settings: GenerationSettings, extra: Callable[..., dict] | None = None,
                  stop: threading.Event | None = None) -> Iterator[Token | Notice | Finished]:
    """Stream `messages` through the engine into the stored answer `answer_id`.

    The text is flushed while it grows, so a killed process keeps it. `extra(text, prompt, timings)`
    returns more columns to store with the final row (a document answer's sources); `timings` is
    the engine's Timings, or None when the answer did not finish.
    """
    store = core.conversations
    parts: list[str] = []
    last_flush = time.monotonic()
    final: dict = {}
    prompt = ""
    timings = None
    try:
        for event in core.engine.generate(messages, settings, stop=stop):
            if isinstance(event, Token):
                parts.append(event.text)
                yield event
                if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                    store.update_message(answer_id, content="".join(parts))
                    last_flush = time.monotonic()
            elif isinstance(event, Notice):
                yield event
            elif isinstance(event, Done):
                t = timings = event.timings
                prompt = event.prompt
                final = {
                    "status": "stopped" if event.reason == "cancelled" else "complete",
                    "ttft_s": t.ttft_s, "tokens_per_s": t.tokens_per_s, "prompt_tokens": t.prompt_tokens,
                    "completion_tokens": t.completion_tokens, "total_s": t.total_s,
                }
                if event.reason == "length":
                    final["error"] = "The answer reached the maximum length and was cut off."
            elif isinstance(event, Error):
                final = {"status": "error", "error": event.message}
    finally:
        if not final:  # the consumer stopped listening (window closed, Ctrl-C)
            final = {"status": "stopped"}
        text = "".join(parts)
        more = extra(text, prompt, timings) if extra else {}
        store.update_message(answer_id, content=text, **final, **more)
        store.touch(conversation_id)
    yield Finished(store.message(answer_id), prompt=prompt)


def regenerate(core: Core, conversation_id: int, settings: GenerationSettings | None = None,
               stop: threading.Event | None = None):
    """Answer the last user message again, as a new assistant message (the old one is kept)."""
    model = core.require_model()
    settings = settings or core.settings.generation
    answer_id = core.conversations.add_message(conversation_id, "assistant", "", status="streaming",
                                               model=model.name, settings=settings.to_dict())
    yield Started(conversation_id, -1, answer_id)
    yield from _stream_answer(core, conversation_id, answer_id, settings, stop)


# (core, text, conversation_id, settings, stop=None, replaces=None), as `ask`
AskFunction = Callable[..., Iterator]


def edit_and_resend(core: Core, message_id: int, text: str, settings: GenerationSettings | None = None,
                    answer: AskFunction | None = None, stop: threading.Event | None = None) -> Iterator:
    """Replace the question `message_id` with `text` and answer it again in the same conversation.

    The question and everything after it are dropped (the conversation continues from the edited
    question; an unedited `text` makes this "regenerate"). `answer(core, text, conversation_id,
    settings)` asks it, by default `ask`; a document answer passes `ask_documents` bound to its
    collections. Nothing is dropped until the edited question is stored.
    """
    core.require_model()
    store = core.conversations
    question = store.message(message_id)
    if question.role != "user":
        raise ValueError(f"message {message_id} is not a question")
    if not text.strip():
        raise ValueError("the edited question is empty")
    # Dropped by `answer` as it stores the edit: a search that fails before that loses nothing.
    yield from (answer or ask)(core, text, question.conversation_id, settings, stop=stop, replaces=message_id)


def last_question(core: Core, conversation_id: int) -> Message | None:
    """The conversation's last question (what "regenerate" asks again)."""
    return next((m for m in reversed(core.conversations.messages(conversation_id)) if m.role == "user"), None)
