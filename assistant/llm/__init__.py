"""The engine: llama.cpp in a child process, and what is sent to it."""

from assistant.llm.client import EngineClient
from assistant.llm.protocol import Done, Error, Loaded, Notice, Token

__all__ = ["EngineClient", "Done", "Error", "Loaded", "Notice", "Token"]
