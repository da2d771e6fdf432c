"""An imported model whose file went missing: what the models page is told, Locate… (the same file
where it lies now, and nothing else) and Remove, over the real core and real GGUF files."""

from __future__ import annotations

import shutil
import threading

import pytest

from assistant.errors import UserFacingError
from assistant.models.fit import Memory
from assistant.models.manage import ImportCancelled, delete_model, import_model
from assistant.models.overview import installed_view
from assistant.models.relocate import relocate_model
from tests.models.tiny_gguf import write_tiny_gguf

MEMORY = Memory(available=8 * 10**9, total=16 * 10**9)


@pytest.fixture
def moved(core, tmp_path):
    """A model imported in place from Documents, whose file the user then moved to Archive."""
    for folder in ("Documents", "Archive"):
        (tmp_path / folder).mkdir()
    first = write_tiny_gguf(tmp_path / "Documents" / "contracts.gguf")
    model = import_model(core, first, reference=True, name="Contracts")
    return model, shutil.move(first, tmp_path / "Archive" / "contracts.gguf")


def _item(core, name):
    return next(i for i in installed_view(core, memory=MEMORY) if i.name == name)


def test_a_moved_import_says_where_it_was_and_offers_locate_not_a_download(core, moved):
    model, _now = moved
    item = _item(core, model.name)
    assert item.missing and item.locatable and item.fit is None  # a fit for a file that is not there misleads
    assert item.problem == (f"The file of this model is missing: it was at {model.path}. If you moved it, choose "
                            "Locate… to show where it is now; if you no longer need it, choose Remove.")
    assert not item.recommended


def test_locate_accepts_the_same_file_where_it_lies_now(core, moved):
    model, now = moved
    seen = []
    located = relocate_model(core, model.name, now, progress=lambda done, total: seen.append((done, total)))
    assert located.path == now.resolve() and core.registry.get(model.name).path == now.resolve()
    assert seen[-1] == (now.stat().st_size, now.stat().st_size)
    item = _item(core, model.name)
    assert item.problem is None and not item.missing and item.fit is not None
    core.load_model(model.name)  # it is usable again
    assert core.model.name == model.name


def test_locate_refuses_another_file_and_changes_nothing(core, moved, tmp_path):
    model, now = moved
    other = write_tiny_gguf(tmp_path / "other.gguf", seed=7)  # the same size, other contents
    assert other.stat().st_size == now.stat().st_size
    with pytest.raises(UserFacingError, match="its contents differ from the file that was imported"):
        relocate_model(core, model.name, other)
    bigger = write_tiny_gguf(tmp_path / "bigger.gguf", layers=3)
    with pytest.raises(UserFacingError, match=r"is not the file of Tiny Random Llama: it is \d+ kB, and the model"):
        relocate_model(core, model.name, bigger)
    with pytest.raises(UserFacingError, match="There is no file at"):
        relocate_model(core, model.name, tmp_path / "nowhere.gguf")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ImportCancelled):
        relocate_model(core, model.name, now, cancel=cancel)
    assert core.registry.get(model.name).path == model.path  # still the old, missing place
    assert _item(core, model.name).missing


def test_remove_forgets_a_missing_import_and_says_its_file_was_gone(core, moved):
    model, now = moved
    result = delete_model(core, model.name)
    assert result.file_missing and not result.file_deleted
    assert result.message == f"Removed {model.name} from the app. Its file {model.path} was already gone."
    assert now.exists() and core.registry.get(model.name) is None


def test_a_damaged_import_offers_locate_too(core, moved, tmp_path):
    model, now = moved
    model.path.write_bytes(now.read_bytes()[:1000])  # a cut copy where the file was
    item = _item(core, model.name)
    assert item.locatable and not item.missing and item.problem.startswith(
        "The model Tiny Random Llama is damaged: its file is 1,000 bytes")
    assert item.problem.endswith("If you have an intact copy, choose Locate… to use it; otherwise choose Delete.")
    relocate_model(core, model.name, now)
    assert _item(core, model.name).problem is None
