"""Importing, deleting and describing models, with real GGUF files written by the gguf package."""

from __future__ import annotations

import os
import shutil
import struct
import threading

import pytest

from assistant.config import Settings
from assistant.errors import ModelUnavailable, UserFacingError
from assistant.models.catalog import find_entry
from assistant.models.gguf_header import read_header
from assistant.models.manage import ImportCancelled, delete_model, import_model, model_info
from assistant.models.registry import sha256_file
from assistant.store.model_speed import SpeedStore
from tests.conftest import QWEN, SMOL
from tests.models.tiny_gguf import write_tiny_gguf


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "outside").mkdir()
    return write_tiny_gguf(tmp_path / "outside" / "Tiny-Random.F32.gguf")


def test_import_copies_validates_hashes_and_registers(core, tiny):
    seen = []
    model = import_model(core, tiny, progress=lambda done, total: seen.append((done, total)))
    assert model.name == "tiny-random.f32" and model.source == "import"
    assert model.path == core.paths.models / "Tiny-Random.F32.gguf" and tiny.exists()
    assert model.path.read_bytes() == tiny.read_bytes()
    assert model.sha256 == sha256_file(tiny) and model.size_bytes == tiny.stat().st_size
    assert (model.architecture, model.quantization, model.context_length) == ("llama", "ALL_F32", 512)
    assert model.display_name == "Tiny Random Llama" and model.has_chat_template
    assert core.registry.get(model.name) == model
    assert seen[-1] == (tiny.stat().st_size, tiny.stat().st_size)
    assert not list(core.paths.models.glob("*.partial"))
    info = model_info(core, model.name)
    assert info.in_models_folder and (info.layers, info.kv_heads, info.head_dim, info.vocab_size) == (2, 2, 16, 264)
    # The same file again is refused; a different file with the same stem gets its own name and file.
    with pytest.raises(UserFacingError, match="already installed as tiny-random.f32"):
        import_model(core, tiny)
    (tiny.parent / "again").mkdir()
    other = write_tiny_gguf(tiny.parent / "again" / tiny.name, seed=1)
    second = import_model(core, other)
    assert second.name == "tiny-random.f32-2" and second.path.name == "Tiny-Random.F32-2.gguf"
    # A catalog model's name is not taken (it would show as that model installed); accents are folded.
    named = import_model(core, write_tiny_gguf(tiny.parent / "third.gguf", seed=2), name="qwen3-8b-q8_0")
    assert find_entry("qwen3-8b-q8_0") is not None and named.name == "qwen3-8b-q8_0-2"
    accented = import_model(core, write_tiny_gguf(tiny.parent / "Modèle ünïcode 模型.gguf", seed=3))
    assert accented.name == "modele-unicode"


def test_import_by_reference_leaves_the_file_where_it_is_and_delete_keeps_it(core, tiny):
    model = import_model(core, tiny, reference=True, name="My Tiny")
    assert model.name == "my-tiny" and model.path == tiny.resolve()
    assert list(core.paths.models.iterdir()) == []  # nothing copied
    assert not model_info(core, "my-tiny").in_models_folder
    result = delete_model(core, "my-tiny")
    assert not result.file_deleted and result.freed_bytes == 0
    assert tiny.exists() and core.registry.get("my-tiny") is None
    assert "left on disk" in result.message


def test_a_file_name_that_is_not_utf8_is_copied_under_a_clean_name_and_refused_in_place(core, tiny, tmp_path):
    odd = tmp_path / os.fsdecode(b"caf\xe9.gguf")  # a Latin-1 name from an old disk or archive
    shutil.copyfile(tiny, odd)
    with pytest.raises(UserFacingError, match="not valid UTF-8"):
        import_model(core, odd, reference=True)
    model = import_model(core, odd)
    assert model.path == core.paths.models / "caf_.gguf" and model.name == "caf"
    assert core.registry.get("caf").path == model.path
    assert sorted(p.name for p in core.paths.models.iterdir()) == ["caf_.gguf"]


def _truncate(src, dst, size):
    return _write(dst, src.read_bytes()[:size])


@pytest.mark.parametrize("make, message", [
    (lambda t, d: _truncate(t, d / "cut-data.gguf", t.stat().st_size - 1000), "is truncated: its header describes"),
    (lambda t, d: _truncate(t, d / "cut-header.gguf", 600), "damaged"),
    (lambda t, d: _write(d / "noise.gguf", os.urandom(100_000)), "not a GGUF model file"),
    (lambda t, d: _write(d / "empty.gguf", b""), "is empty"),
    (lambda t, d: write_tiny_gguf(d / "no-template.gguf", chat_template=None), "no chat template"),
    (lambda t, d: d / "nowhere.gguf", "There is no file"),
], ids=["truncated data", "truncated header", "random bytes", "zero bytes", "no chat template", "missing"])
def test_import_rejects_files_that_are_not_usable_models(core, tiny, tmp_path, make, message):
    bad = make(tiny, tmp_path)
    with pytest.raises(UserFacingError, match=message):
        import_model(core, bad)
    assert [m.source for m in core.registry.all()].count("import") == 0
    assert sorted(p.name for p in core.paths.models.iterdir()) == []


def _patched(src, dst, find: bytes, skip: int, data: bytes):
    """A copy of `src` with `data` written `skip` bytes after the first `find`: one damaged spot."""
    raw = bytearray(src.read_bytes())
    at = raw.index(find) + skip
    raw[at:at + len(data)] = data
    return _write(dst, bytes(raw))


def test_import_rejects_a_damaged_header_with_a_sentence_not_a_crash(core, tiny, tmp_path):
    # A byte that is not UTF-8 inside the chat template: the gguf package fails only when the field is read.
    bad_text = _patched(tiny, tmp_path / "bad-text.gguf", b"{% for m in messages", 3, b"\xff")
    # The first vocabulary string claims 2**64 - 1 bytes: the header walk jumps past anything an offset can hold.
    key = b"tokenizer.ggml.tokens"
    huge = _patched(tiny, tmp_path / "huge-string.gguf", key, len(key) + 4 + 4 + 8, struct.pack("<Q", 2**64 - 1))
    for bad in (bad_text, huge):
        with pytest.raises(ModelUnavailable, match="is damaged"):
            import_model(core, bad)
    with pytest.raises(ModelUnavailable, match="is damaged"):
        read_header(huge)
    assert list(core.paths.models.iterdir()) == [] and all(m.source != "import" for m in core.registry.all())


def test_the_truncation_check_is_exact(tiny, tmp_path):
    header = read_header(tiny)
    assert header.data_end == tiny.stat().st_size
    cut = _truncate(tiny, tmp_path / "cut.gguf", tiny.stat().st_size - 1)
    assert read_header(cut).data_end > cut.stat().st_size


def test_a_cancelled_import_leaves_no_partial_copy(core, tmp_path):
    big = tmp_path / "big.gguf"
    write_tiny_gguf(big, embd=512, layers=4)  # ~10 MB: several chunks of the copy loop
    cancel = threading.Event()
    with pytest.raises(ImportCancelled):
        import_model(core, big, progress=lambda done, total: cancel.set(), cancel=cancel)
    assert list(core.paths.models.iterdir()) == [] and core.registry.get("big") is None


def test_delete_unloads_the_loaded_model_and_frees_its_file(core, tiny):
    model = import_model(core, tiny)
    core.load_model(model.name)
    assert core.engine.loaded is not None and core.model.name == model.name
    result = delete_model(core, model.name)
    assert result.was_loaded and result.file_deleted and result.freed_bytes == tiny.stat().st_size
    assert core.engine.loaded is None and core.model is None
    assert not model.path.exists() and core.registry.get(model.name) is None
    assert tiny.stat().st_size == 439_360 and "freed 439 kB" in result.message  # not "freed 0 MB"
    assert "unloaded first" in result.message
    with pytest.raises(ModelUnavailable, match="No installed model"):
        core.load_model(model.name)


def test_a_model_whose_file_is_gone_says_how_to_get_it_back_and_delete_says_it_was_gone(core, tiny):
    model = import_model(core, tiny)
    model.path.unlink()  # deleted by hand, or by another program
    with pytest.raises(ModelUnavailable, match="is missing from") as caught:
        core.load_model(model.name)
    assert "Import its file again" in str(caught.value) and "setup --repair" not in str(caught.value)
    with pytest.raises(ModelUnavailable, match="setup --repair"):  # a starter model can be restored by setup
        core.registry.check(_moved(core.registry.get(SMOL), core.paths.models / "gone.gguf"))

    result = delete_model(core, model.name)
    assert result.file_missing and not result.file_deleted and result.freed_bytes == 0
    assert result.message == f"Removed {model.name} from the app. Its file {model.path} was already gone."
    assert core.registry.get(model.name) is None


def _moved(model, path):
    model.path = path
    return model


def test_a_blank_name_picks_no_model_even_when_only_one_is_installed(core, tiny):
    for model in core.registry.all():
        core.registry.remove(model.name)
    model = import_model(core, tiny)
    for blank in ("", "  "):
        with pytest.raises(ModelUnavailable, match="No model name was given"):
            delete_model(core, blank)
    assert core.registry.get(model.name) is not None and model.path.exists()


def test_deleting_the_default_model_picks_another_and_keeps_measurements(core, tmp_path):
    copy = core.paths.models / "smol-copy.gguf"
    shutil.copyfile(core.registry.get(SMOL).path, copy)
    model = core.registry.get(SMOL)
    model.name, model.path = "smol-copy", copy
    core.registry.register(model)
    core.settings.default_model = "smol-copy"
    SpeedStore(core.db).save(_row("smol-copy"))
    result = delete_model(core, "smol-copy")
    assert result.new_default == QWEN and Settings.load(core.paths).default_model == QWEN
    assert SpeedStore(core.db).latest("smol-copy") is not None  # still calibrates estimates
    with pytest.raises(UserFacingError, match="embedder and cannot be deleted"):
        delete_model(core, "all-minilm-l6-v2")


def _row(name):
    from assistant.store.model_speed import SpeedMeasurement

    return SpeedMeasurement(model=name, pp_tokens_per_s=500, gen_tokens_per_s=100, ttft_s=2.0, load_s=0.2,
                            peak_rss_bytes=300_000_000, prompt_tokens=1000, gen_tokens=96, file_size=98_362_432,
                            parameters=134_515_008)


def test_info_describes_the_model_with_fit_and_speed(core):
    info = model_info(core, SMOL)
    assert (info.architecture, info.parameters, info.quantization) == ("llama", 134_515_008, "Q4_1")
    assert (info.context_length, info.layers, info.kv_heads, info.head_dim) == (8192, 30, 3, 64)
    assert info.has_chat_template and info.file_size == 98_362_432
    assert not info.in_models_folder  # the fixture's starter files live in a folder shared by the session
    assert info.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert info.fit.verdict in ("fits", "tight", "won't fit") and info.fit.needed > info.file_size
    assert info.speed is None  # nothing measured yet
    SpeedStore(core.db).save(_row(SMOL))
    measured = model_info(core, SMOL)
    assert measured.speed.measured and measured.speed.gen_tokens_per_s == 100
    assert model_info(core, QWEN).speed.calibrated_on == 1  # estimated from the SmolLM2 row
    d = measured.to_dict()
    assert d["fit"]["estimate"]["total"] == measured.fit.needed and d["speed"]["measured"] is True
