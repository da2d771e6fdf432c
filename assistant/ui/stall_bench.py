"""The longest UI-thread stall while the window answers and indexes at once (bench row 8).

    ASSISTANT_HOME=... QT_QPA_PLATFORM=offscreen python -m assistant.ui.stall_bench --json out.json

Drives the real window as tests/ui/test_window_responsiveness.py does: loads the
home's default model, indexes a small folder first under one StallProbe (the first
run in a process loads the embedder: onnxruntime, never torch), then starts a
StallProbe, starts indexing a larger folder and asks for a long answer at the
same time, and stops the probe when both are done. Writes the figures as JSON.
Run as its own process so the suite that calls it stays free of Qt.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from assistant.ui.stall_probe import StallProbe

LONG_QUESTION = "Write a very long story about a dragon who learns to cook. Use many paragraphs."


def wait_until(predicate, timeout_s: float, what: str) -> None:
    """Run the event loop until `predicate()` holds (checked every 20 ms)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def start_indexing(window, folder: Path, name: str) -> None:
    """Create a collection on the documents page and add `folder`, as a user does."""
    page = window.documents_page
    window.show_page("documents")
    page.name_edit.setText(name)
    page.create_button.click()
    started = []
    page.indexing_started.connect(started.append)
    page.add_paths([folder])
    wait_until(lambda: started, 120, "indexing to start")
    window.show_page("chat")


def run(files: int, max_tokens: int, timeout_s: float = 600.0) -> dict:
    from assistant.bench.synthetic_docs import seed_paragraphs, write_folder
    from assistant.core import Core
    from assistant.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    core = Core()
    core.settings.generation.max_tokens = max_tokens
    window = MainWindow(core, owns_core=True)
    ready, answers = [], []
    window.model_ready.connect(ready.append)
    window.model_failed.connect(lambda text: ready.append(RuntimeError(text)))
    window.answer_finished.connect(answers.append)
    window.answer_failed.connect(lambda text: answers.append(RuntimeError(text)))
    window.show()
    try:
        wait_until(lambda: ready, 180, "the model")
        if isinstance(ready[0], Exception):
            raise ready[0]
        with tempfile.TemporaryDirectory(prefix="assistant-bench-stall-") as tmp:
            seed = seed_paragraphs(None)
            write_folder(Path(tmp) / "warm", seed, pdfs=0, docx=0, markdown=2, words=300)
            write_folder(Path(tmp) / "many", seed, pdfs=0, docx=0, markdown=files, words=600, rng_seed=9)
            # The user opens the Documents page first; its first layout is the page switch's cost,
            # not indexing's, so it happens before the probe starts.
            window.show_page("documents")
            wait_until(lambda: window.documents_page.isVisible(), 10, "the documents page")
            # As a user who takes a few seconds to get here: the app has preloaded the libraries.
            wait_until(window.knowledge_preloaded.is_set, 60, "the document libraries")
            first = StallProbe(interval_ms=10)
            first.start()
            start_indexing(window, Path(tmp) / "warm", "Warm")
            wait_until(lambda: not window.documents_page.indexing, timeout_s, "the first indexing run")
            first_longest = first.stop()

            probe = StallProbe(interval_ms=10)
            probe.start()
            t0 = time.perf_counter()
            start_indexing(window, Path(tmp) / "many", "Many")
            window.input.setPlainText(LONG_QUESTION)
            window.send_button.click()
            wait_until(lambda: answers, timeout_s, "the answer")
            wait_until(lambda: not window.documents_page.indexing, timeout_s, "the indexing")
            longest = probe.stop()
            seconds = time.perf_counter() - t0
        message = answers[0]
        if isinstance(message, Exception):
            raise message
        return {"longest_stall_ms": longest, "ticks": probe.ticks, "interval_ms": probe.interval_ms,
                "first_indexing_stall_ms": first_longest, "first_indexing_ticks": first.ticks,
                "seconds": seconds, "files": files, "model": core.model.name if core.model else None,
                "completion_tokens": message.completion_tokens, "tokens_per_s": message.tokens_per_s,
                "answer_status": message.status}
    finally:
        window.close()
        app.processEvents()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=120)
    args = parser.parse_args(argv)
    result = run(args.files, args.max_tokens)
    args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
