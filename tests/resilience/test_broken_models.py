"""A model file that was fine when installed and broke afterwards (a disk error, a half-finished copy
over it, another program): loading it gives a sentence the user can act on, and the app carries on.

Import-time checks of the same three files: tests/models/test_manage.py::test_import_rejects_files_...;
the engine alone: tests/llm/test_engine.py::test_broken_model_files_give_a_clear_error. Here the
whole path runs: registry, Core.load_model, the engine child, the CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant.chat import Finished, ask
from assistant.errors import ModelUnavailable
from assistant.models.manage import import_model
from tests.conftest import SMOL
from tests.models.tiny_gguf import write_tiny_gguf


def _truncate(path, size):
    with path.open("r+b") as fh:
        fh.truncate(size)


def _overwrite(path, keep_header: bool):
    # Same size, so the registry's size check passes and the engine is the one to find out.
    size = path.stat().st_size
    head = path.read_bytes()[:24] if keep_header else b""
    path.write_bytes(head + os.urandom(size - len(head)))


DAMAGE = {
    "truncated": (lambda p: _truncate(p, p.stat().st_size // 2), "is damaged: its file is"),
    "zero bytes": (lambda p: _truncate(p, 0), "is damaged: its file is 0 bytes"),
    "random bytes": (lambda p: _overwrite(p, keep_header=False), "is not a GGUF model file"),
    "garbage after a valid header": (lambda p: _overwrite(p, keep_header=True), "could not be loaded"),
}


@pytest.fixture
def app(app_paths, starter_registry):
    """A Core with an engine of its own: a model that crashes the child must not take the shared one."""
    from assistant.core import Core

    with Core(app_paths) as core:
        for model in starter_registry.values():
            core.registry.register(model)
        core.settings.generation.max_tokens = 8
        yield core


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_model_broken_after_install_gives_a_clear_error_and_the_app_keeps_running(app, tmp_path, damage):
    make, expected = DAMAGE[damage]
    installed = import_model(app, write_tiny_gguf(tmp_path / "Tiny.gguf"))
    app.load_model(SMOL)  # a good model is loaded when the user picks the broken one
    make(installed.path)

    with pytest.raises(ModelUnavailable, match=expected) as caught:
        app.load_model(installed.name)
    assert str(caught.value).count("\n") == 0 and "Traceback" not in str(caught.value)
    assert caught.value.hint  # what to do about it

    # The CLI says the same in one line, and exits with a failure rather than a traceback.
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--model", installed.name, "Hi"],
                         capture_output=True, text=True, timeout=180)
    assert cli.returncode == 1 and cli.stderr.startswith("error: "), cli.stderr
    assert expected in cli.stderr and "something went wrong" not in cli.stderr and "Traceback" not in cli.stderr

    # The app carries on: the good model loads (again) and answers, and the answer is stored.
    app.load_model(SMOL)
    events = list(ask(app, "Say hello."))
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.message.status == "complete" and finished.message.content
