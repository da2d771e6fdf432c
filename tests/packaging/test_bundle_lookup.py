"""What the desktop bundle relies on: starter models and a pre-exported ONNX graph found in
folders it ships, checked before site-packages and the app cache, and an embedder that does
without torch (the bundle leaves it out)."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from assistant.core import Core
from assistant.errors import ModelUnavailable
from assistant.knowledge import onnx_encoder
from assistant.knowledge.embedder import Embedder
from assistant.models.starter import (
    BUNDLED_ENV,
    bundled_models,
    install_starter,
    load_starters,
    package_files,
)
from assistant.setup_models import install_starters


@pytest.fixture
def not_frozen(monkeypatch):
    monkeypatch.delenv(BUNDLED_ENV, raising=False)
    monkeypatch.delenv(onnx_encoder.PREBUILT_ENV, raising=False)
    monkeypatch.delattr(sys, "frozen", raising=False)


def chat_starter():
    return next(s for s in load_starters() if s.kind == "chat" and not s.optional)


def test_no_bundle_folders_outside_a_bundle(not_frozen):
    assert bundled_models() is None
    assert onnx_encoder.prebuilt_folder() is None


def test_a_frozen_bundle_looks_inside_itself(not_frozen, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundled_models() == tmp_path / "models"
    assert onnx_encoder.prebuilt_folder() == tmp_path / "models" / "onnx"


@pytest.fixture
def bundled(not_frozen, monkeypatch, tmp_path):
    """(starter, its bytes, the bundle's models folder): a small GGUF-looking file the bundle carries."""
    content = b"GGUF" + bytes(range(256)) * 64
    starter = dataclasses.replace(chat_starter(), filename="bundled.gguf", size_bytes=len(content),
                                  sha256=hashlib.sha256(content).hexdigest(), packages=("not-installed",))
    bundle = tmp_path / "bundle-models"
    bundle.mkdir()
    (bundle / "bundled.gguf").write_bytes(content)
    monkeypatch.setenv(BUNDLED_ENV, str(bundle))
    return starter, content, bundle


def test_a_bundled_starter_is_verified_and_used_in_place(bundled, app_paths):
    starter, content, bundle = bundled
    assert package_files(starter) == [bundle / "bundled.gguf"]
    with Core(app_paths) as core:
        model = install_starter(starter, app_paths, core.registry)
        # Referenced where it lies: no second copy of hundreds of MB in the user's folder.
        assert model.path == bundle / "bundled.gguf"
        assert not (app_paths.models / "bundled.gguf").exists()
        assert core.registry.get(starter.name).path == bundle / "bundled.gguf"
        # Deleting it in the app forgets it and leaves the bundle as it was.
        from assistant.models.manage import delete_model

        delete_model(core, starter.name)
        assert core.registry.get(starter.name) is None and (bundle / "bundled.gguf").read_bytes() == content

    (bundle / "bundled.gguf").write_bytes(content[:-1] + b"x")  # a damaged bundle is refused, not used
    with Core(app_paths) as core, pytest.raises(ModelUnavailable, match="SHA-256"):
        install_starter(starter, app_paths, core.registry)


def test_a_slim_bundle_installs_what_it_has(not_frozen, monkeypatch, app_paths):
    """A bundle that left out every starter but SmolLM2 (its package is really installed here; the
    others are made to look absent): required=False installs that one, where a full install refuses."""
    from assistant.models.starter import is_available
    from tests.conftest import SMOL

    smol = next(s for s in load_starters() if s.name == SMOL)
    assert is_available(smol) and not smol.optional
    monkeypatch.setattr("assistant.setup_models.is_available", lambda starter: starter.name == SMOL)
    with Core(app_paths) as core:
        installed = install_starters(core, required=False)
        assert [m.name for m in installed] == [SMOL]
        assert core.registry.get(SMOL) is not None and core.registry.check(core.registry.get(SMOL)).is_file()
        with pytest.raises(ModelUnavailable, match="is not installed"):
            install_starters(core)  # without required=False, the missing default model is an error


@pytest.fixture(scope="module")
def exported_graph(starter_registry) -> Path:
    """The embedder's real ONNX graph, exported once per run (read before not_frozen clears the variable)."""
    return Path(os.environ[onnx_encoder.PREBUILT_ENV]) / "all-minilm-l6-v2" / f"v{onnx_encoder.EXPORT_VERSION}" / "model.onnx"


def test_a_prebuilt_graph_is_used_before_the_cache_and_without_export(not_frozen, exported_graph, monkeypatch,
                                                                       tmp_path):
    import onnxruntime as ort

    prebuilt = tmp_path / "onnx" / "all-minilm-l6-v2" / f"v{onnx_encoder.EXPORT_VERSION}" / "model.onnx"
    prebuilt.parent.mkdir(parents=True)
    shutil.copyfile(exported_graph, prebuilt)
    monkeypatch.setenv(onnx_encoder.PREBUILT_ENV, str(tmp_path / "onnx"))

    def no_export(*_args):
        raise AssertionError("exported although a prebuilt graph was there")

    monkeypatch.setattr(onnx_encoder, "export_onnx", no_export)
    monkeypatch.setattr(onnx_encoder, "export_in_child", no_export)
    encoder = onnx_encoder.OnnxEncoder(tmp_path / "model", tmp_path / "cache" / "all-minilm-l6-v2")
    assert encoder._prepare() == prebuilt

    # int8 is quantized from the shipped graph, for real, into the cache (the bundle's folder is read-only).
    quantized = onnx_encoder.OnnxEncoder(tmp_path / "model", tmp_path / "cache" / "all-minilm-l6-v2", quantized=True)
    made = quantized._prepare()
    assert made == quantized.model_path() and made.is_relative_to(tmp_path / "cache")
    assert made.stat().st_size < prebuilt.stat().st_size / 2
    session = ort.InferenceSession(str(made), providers=["CPUExecutionProvider"])
    assert {i.name for i in session.get_inputs()} >= {"input_ids", "attention_mask"}
    written = made.stat().st_mtime_ns
    assert quantized._prepare() == made and made.stat().st_mtime_ns == written  # the cached copy, not redone


def test_the_embedder_falls_back_to_onnx_without_torch(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert Embedder(tmp_path, backend="torch", cache=tmp_path / "cache").backend == "onnx"
    monkeypatch.setattr(importlib.util, "find_spec", real)
    assert Embedder(tmp_path, backend="torch", cache=tmp_path / "cache").backend == "torch"


def test_a_bundled_model_the_user_deleted_is_not_registered_again_at_the_next_start(
        bundled, monkeypatch, app_paths):
    from assistant import frozen
    from assistant.models.manage import delete_model

    starter, content, bundle = bundled
    monkeypatch.setattr("assistant.setup_models.load_starters", lambda: [starter])

    frozen.install_bundled_models()  # first start: checked and registered in place
    with Core(app_paths) as core:
        assert core.registry.get(starter.name).path == bundle / "bundled.gguf"
        delete_model(core, starter.name)
    frozen.install_bundled_models()  # next start
    with Core(app_paths) as core:
        assert core.registry.get(starter.name) is None
    assert (bundle / "bundled.gguf").read_bytes() == content
