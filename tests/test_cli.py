"""The CLI as a user runs it: a real subprocess, the real engine and database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil

from assistant.store.conversations import Conversations
from assistant.store.db import open_database
from tests.conftest import LARGE, QWEN, SMOL


def run_cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


def test_ask_json_gives_a_correct_answer_with_real_timings(core):
    result = run_cli("ask", "--json", "--model", QWEN, "--seed", "1", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"answer", "model", "conversation_id", "sources", "timings"}
    assert "Paris" in out["answer"]
    assert out["model"] == QWEN and out["sources"] == []
    t = out["timings"]
    assert set(t) == {"ttft_s", "tokens_per_s", "prompt_tokens", "completion_tokens", "total_s"}
    assert 0 < t["ttft_s"] < t["total_s"] and t["tokens_per_s"] > 0 and t["completion_tokens"] > 0
    assert out["status"] == "complete" and out["error"] is None
    cut = json.loads(run_cli("ask", "--json", "--model", SMOL, "--max-tokens", "3", "Tell me a long story.").stdout)
    assert cut["status"] == "complete" and cut["error"] == "The answer reached the maximum length and was cut off."
    # The answer was stored with the conversation.
    messages = core.conversations.messages(out["conversation_id"])
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == out["answer"] and messages[1].status == "complete"


def test_ask_streams_plain_text_and_continues_a_conversation(core):
    first = run_cli("ask", "--json", "--model", SMOL, "--max-tokens", "20", "Hello, my name is Ada.")
    cid = json.loads(first.stdout)["conversation_id"]
    second = run_cli("ask", "--model", SMOL, "--max-tokens", "20", "--conversation", str(cid), "Thanks!")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip()
    cut = run_cli("ask", "--model", SMOL, "--max-tokens", "3", "Tell me a long story.")
    assert cut.returncode == 0 and cut.stdout.strip()
    assert cut.stderr.strip().endswith("[The answer reached the maximum length and was cut off.]"), cut.stderr
    assert len(core.conversations.messages(cid)) == 4


def test_errors_go_to_stderr_with_a_non_zero_exit(core):
    result = run_cli("ask", "--model", "no-such-model", "hi")
    assert result.returncode == 1
    assert "No installed model is called 'no-such-model'" in result.stderr
    assert result.stdout == ""


def test_a_failed_answer_is_said_once_on_stderr(core):
    result = run_cli("ask", "--model", SMOL, "--ctx", "512", "--max-tokens", "32", "word " * 2000)
    assert result.returncode == 1
    assert result.stderr.count("The message is too long for this model") == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: The message is too long")
    # 256 tokens all kept for the answer: no question fits, whatever its length.
    tiny = run_cli("ask", "--model", SMOL, "--ctx", "256", "Hi")
    assert tiny.returncode == 1 and "The context window is too small to hold any question" in tiny.stderr


def test_conversation_commands_say_when_there_is_nothing_to_show(core):
    empty = run_cli("conversations", "list")
    assert empty.returncode == 0 and empty.stdout == "" and "No conversations yet." in empty.stderr
    core.conversations.add_message(core.conversations.create("Rivers"), "user", "How long is the Loire?")
    listed = run_cli("conversations", "list")
    assert "Rivers" in listed.stdout and listed.stderr == ""
    assert "How long is the [Loire]?" in run_cli("conversations", "search", "loire").stdout
    none = run_cli("conversations", "search", "Danube")
    assert none.returncode == 0 and none.stdout == "" and "No message contains 'Danube'." in none.stderr
    symbols = run_cli("conversations", "search", "++")
    assert symbols.returncode == 1 and "Give a word to search for" in symbols.stderr


def test_models_list_shows_the_starter_models(core):
    result = run_cli("models", "list")
    assert result.returncode == 0
    for name in (SMOL, QWEN, "all-minilm-l6-v2"):
        assert name in result.stdout
    assert "Q4_K_M" in result.stdout and "32,768" in result.stdout and "491 MB" in result.stdout
    # Sizes read as on the models page (models/units.py): the 1.5B's is "1.1 GB", not "1,117 MB".
    assert "98 MB" in result.stdout and "1,117 MB" not in result.stdout
    assert (LARGE in result.stdout) == ("1.1 GB" in result.stdout)


def test_chat_is_interactive_and_keeps_the_conversation(core):
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "chat", "--model", SMOL, "--max-tokens", "16"],
                          input="Hi there\nWhat did I just say?\n", capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("assistant>") == 2
    (conversation,) = core.conversations.list()
    assert [m.role for m in core.conversations.messages(conversation["id"])] == ["user", "assistant"] * 2


def test_a_process_killed_mid_answer_leaves_the_database_intact(core, app_paths):
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ask", "--model", SMOL, "--max-tokens", "2000",
                             "--temperature", "0.9", "Write a very long story about a dragon."],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db_path = app_paths.database
    partial = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(partial) < 40:
        row = sqlite3.connect(db_path).execute(
            "select content from messages where role = 'assistant'").fetchone()
        partial = row[0] if row and row[0] else ""
        time.sleep(0.1)
    children = psutil.Process(proc.pid).children()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(partial) >= 40, "the answer was never flushed while streaming"
    # The engine child does not go on generating for nobody: it ends with its parent.
    assert children, "the engine child was not found"
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"still running after the app was killed: {alive}"

    assert sqlite3.connect(db_path).execute("pragma integrity_check").fetchone()[0] == "ok"
    store = Conversations(open_database(db_path))
    assert store.recover_interrupted() == 1
    (conversation,) = store.list()
    user, answer = store.messages(conversation["id"])
    assert user.content.startswith("Write a very long story")
    assert answer.status == "stopped" and answer.content.startswith(partial[:40])


def test_changing_sampling_settings_does_not_reload_the_model(smol_core):
    from assistant.config import GenerationSettings

    before = smol_core.engine.loaded
    hotter = GenerationSettings(**{**smol_core.settings.generation.to_dict(), "temperature": 1.3, "top_k": 5})
    assert smol_core.load_model(None, hotter) is before  # same model, same load parameters
    bigger = GenerationSettings(**{**hotter.to_dict(), "n_ctx": 1024})
    assert smol_core.load_model(None, bigger) is not before
    assert smol_core.engine.loaded.n_ctx == 1024
    # A context past what the model was trained on is cut to it (SmolLM2: 8,192), once.
    trained = smol_core.registry.get(SMOL).context_length
    huge = GenerationSettings(**{**hotter.to_dict(), "n_ctx": 131_072})
    loaded = smol_core.load_model(SMOL, huge)
    assert trained == 8192 and loaded.n_ctx == trained == loaded.n_ctx_train
    assert smol_core.load_model(SMOL, huge) is loaded  # not loaded again for the same request
    assert smol_core.engine.loaded_settings.n_ctx == 131_072  # as asked: the window's settings still match


def _engine_child(pid: int) -> psutil.Process:
    (engine,) = [p for p in psutil.Process(pid).children() if "spawn_main" in " ".join(p.cmdline())]
    return engine


def test_chat_goes_on_after_the_engine_is_killed_mid_answer(core):
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat", "--model", SMOL, "--max-tokens", "2000",
                             "--seed", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    proc.stdin.write("Write a very long story about a dragon.\n")
    proc.stdin.flush()
    seen = ""
    while "assistant> " not in seen or len(seen.split("assistant> ", 1)[1]) < 20:
        seen += proc.stdout.read(1)  # the answer is flushed token by token
    _engine_child(proc.pid).kill()
    out, err = proc.communicate("What is 2 + 2?\n", timeout=180)
    assert proc.returncode == 0, err
    assert "[error: The model engine stopped unexpectedly" in err  # why the answer ended, not a bare [error]
    assert "No model is loaded" not in err
    (conversation,) = core.conversations.list()
    first, crashed, second, answered = core.conversations.messages(conversation["id"])
    assert crashed.status == "error" and crashed.content.strip()  # what streamed before the crash is kept
    assert second.content == "What is 2 + 2?"
    assert answered.status == "complete" and answered.content.strip()


def test_chat_takes_a_line_typed_in_another_encoding(core):
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "chat", "--model", SMOL, "--max-tokens", "8"],
                          input="Caf\xe9 au lait?\nAnd tea?\n".encode("latin-1"), capture_output=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    (conversation,) = core.conversations.list()
    questions = [m.content for m in core.conversations.messages(conversation["id"]) if m.role == "user"]
    assert questions == ["Caf\ufffd au lait?", "And tea?"]


def test_generation_settings_out_of_range_are_refused_before_anything_runs(core):
    for option, value, says in [("--max-tokens", "0", "at least 1"), ("--max-tokens", "-5", "at least 1"),
                                ("--temperature", "-1", "at least 0"), ("--temperature", "nan", "at least 0"),
                                ("--top-p", "1.5", "above 0 and at most 1"), ("--ctx", "-5", "at least 0"),
                                ("--threads", "0", "at least 1"), ("--seed", "-1", "at least 0")]:
        result = run_cli("ask", "--model", SMOL, option, value, "hi")
        assert result.returncode == 2 and f"argument {option}: must be {says}" in result.stderr, result.stderr
    assert core.conversations.list() == []  # nothing was asked
    result = run_cli("ask", "--model", SMOL, "--max-tokens", "3", "--temperature", "0", "--top-k", "0",
                     "--ctx", "0", "--seed", str(2**32 - 1), "hi")
    assert result.returncode == 0, result.stderr  # the edges are allowed


def test_a_damaged_database_says_so_instead_of_something_went_wrong(core, app_paths):
    core.conversations.add_message(core.conversations.create("kept"), "user", "kept words")
    db = sqlite3.connect(app_paths.database)
    db.execute("pragma wal_checkpoint(truncate)")
    page_size = db.execute("pragma page_size").fetchone()[0]
    (root,) = db.execute("select rootpage from sqlite_master where name = 'conversations'").fetchone()
    db.close()
    with open(app_paths.database, "r+b") as f:  # the table's first page, overwritten with garbage
        f.seek((root - 1) * page_size)
        f.write(b"\xa5" * page_size)
    for args in (["conversations", "list"], ["conversations", "search", "kept"]):
        result = run_cli(*args)
        assert result.returncode == 1
        assert f"The app database at {app_paths.database} is damaged" in result.stderr, result.stderr
        assert "something went wrong" not in result.stderr


def test_ask_in_a_conversation_that_does_not_exist_is_refused(core):
    for cid in ("99999", "-1"):
        result = run_cli("ask", "--model", SMOL, "--conversation", cid, "hi")
        assert result.returncode == 1 and f"There is no conversation {cid}." in result.stderr
    assert core.conversations.list() == []  # not silently a new conversation


def test_an_answer_stopped_with_ctrl_c_is_kept_and_exits_130(core):
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ask", "--model", SMOL, "--max-tokens", "2000", "--seed", "1",
                             "Write a very long story about a dragon."], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = ""
    while len(seen) < 20:
        seen += proc.stdout.read(1)  # the answer is flushed token by token
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "[stopped]" in err
    (conversation,) = core.conversations.list()
    _question, answer = core.conversations.messages(conversation["id"])
    assert answer.status == "stopped" and answer.content.startswith(seen.strip()[:10])
