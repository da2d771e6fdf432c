"""The bundle's one executable: the window without arguments, the CLI with a command."""

from __future__ import annotations

import pytest

from assistant import frozen


@pytest.mark.parametrize(("argv", "cli"), [
    ([], False), (["--gui"], False), (["-v"], False), (["--verbose", "--gui"], False),
    (["ask", "hello"], True), (["--help"], True), (["-v", "models", "list"], True),
])
def test_arguments_choose_window_or_cli(argv, cli):
    assert frozen.wants_cli(argv) is cli


def test_a_command_goes_to_the_cli_and_nothing_is_installed_outside_a_bundle(monkeypatch, capsys, app_paths):
    calls = []
    monkeypatch.setattr(frozen, "install_bundled_models", lambda: calls.append("install"))
    assert frozen.main(["models", "list"]) == 0  # the real CLI, on an empty data folder
    out, err = capsys.readouterr()
    assert out.split() == ["NAME", "KIND", "FILE", "SIZE", "QUANT", "PARAMS", "CONTEXT", "SOURCE"]
    assert "No models installed" in err
    assert calls == []  # not frozen: the venv's models are set up by `make models`
