"""The window stays responsive, shows itself before the model is ready, and closes cleanly mid-work."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import Qt

from assistant.knowledge.base import KnowledgeBase
from assistant.ui.stall_probe import StallProbe
from tests.conftest import QWEN
from tests.knowledge.helpers import assert_consistent, write_corpus
from tests.ui.conftest import ANSWER_TIMEOUT_MS, window_threads
from tests.ui.test_documents_page import INDEX_TIMEOUT_MS, indexing_threads

ROOT = Path(__file__).resolve().parents[2]
LONG_QUESTION = "Write a very long story about a dragon who learns to cook. Use many paragraphs."


def start_indexing(qtbot, window, folder: Path, name: str) -> None:
    """Create a collection on the documents page and add `folder`, as a user does."""
    page = window.documents_page
    window.show_page("documents")
    page.name_edit.clear()
    qtbot.keyClicks(page.name_edit, name)
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    assert page.current() == name
    with qtbot.waitSignal(page.indexing_started, timeout=INDEX_TIMEOUT_MS):
        page.add_paths([folder])
    window.show_page("chat")


def test_stall_probe_measures_a_blocked_event_loop(qtbot):
    probe = StallProbe(interval_ms=10)
    probe.start()
    qtbot.waitUntil(lambda: probe.ticks >= 5)
    busy_until = time.perf_counter() + 0.3
    while time.perf_counter() < busy_until:  # the UI thread is kept busy: the stall being measured
        pass
    qtbot.waitUntil(lambda: probe.ticks >= 7)
    assert 250 <= probe.stop() < 1000


def test_the_ui_keeps_responding_while_answering_and_indexing(qtbot, smol_core, make_window, tmp_path):
    smol_core.settings.generation.max_tokens = 120
    window = make_window()
    # The first indexing run loads the embedder (onnxruntime; torch never enters the app) ...
    write_corpus(tmp_path / "first", files=2)
    first = StallProbe(interval_ms=10)
    first.start()
    start_indexing(qtbot, window, tmp_path / "first", "First")
    qtbot.waitUntil(lambda: not window.documents_page.indexing, timeout=INDEX_TIMEOUT_MS)
    first_longest = first.stop()
    print(f"\nlongest UI stall during the first indexing run: {first_longest:.0f} ms over {first.ticks} ticks")
    assert first.ticks > 5 and first_longest < 1000
    # ... then the steady state: a long answer and a larger indexing run at the same time.
    write_corpus(tmp_path / "many", files=40, paragraphs=10, seed=9)

    probe = StallProbe(interval_ms=10)
    probe.start()
    start_indexing(qtbot, window, tmp_path / "many", "Many")
    assert window.status_bar.indexing_label.isVisible()  # the status bar says it is indexing
    qtbot.keyClicks(window.input, LONG_QUESTION)
    assert window.send_button.isEnabled(), (window.status_label.text(), window.input.toPlainText())
    # Both compete for the same cores (and llama.cpp's threads wait actively): the answer is slow here.
    with qtbot.waitSignal(window.answer_finished, timeout=4 * ANSWER_TIMEOUT_MS) as answered:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.documents_page.indexing, timeout=INDEX_TIMEOUT_MS)
    longest = probe.stop()
    message = answered.args[0]
    print(f"longest UI stall while answering ({message.completion_tokens} tokens at "
          f"{message.tokens_per_s:.0f} tok/s) and indexing 40 files: {longest:.0f} ms over {probe.ticks} ticks")
    assert message.status == "complete" and message.completion_tokens > 20
    assert not window.status_bar.indexing_label.isVisible()
    assert probe.ticks > 100
    assert longest < 1000


def test_closing_while_indexing_and_answering_exits_cleanly(qtbot, smol_core, make_window, tmp_path):
    smol_core.settings.generation.max_tokens = 400
    window = make_window()
    write_corpus(tmp_path / "docs", files=60, paragraphs=10, seed=3)
    start_indexing(qtbot, window, tmp_path / "docs", "Docs")
    # Wait until files are being embedded (the embedder is loaded), then ask and close mid-answer.
    qtbot.waitUntil(lambda: " of " in window.status_bar.indexing_label.text(), timeout=INDEX_TIMEOUT_MS)
    qtbot.keyClicks(window.input, LONG_QUESTION)
    with qtbot.waitSignal(window.answer_started, timeout=ANSWER_TIMEOUT_MS) as started:
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.chat_view.live_text()) > 10, timeout=ANSWER_TIMEOUT_MS)
    assert window.documents_page.indexing
    window.close()

    assert window_threads() == [] and indexing_threads() == []
    answer = smol_core.conversations.messages(started.args[0])[-1]
    assert answer.status == "stopped" and answer.content
    kb = KnowledgeBase(smol_core)
    assert_consistent(kb)  # the cut-off run left nothing half-written: the next run resumes
    assert kb.collections.status("Docs").indexed < 60
    assert kb.collections.interrupted() == ["Docs"]

    # The next start continues the run by itself, once its model is ready.
    again = make_window()
    qtbot.waitUntil(lambda: kb.collections.interrupted() == [] and not again.documents_page.indexing,
                    timeout=4 * INDEX_TIMEOUT_MS)
    assert kb.collections.status("Docs").indexed == 60
    assert_consistent(kb)


def test_the_window_paints_before_the_model_is_ready(qtbot, core):
    """`python -m assistant` as a user starts it: the first paint comes first, the model after."""
    core.settings.default_model = QWEN
    core.settings.save(core.paths)
    log = core.paths.logs / "assistant.log"
    process = subprocess.Popen([sys.executable, "-m", "assistant"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: log.exists() and "ready (loaded in" in log.read_text(), timeout=120_000)
        process.send_signal(signal.SIGINT)  # Ctrl-C closes the window cleanly
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text()
    paint = re.search(r"first paint ([\d.]+) s after the process started", text)
    ready = re.search(r"model \S+ ready \(loaded in ([\d.]+)s\)", text)
    assert paint and ready, text
    assert paint.start() < ready.start()  # the window was up before the model
    print(f"\nprocess start to first paint: {float(paint.group(1)):.2f} s; "
          f"the model loaded after it in {float(ready.group(1)):.2f} s")
    assert float(paint.group(1)) < 30


def test_the_document_libraries_are_preloaded_in_the_background_after_the_model(qtbot, smol_core, make_window,
                                                                             monkeypatch):
    """So the first indexing run or document question does not import them while the window is used."""
    import threading

    from assistant.knowledge import base

    threads = []
    real = base.preload_libraries
    monkeypatch.setattr(base, "preload_libraries", lambda: threads.append(threading.current_thread().name) or real())
    window = make_window()
    assert not window.knowledge_preloaded.is_set()  # not before the model is ready + the delay
    qtbot.waitUntil(window.knowledge_preloaded.is_set, timeout=60_000)
    assert threads == ["knowledge-preload"]  # once, off the UI thread
    assert all(name in sys.modules for name in base.HEAVY_LIBRARIES)
