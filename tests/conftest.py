"""Shared fixtures. Every test runs with non-loopback network blocked.

The starter models are installed once per session into a temporary app home
(the real install path: located in site-packages, assembled, hashed). Each test
then gets its own empty database whose registry points at those files.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from assistant import offline  # noqa: E402
from assistant.config import Paths  # noqa: E402

offline.install_network_guard()


@pytest.fixture(autouse=True)
def no_network():
    """Fail any test in which the app tried to reach anything but this machine."""
    offline.take_attempts()
    yield
    attempts = offline.take_attempts()
    assert not attempts, f"network access attempted while offline: {attempts}"


@pytest.fixture(autouse=True)
def measurements_kept_on_a_shared_machine(monkeypatch):
    """Tests check what a speed measurement records, not how quiet the machine running them is:
    a measurement is refused for other programs' load only in the test of that refusal."""
    monkeypatch.setattr("assistant.models.cpu_load.BUSY_SHARE", 1.0)


def _paths(root) -> Paths:
    return Paths(data=root / "data", config=root / "config", cache=root / "cache", logs=root / "logs").ensure()


@pytest.fixture(scope="session")
def starter_registry(tmp_path_factory):
    """The starter models installed once, through the real install path."""
    from assistant.core import Core
    from assistant.setup_models import install_starters

    home = tmp_path_factory.mktemp("starter-home")
    with Core(_paths(home)) as core:
        models = install_starters(core)
        _share_onnx_export(core)
    return {m.name: m for m in models}


def _share_onnx_export(core) -> None:
    """Export the embedder's ONNX graph once per run and let every test home use it (as the
    desktop bundle ships one), instead of each fresh home exporting it again (~10 s)."""
    from assistant.knowledge import onnx_encoder
    from assistant.setup_models import prepare_embedder

    prepare_embedder(core)  # exports into this home's cache
    os.environ[onnx_encoder.PREBUILT_ENV] = str(core.paths.cache / "embedders")


SMOL = "smollm2-135m-instruct-q4_1"
QWEN = "qwen2.5-coder-0.5b-instruct-q4_k_m"
LARGE = "qwen2.5-coder-1.5b-instruct-q4_k_m"


@pytest.fixture
def app_paths(tmp_path, monkeypatch) -> Paths:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    return _paths(tmp_path / "home")


@pytest.fixture(scope="session")
def shared_engine(tmp_path_factory):
    """One engine child for the tests that do not break it on purpose."""
    from assistant.llm.client import EngineClient

    engine = EngineClient(log_path=tmp_path_factory.mktemp("engine-log") / "engine.log")
    yield engine
    engine.close()


@pytest.fixture
def core(app_paths, starter_registry, shared_engine):
    """A Core with a fresh database, the starter models registered, and the shared engine."""
    from assistant.core import Core

    c = Core(app_paths, engine=shared_engine)
    for model in starter_registry.values():
        c.registry.register(model)
    # By default the 1.5B would check each document answer in a second engine child it loads per
    # test (seconds each); the automatic choice has tests of its own, the rest use the self-check.
    c.settings.retrieval.check_model = ""
    yield c
    c.close()


@pytest.fixture
def smol_core(core):
    """A Core with SmolLM2-135M loaded (fast), seeded for reproducible output."""
    core.settings.default_model = SMOL
    core.settings.generation.seed = 42
    core.settings.generation.max_tokens = 48
    core.load_model(SMOL)
    return core
