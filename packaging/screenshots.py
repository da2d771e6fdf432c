"""`make screenshot`: run the app through its main flows and save a PNG of each under docs/screenshots/.

In a fresh app home (a temporary folder, so the user's own data is never
touched): ask the default model; create a collection from a folder of a PDF, a
DOCX and a Markdown file; ask about it; click a citation so the source opens at
its page; show the Models page and the settings; measure the models' speed and
open the size/speed selector, then switch to the fastest model; download a model
from a fake hub on 127.0.0.1 (tests/models/hub_server.py, throttled, so the
picture catches it mid-way), then cancel it; the chat and its sources again in
the dark theme. The README's docs/screenshot-chat.png is the chat with the
Sources panel open.

    xvfb-run -a .venv/bin/python packaging/screenshots.py [--out docs/screenshots] [--home DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CHAT_QUESTION = ("Show the first five prime numbers and their squares as a Markdown table, then one line "
                 "of Python that prints them.")
DOCUMENT_QUESTION = "When does the heating run?"
# The 0.5B default often answers a document question without its [n]; the 1.5B starter cites.
DOCUMENT_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
FAST_MODEL = "smollm2-135m-instruct-q4_1"
# The hub serves the 0.5B starter's own file as a catalog entry of its own (the installed starter
# stays untouched); slow enough that the download is caught with its speed and time left.
HUB_SOURCE = "qwen2.5-coder-0.5b-instruct-q4_k_m"
HUB_REPO = "local-hub/Qwen2.5-Coder-0.5B-Instruct-GGUF"
HUB_BYTES_PER_S = 8_000_000
HUB_SHOT_AT = 0.35  # the fraction downloaded when the picture is taken
SIZE = (1440, 900)
STEP_TIMEOUT_MS = int(os.environ.get("SCREENSHOT_STEP_TIMEOUT_MS", 300_000))


def write_documents(folder: Path) -> Path:
    """The handbook PDF of the UI tests, a DOCX of office rules and a Markdown file of notes."""
    from docx import Document

    from tests.knowledge.corpus import pdf_bytes
    from tests.ui.answers import PDF_PAGES, notes_markdown

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tenant-handbook.pdf").write_bytes(pdf_bytes(PDF_PAGES))
    (folder / "flat-notes.md").write_text(notes_markdown(), encoding="utf-8")
    doc = Document()
    doc.add_heading("Moving in checklist", 1)
    for line in ("Read the electricity and water meters on the day you move in and send the figures to the "
                 "caretaker within a week.",
                 "Keys: two front-door keys and one letter-box key are handed over at the signing. A lost "
                 "key is replaced for 40 euros.",
                 "The landlord must be told in writing before any wall is drilled or painted."):
        doc.add_paragraph(line)
    doc.save(folder / "moving-in.docx")
    return folder


class Shooter:
    def __init__(self, app, window, out: Path):
        self.app, self.window, self.out = app, window, out
        self.shots: list[Path] = []

    def wait(self, signal, *, until=None, timeout_ms: int = STEP_TIMEOUT_MS):
        """Run the event loop until `signal` fires (and `until(*args)` holds); returns its arguments."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop, got = QEventLoop(), []

        def on_signal(*args):
            if until is None or until(*args):
                got.append(args)
                loop.quit()

        signal.connect(on_signal)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        signal.disconnect(on_signal)
        if not got:
            raise TimeoutError(f"waited {timeout_ms / 1000:.0f} s for {signal}; the window says: "
                               f"{self.window.status_label.text()!r}, {self.window.banner.text!r}, "
                               f"{len(self.window.chat_view.live_text())} characters written")
        return got[0]

    def settle(self, ms: int = 300) -> None:
        """Let layouts and repaints finish (wrapped labels take a few passes)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shoot(self, name: str, widget=None) -> Path:
        self.settle()
        path = self.out / f"{name}.png"
        (widget or self.window).grab().save(str(path))
        self.shots.append(path)
        print(f"saved {path}")
        return path

    def ask(self, text: str):
        window = self.window
        window.input.setPlainText(text)
        window.send()
        (message,) = self.wait(window.answer_finished)
        return message


def hub_catalog(core):
    """A fake hub serving an installed starter's file, and the app's catalog plus the entry for it (same
    size and SHA-256 as the file served); the window's pages are made to read this catalog."""
    import dataclasses

    from assistant.models.catalog import load_catalog
    from assistant.ui import model_selector, models_page
    from tests.models.hub_server import FakeHub

    model = core.registry.get(HUB_SOURCE)
    path = Path(model.path)
    catalog = load_catalog()
    base = next(e for e in catalog if e.name == HUB_SOURCE)
    entry = dataclasses.replace(base, name=f"{HUB_SOURCE}-hub", display_name=f"{base.display_name}, local hub",
                                repo_id=HUB_REPO, filename=f"hub-{path.name}", sha256=model.sha256,
                                size_bytes=path.stat().st_size,
                                description="The same file as the starter, served by a test hub on 127.0.0.1.")
    hub = FakeHub(bytes_per_s=HUB_BYTES_PER_S)
    hub.add(HUB_REPO, entry.filename, path, model.sha256)
    hub.start()
    os.environ["HF_ENDPOINT"] = hub.url
    entries = [entry, *catalog]
    models_page.load_catalog = model_selector.load_catalog = lambda: list(entries)
    return hub, entry


def run(out: Path, home: Path) -> list[Path]:
    os.environ["ASSISTANT_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from assistant.answer import cited_numbers
    from assistant.config import paths
    from assistant.core import Core
    from assistant.setup_models import install_starters

    app = QApplication.instance() or QApplication(sys.argv[:1])
    core = Core(paths())
    if not core.registry.all("chat"):
        print("installing the starter models into", home)
        install_starters(core)
    # Reproducible pictures: the same answers on every run (on the same model files).
    core.settings.generation.seed = 0
    core.settings.generation.temperature = 0.0
    core.settings.generation.max_tokens = 320
    core.settings.measure_in_background = False  # its status text would vary from run to run
    from assistant.ui.main_window import MainWindow

    hub, hub_entry = hub_catalog(core)
    window = MainWindow(core, owns_core=True)
    window.resize(*SIZE)
    shooter = Shooter(app, window, out)
    window.show()
    shooter.wait(window.model_ready)

    # 1. A question to the default model.
    shooter.ask(CHAT_QUESTION)
    shooter.shoot("01-chat")

    # 2. A collection from a folder of PDF, DOCX and Markdown.
    folder = write_documents(home / "Documents" / "Home")
    window.show_page("documents")
    page = window.documents_page
    page.name_edit.setText("Home")
    page.create_collection()
    page.add_paths([folder])
    shooter.wait(page.indexing_finished)
    shooter.shoot("02-documents")

    # 3. A question about it, with the Sources panel beside the answer; a citation opens the source.
    window.show_page("chat")
    window.new_chat()
    window.collection_picker.set_selected(["Home"])
    if DOCUMENT_MODEL in window.model_selector.names():
        window.model_selector.choose(DOCUMENT_MODEL)
        shooter.wait(window.model_ready)
    message = shooter.ask(DOCUMENT_QUESTION)
    numbers = cited_numbers(message.content, sum(1 for r in message.sources if r.get("in_prompt")))
    number = numbers[0] if numbers else 1
    window.chat_view.citation_clicked.emit(message.id, number)
    shooter.shoot("03-answer-with-sources")
    row = window.sources_panel.selected()
    if row is not None:
        viewer = window.sources_panel.open_source(row)
        viewer.resize(900, 760)
        shooter.wait(viewer.loaded)
        shooter.shoot("04-source-at-its-page", viewer)
        viewer.close()

    # 4. The models page and the settings.
    window.show_page("models")
    shooter.shoot("05-models")
    window.show_page("chat")
    dialog = window.open_settings()
    shooter.shoot("06-settings", dialog)
    dialog.reject()

    # 5. The selector with the smaller models measured here (the largest then shows an estimate from
    # them; measuring it too would add minutes), then the switch to the fastest.
    selector = window.model_selector
    names, measured = [n for n in selector.names() if n != DOCUMENT_MODEL], []
    for name in names:
        selector.measure(name)
    shooter.wait(selector.tasks.benches.finished, until=lambda outcome: measured.append(outcome) or
                 len(measured) == len(names))
    selector.show_popup()
    selector.preview(FAST_MODEL)
    shooter.shoot("07-selector", selector.popup)
    selector.choose(FAST_MODEL)
    shooter.wait(window.model_ready)
    shooter.shoot("08-model-switched")

    # 6. A download from the local hub, caught mid-way; then cancelled.
    window.show_page("models")
    page = window.models_page
    page.download(hub_entry.name)
    total = hub_entry.size_bytes
    shooter.wait(page.tasks.downloads.progress,
                 until=lambda _name, p: p.phase == "downloading" and p.bytes_done >= HUB_SHOT_AT * total)
    page.scroll.ensureWidgetVisible(page.catalog_rows[hub_entry.name], 0, 200)
    shooter.shoot("09-download")
    page.cancel_download(hub_entry.name)
    shooter.wait(page.tasks.downloads.finished)
    hub.stop()

    # 7. The chat and its sources in the dark theme.
    window.show_page("chat")
    core.settings.theme = "dark"
    window.apply_theme()
    window.chat_view.citation_clicked.emit(message.id, number)
    shooter.shoot("10-dark")
    core.settings.theme = "light"
    window.apply_theme()

    shutil.copyfile(out / "03-answer-with-sources.png", ROOT / "docs" / "screenshot-chat.png")
    print(f"saved {ROOT / 'docs' / 'screenshot-chat.png'}")
    window.close()
    return shooter.shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--home", type=Path, help="the app home to use (default: a new temporary folder)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.home:
        run(args.out, args.home)
        return 0
    with tempfile.TemporaryDirectory(prefix="assistant-screenshots-") as home:
        run(args.out, Path(home))
    return 0


if __name__ == "__main__":
    sys.exit(main())
