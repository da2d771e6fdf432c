"""Fitting a conversation into the model's context window.

The oldest turns leave the prompt first; the system prompt and the newest
question always stay. Nothing is deleted from the store: this only decides
what the model sees.
"""

from __future__ import annotations

from collections.abc import Callable


class PromptTooLong(ValueError):
    """Even the system prompt plus the newest message does not fit."""


WORDS_PER_TOKEN = 0.75  # English prose; how a length is told to someone who does not count tokens


def _words(tokens: int) -> str:
    words = max(0, round(tokens * WORDS_PER_TOKEN, -2 if tokens > 1000 else -1))
    return f"about {words:,.0f} words"


def fit_messages(
    messages: list[dict],
    count_tokens: Callable[[list[dict]], int],
    budget: int,
    can_grow: bool = True,
) -> tuple[list[dict], int]:
    """Return (messages that fit in `budget` tokens, how many were dropped).

    Turns are dropped a user/assistant pair at a time from the oldest end so
    the transcript keeps alternating roles, which chat templates expect.
    `can_grow`: whether a larger context size could help (not once the model's own limit is reached).
    """
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    if not rest:
        return messages, 0
    dropped = 0
    while True:
        candidate = system + rest
        if count_tokens(candidate) <= budget:
            return candidate, dropped
        if len(rest) <= 1:
            empty_turn = [{"role": "user", "content": ""}]
            if count_tokens([{"role": "system", "content": ""}, *empty_turn]) > budget:
                raise PromptTooLong(
                    "The context window is too small to hold any question next to the room kept for "
                    "the answer. "
                    + ("Raise the context size in the settings (or lower the answer length)." if can_grow else
                       "Lower the answer length in the settings: this model reads no more at once.")
                )
            if system and count_tokens(system + empty_turn) > budget:
                raise PromptTooLong(
                    "The system prompt alone is too long for this model's context window. "
                    + ("Shorten it in the settings, or raise the context size." if can_grow else
                       "Shorten it in the settings (this model reads no more at once).")
                )
            room = count_tokens(system + empty_turn)
            have, fits = count_tokens(candidate) - room, budget - room
            raise PromptTooLong(
                f"The message is too long for this model: it is {_words(have)}, and {_words(fits)} fit "
                "next to the room kept for the answer. "
                + ("Shorten it, or raise the context size in the settings." if can_grow else
                   "Shorten it, or split it into parts (this model reads no more at once), or choose a model "
                   "with a larger context.")
            )
        step = 2 if len(rest) > 2 and rest[0]["role"] == "user" and rest[1]["role"] == "assistant" else 1
        rest = rest[step:]
        dropped += step
