"""The app's handle on the engine child process.

load / generate / cancel / unload. A crash in the child becomes an Error
event here; the next call starts a fresh child. cancel() is safe from any
thread: it only writes a shared counter the child reads between tokens and
from llama.cpp's abort callback during prompt processing.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.config import GenerationSettings, paths
from assistant.errors import EngineCancelled, EngineError, ModelUnavailable
from assistant.llm import worker
from assistant.llm.protocol import Done, Error, Loaded, Notice, Timings, Token
from assistant.models.gguf_check import check_gguf_file

log = logging.getLogger("assistant.engine")

# A cancel the child has not acknowledged in this long ends the child.
HARD_CANCEL_S = 3.0
POLL_S = 0.02


class EngineClient:
    def __init__(self, log_path: Path | None = None):
        self._ctx = mp.get_context("spawn")
        self._process = None
        self._conn = None
        self._cancel = self._ctx.Value("q", 0, lock=False)
        self._next_id = 0
        self._lock = threading.RLock()  # one command at a time on the pipe
        self._loading = None  # the child process while it loads a model
        self._load_stopped = False
        self.loaded: Loaded | None = None
        self.loaded_settings: GenerationSettings | None = None
        self._log_path = log_path or (paths().ensure().logs / "engine.log")

    # process ---------------------------------------------------------------
    def _ensure_child(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._discard_child()
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(
            target=worker.main, args=(child, self._cancel, str(self._log_path)), daemon=True,
            name="assistant-engine",
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _discard_child(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._process = None
        self._conn = None
        self.loaded = None

    def _crash_error(self, during: str) -> Error:
        code = None
        if self._process is not None:
            self._process.join(2)
            code = self._process.exitcode
        self._discard_child()
        if code == -signal.SIGKILL:
            how = "it was ended from outside, most often because the computer ran low on memory"
        elif code is not None and code < 0:
            try:
                how = f"it crashed, {signal.Signals(-code).name}"
            except ValueError:
                how = f"it crashed, signal {-code}"
        else:
            how = f"it exited with code {code}"
        log.warning("engine child gone while %s (exit code %s)", during, code)
        return Error(
            f"The model engine stopped unexpectedly while {during} ({how}). "
            "The app and your conversations are safe; load the model again or choose another.",
            kind="crash",
            detail=self.log_tail(),
        )

    def _lost(self) -> bool:
        """A model was loaded, and the child holding it is gone (killed, crashed) since."""
        return self.loaded is not None and (self._process is None or not self._process.is_alive())

    def holds_model(self) -> bool:
        """A model is loaded and the child holding it is alive: a caller that would skip loading
        the same model again must load it anew after a crash."""
        return self.loaded is not None and not self._lost()

    def check_alive(self) -> Error | None:
        """For a caller that polls while idle: the crash error, once, when the child holding the
        loaded model died since (killed for memory overnight, say); None otherwise, or when busy."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._crash_error("waiting for a question") if self._lost() else None
        finally:
            self._lock.release()

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def _recv(self, timeout: float | None = None):
        """One event from the child, or None on timeout. EOFError if the child died."""
        if not self._conn.poll(timeout):
            return None
        return self._conn.recv()

    @property
    def pid(self) -> int | None:
        """The engine child's process id, for its memory figures; None when no child runs."""
        if self._process is not None and self._process.is_alive():
            return self._process.pid
        return None

    # API ---------------------------------------------------------------------
    def load(self, model_path: Path | str, settings: GenerationSettings | None = None,
             max_context: int | None = None) -> Loaded:
        """Load a model, replacing any loaded one. Raises ModelUnavailable / EngineError.

        `max_context`: the context the model was trained on; a larger n_ctx is cut to it (past it a
        model writes nonsense, and the memory is spent all the same). `loaded_settings` keeps the
        settings as asked, so comparing them with the app's settings still tells a change."""
        settings = settings or GenerationSettings()
        check_gguf_file(Path(model_path))
        with self._lock:
            self._ensure_child()
            n_threads, n_threads_batch = settings.threads()
            payload = settings.to_dict() | {"n_threads": n_threads, "n_threads_batch": n_threads_batch}
            if max_context and settings.n_ctx > max_context:
                payload["n_ctx"] = max_context
            self._conn.send({"op": "load", "path": str(model_path), "settings": payload})
            self._loading, self._load_stopped = self._process, False
            try:
                event = self._wait_loaded()
            except (EOFError, OSError):
                code = self._process.exitcode if self._process is not None else None
                err = self._crash_error("loading the model")
                if self._load_stopped:
                    raise EngineError(f"Loading {Path(model_path).name} was stopped.") from None
                if code is not None and code < 0:  # killed by a signal inside llama.cpp
                    raise ModelUnavailable(
                        f"{Path(model_path).name} could not be loaded: the engine crashed reading it, "
                        "so the file is probably damaged.",
                        hint="Repair or re-download the model.",
                    ) from EngineError(err.message + "\n" + err.detail)
                raise EngineError(err.message, hint=err.detail[-300:] or None) from None
            if isinstance(event, Error):
                raise ModelUnavailable(f"{Path(model_path).name}: {event.message}",
                                       hint=f"(llama.cpp said: {event.detail})" if event.detail else None)
            self.loaded = event
            self.loaded_settings = settings
            return event

    def _wait_loaded(self):
        try:
            while True:
                event = self._recv(0.5)
                if event is not None:
                    return event
                if not self._process.is_alive():
                    raise EOFError
        finally:
            self._loading = None

    def stop_loading(self) -> bool:
        """End a model load in progress by ending the child (the app is closing: a big model on a
        slow disk, or a load that hangs, must not keep it open). Safe from any thread; True if one ran."""
        process = self._loading
        if process is None or not process.is_alive():
            return False
        self._load_stopped = True
        process.kill()
        return True

    def generate(self, messages: list[dict], settings: GenerationSettings | None = None,
                 stop: threading.Event | None = None) -> Iterator:
        """Stream Token and Notice events, ending with exactly one Done or Error. `stop`, once set,
        cancels this request even when it was set before the request reached the child (cancel()
        only reaches the request in flight)."""
        settings = settings or self.loaded_settings or GenerationSettings()
        with self._lock:
            if self._lost():
                yield self._crash_error("waiting for a question")
                return
            if self.loaded is None:
                yield Error("No model is loaded.", kind="engine")
                return
            self._next_id += 1
            request_id = self._next_id
            self._conn.send({"op": "generate", "id": request_id, "messages": messages,
                             "settings": settings.to_dict()})
            cancel_seen_at = None
            finished = False
            parts: list[str] = []
            try:
                while True:
                    self._pass_stop(stop, request_id)
                    event = self._recv(POLL_S)
                    if event is None:
                        if not self._process.is_alive():
                            raise EOFError
                        if self._cancel.value >= request_id:
                            cancel_seen_at = cancel_seen_at or time.monotonic()
                            if time.monotonic() - cancel_seen_at > HARD_CANCEL_S:
                                log.warning("engine ignored a cancel for %.1fs; restarting it", HARD_CANCEL_S)
                                self._discard_child()
                                yield Done(reason="cancelled", text="".join(parts), timings=Timings())
                                return
                        continue
                    if isinstance(event, Token):
                        parts.append(event.text)
                        yield event
                    elif isinstance(event, Notice):
                        yield event
                    elif isinstance(event, (Done, Error)):
                        finished = True
                        yield event
                        return
            except (EOFError, OSError):
                yield self._crash_error("writing an answer")
            except GeneratorExit:
                if not finished:
                    # The consumer walked away mid-stream: stop the child and drain it, so
                    # the pipe holds no stale tokens for the next request.
                    self._cancel.value = request_id
                    self._drain(request_id)
                raise

    def _drain(self, request_id: int) -> None:
        deadline = time.monotonic() + HARD_CANCEL_S
        try:
            while time.monotonic() < deadline:
                event = self._recv(POLL_S)
                if isinstance(event, (Done, Error)):
                    return
                if event is None and not self._process.is_alive():
                    break
        except (EOFError, OSError):
            pass
        self._discard_child()

    def _pass_stop(self, stop: threading.Event | None, request_id: int) -> None:
        """A set `stop` cancels `request_id`, sent already or not (cancel() reaches only one in flight)."""
        if stop is not None and stop.is_set() and self._cancel.value < request_id:
            self._cancel.value = request_id

    def cancel(self) -> None:
        """Stop the current generation (if any). Returns at once; the stream ends with Done('cancelled')."""
        self._cancel.value = self._next_id

    def count_tokens(self, messages: list[dict]) -> int:
        with self._lock:
            if self.loaded is None:
                raise EngineError("No model is loaded.")
            self._conn.send({"op": "count", "messages": messages})
            return self._conn.recv()["n"]

    def score(self, messages: list[dict], continuation: str) -> list[float]:
        """Per-token log-probabilities of `continuation` as the reply to `messages` (see worker.score)."""
        return self._logprobs({"op": "score", "messages": messages, "continuation": continuation})

    def first_token_logprobs(self, messages: list[dict], options: list[str],
                             stop: threading.Event | None = None) -> list[float]:
        """Log-probability of each option's first token opening the reply (see worker.first_tokens).
        `stop`, once set, interrupts it with EngineCancelled."""
        return self._logprobs({"op": "first_tokens", "messages": messages, "options": options}, stop)

    def _logprobs(self, command: dict, stop: threading.Event | None = None) -> list[float]:
        with self._lock:
            if self._lost():
                raise EngineError(self._crash_error("waiting for a question").message)
            if self.loaded is None:
                raise EngineError("No model is loaded.")
            if stop is not None and stop.is_set():
                raise EngineCancelled("Stopped before the model was asked.")
            self._next_id += 1  # a fresh id: the child's abort callback treats older ones as cancelled
            request_id = self._next_id
            reply = None
            try:
                self._conn.send({**command, "id": request_id})
                while reply is None:
                    self._pass_stop(stop, request_id)
                    reply = self._recv(POLL_S)
                    if reply is None and not self._process.is_alive():
                        raise EOFError
            except (EOFError, OSError):
                raise EngineError(self._crash_error("reading a question").message) from None
        if isinstance(reply, Error):
            if self._cancel.value >= request_id:
                raise EngineCancelled("Stopped while the model was reading.")
            raise EngineError(reply.message)
        return reply["logprobs"]

    def unload(self) -> None:
        with self._lock:
            if self._process is not None and self._process.is_alive() and self.loaded is not None:
                self._conn.send({"op": "unload"})
                try:
                    self._recv(10)
                except (EOFError, OSError):
                    self._discard_child()
            self.loaded = None

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.is_alive():
                try:
                    self._conn.send({"op": "shutdown"})
                    self._process.join(5)
                except (OSError, BrokenPipeError):
                    pass
            self._discard_child()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
