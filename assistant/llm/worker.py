"""The child process that owns llama.cpp.

It answers commands from the parent over a pipe. Anything llama.cpp does,
including an abort or a segfault, stays in here: the parent sees the pipe
close and reports it. llama.cpp's own log goes to a file the parent can quote.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import random
import sys
import threading
import time
import traceback
from typing import Any

from assistant.llm.context_fit import PromptTooLong, fit_messages
from assistant.llm.protocol import Done, Error, Loaded, Notice, Timings, Token

# Lower bound on room left for the answer when fitting history into the context.
MIN_ANSWER_TOKENS = 256
SEND_EVERY_S = 0.02


def main(conn, cancel_value, log_path: str | None) -> None:
    if log_path:
        # llama.cpp writes to fd 2 from C; only a dup2 captures it.
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
    import assistant  # noqa: F401  (applies the offline environment and the guard if asked)

    _exit_with_parent()
    Worker(conn, cancel_value).serve()


def _exit_with_parent() -> None:
    """End this process when the app that started it is gone (killed, crashed).

    The pipe only tells a child that is reading or writing it: one busy reading a long prompt
    would go on using the cores and the model's memory for minutes. multiprocessing's parent
    sentinel is used (it works on every platform, and also if the parent died before this ran)
    rather than PR_SET_PDEATHSIG, which fires when the parent *thread* that started the child
    ends, and the app starts the engine from a worker thread.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing (a test calling main directly)
        return

    def watch() -> None:
        parent.join()
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Worker:
    def __init__(self, conn, cancel_value):
        self.conn = conn
        self.cancel_value = cancel_value
        self.llm = None
        self.formatter = None
        self.current_id = 0
        self.n_ctx_train = 0  # the loaded model's own context limit (0: its file does not say)
        self._abort_cb = None

    def serve(self) -> None:
        while True:
            try:
                command = self.conn.recv()
            except (EOFError, OSError):
                return
            op = command.get("op")
            try:
                if op == "load":
                    self.load(command)
                elif op == "generate":
                    self.generate(command)
                elif op == "score":
                    self.current_id = command["id"]
                    self.send({"op": "score", "logprobs": self.score(command["messages"], command["continuation"])})
                elif op == "first_tokens":
                    self.current_id = command["id"]
                    self.send({"op": "first_tokens",
                               "logprobs": self.first_tokens(command["messages"], command["options"])})
                elif op == "count":
                    self.send({"op": "count", "n": self.count_tokens(command["messages"])})
                elif op == "unload":
                    self.unload()
                    self.send({"op": "unloaded"})
                elif op == "shutdown":
                    self.unload()
                    return
                else:
                    self.send(Error(f"Unknown engine command {op!r}.", kind="engine"))
            except Exception as exc:  # report, keep serving
                self.send(Error("The model engine failed: " + _short(exc), kind="engine",
                                detail=traceback.format_exc()))

    def send(self, event: Any) -> None:
        self.conn.send(event)

    def cancelled(self) -> bool:
        return self.cancel_value.value >= self.current_id

    # load ------------------------------------------------------------------
    def load(self, command: dict) -> None:
        from llama_cpp import Llama, llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.unload()
        s = command["settings"]
        started = time.perf_counter()
        try:
            llm = Llama(
                model_path=command["path"],
                n_ctx=s["n_ctx"],
                n_threads=s["n_threads"],
                n_threads_batch=s["n_threads_batch"],
                n_batch=s["n_batch"],
                flash_attn=s.get("flash_attn", False),
                seed=s["seed"] if s.get("seed") is not None else llama_cpp.LLAMA_DEFAULT_SEED,
                verbose=False,
            )
        except Exception as exc:
            if "llama_context" in str(exc):  # the file was read; the context asked for did not fit
                self.send(Error(f"There is not enough memory for a context of {s['n_ctx']:,} tokens with this "
                                "model. Choose a smaller context size.", kind="load", detail=_short(exc)))
                return
            self.send(Error(
                "This model file could not be loaded: it is damaged, incomplete, or not a model "
                "llama.cpp understands.",
                kind="load",
                detail=_short(exc),
            ))
            return
        template = llm.metadata.get("tokenizer.chat_template") or ""
        if not template:
            llm.close()
            self.send(Error("This model has no chat template in its file, so it cannot hold a conversation.",
                            kind="load"))
            return
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        self.formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=_token_text(llm, eos_id),
            bos_token=_token_text(llm, bos_id),
            stop_token_ids=[eos_id],
        )
        self.llm = llm
        self.n_ctx_train = int(llm.metadata.get(f"{llm.metadata.get('general.architecture', '')}.context_length",
                                                0) or 0)
        self._install_abort_callback(llama_cpp)
        self.send(Loaded(
            path=command["path"],
            load_s=time.perf_counter() - started,
            n_ctx=llm.n_ctx(),
            n_ctx_train=self.n_ctx_train,
            n_threads=s["n_threads"],
            n_threads_batch=s["n_threads_batch"],
            chat_template=template,
            architecture=llm.metadata.get("general.architecture", ""),
        ))

    def _install_abort_callback(self, llama_cpp) -> None:
        """Let a cancel interrupt prompt processing, not just the next token."""
        setter = getattr(llama_cpp, "llama_set_abort_callback", None)
        callback_type = getattr(llama_cpp, "ggml_abort_callback", None)
        if setter is None or callback_type is None:
            return

        def abort(_data) -> bool:
            return self.cancelled()

        self._abort_cb = callback_type(abort)  # kept alive: llama.cpp holds a raw pointer
        setter(self.llm._ctx.ctx, self._abort_cb, ctypes.c_void_p())

    def unload(self) -> None:
        if self.llm is not None:
            self.llm.close()
        self.llm = None
        self.formatter = None

    # generate ----------------------------------------------------------------
    def render(self, messages: list[dict]) -> tuple[str, list[int]]:
        prompt = self.formatter(messages=messages).prompt
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        return prompt, tokens

    def count_tokens(self, messages: list[dict]) -> int:
        return len(self.render(messages)[1])

    def score(self, messages: list[dict], continuation: str) -> list[float]:
        """Log-probability of each token of `continuation` as the start of the model's reply.

        Teacher-forced, one token at a time after the prompt (whose prefix the KV cache
        usually still holds from the answer just generated), so it costs about as much
        as generating that many tokens.
        """
        self._read_prompt(messages)
        following = self.llm.tokenize(continuation.encode("utf-8"), add_bos=False, special=False)
        out = []
        for token in following:
            out.append(_logprob(self.llm, token))
            self.llm.eval([token])
        return out

    def first_tokens(self, messages: list[dict], options: list[str]) -> list[float]:
        """Log-probability of each option's first token as the reply's first token: a choice among
        words ("Yes", "no", ...) in one pass over the prompt."""
        self._read_prompt(messages)
        return [_logprob(self.llm, self.llm.tokenize(o.encode("utf-8"), add_bos=False, special=False)[0])
                for o in options]

    def _read_prompt(self, messages: list[dict]) -> None:
        """Evaluate the prompt (reusing the KV cache's common prefix), leaving the logits of the
        reply's first token."""
        if self.llm is None:
            raise RuntimeError("no model is loaded")
        _, prompt = self.render(messages)
        cached = _common_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), prompt)
        self.llm.n_tokens = min(cached, len(prompt) - 1)  # re-run the last prompt token for its logits
        self.llm.eval(prompt[self.llm.n_tokens:])

    def generate(self, command: dict) -> None:
        self.current_id = command["id"]
        if self.llm is None:
            self.send(Error("No model is loaded.", kind="engine"))
            return
        s = command["settings"]
        received = time.perf_counter()
        n_ctx = self.llm.n_ctx()
        answer_room = min(s["max_tokens"], max(MIN_ANSWER_TOKENS, n_ctx // 4))
        try:
            messages, dropped = fit_messages(command["messages"], self.count_tokens, n_ctx - answer_room,
                                             can_grow=not self.n_ctx_train or n_ctx < self.n_ctx_train)
        except PromptTooLong as exc:
            self.send(Error(str(exc), kind="engine"))
            return
        if dropped:
            self.send(Notice("context_trimmed",
                             f"The {dropped} oldest messages no longer fit in the model's context window "
                             "and were left out of this answer. They are still saved.",
                             {"dropped": dropped}))
        prompt, tokens = self.render(messages)
        cached = _common_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), tokens)
        max_tokens = min(s["max_tokens"], n_ctx - len(tokens))
        from llama_cpp import llama_cpp

        first_at = last_at = None
        sampled = 0
        text_parts: list[str] = []
        reason = "length"
        pending: list[str] = []
        sent_at = 0.0
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = self.llm._model.vocab
        detokenize = self.llm._model.detokenize
        self.llm.set_seed(s["seed"] if s.get("seed") is not None else random.randint(0, 2**31 - 1))
        try:
            # The bare generate loop, not create_completion: its per-token bookkeeping
            # (stop-string scans, re-detokenizing) costs several % of generation speed.
            for token in self.llm.generate(
                tokens, top_k=s["top_k"], top_p=s["top_p"], min_p=s["min_p"], temp=s["temperature"],
                repeat_penalty=s["repeat_penalty"], reset=True,
            ):
                last_at = time.perf_counter()
                if first_at is None:
                    first_at = last_at
                sampled += 1
                if self.cancelled():
                    break
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    reason = "stop"
                    break
                piece = decoder.decode(detokenize([token]))
                if piece:
                    text_parts.append(piece)
                    pending.append(piece)
                    # Coalesce: one pipe message per ~20 ms, so the parent wakes up rarely and
                    # leaves the cores to llama.cpp's threads.
                    if last_at - sent_at >= SEND_EVERY_S:
                        self.send(Token("".join(pending)))
                        pending.clear()
                        sent_at = last_at
                if sampled >= max_tokens:
                    break
        except RuntimeError:
            if not self.cancelled():
                raise
            # llama_decode returned "aborted": our own cancel during prompt processing
        tail = decoder.decode(b"", final=True)
        if tail:
            text_parts.append(tail)
            pending.append(tail)
        if pending:
            self.send(Token("".join(pending)))
        if self.cancelled():
            reason = "cancelled"
        finished = time.perf_counter()
        rate = None
        if first_at is not None and last_at is not None and sampled > 1 and last_at > first_at:
            rate = (sampled - 1) / (last_at - first_at)
        self.send(Done(
            reason=reason,
            text="".join(text_parts),
            timings=Timings(
                ttft_s=(first_at - received) if first_at else None,
                prompt_s=(first_at - received) if first_at else None,
                tokens_per_s=rate,
                total_s=finished - received,
                prompt_tokens=len(tokens),
                cached_tokens=cached,
                completion_tokens=sampled,
            ),
            prompt=prompt,
            dropped_messages=dropped,
        ))


def _logprob(llm, token: int) -> float:
    import numpy as np

    logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
    top = float(logits.max())
    return float(logits[token] - top - np.log(np.exp(logits - top).sum()))


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _token_text(llm, token_id: int) -> str:
    if token_id < 0:
        return ""
    return llm._model.token_get_text(token_id)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "…"


if __name__ == "__main__":  # pragma: no cover - started by the client
    sys.exit("Start the engine through assistant.llm.EngineClient.")
