"""`assistant models ...` end to end through assistant.cli.main: real database, engine and files."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from assistant.cli import main
from assistant.config import Settings
from assistant.models.catalog import load_catalog
from assistant.store.model_speed import SpeedMeasurement, SpeedStore
from tests.conftest import QWEN, SMOL
from tests.models.tiny_gguf import write_tiny_gguf


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["models", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def store_rows(core, gen_bytes=2e10, pp_params=1e12):
    """Measurements on which generation = gen_bytes / file size and prompt = pp_params / parameters."""
    store = SpeedStore(core.db)
    for name in (SMOL, QWEN):
        m = core.registry.get(name)
        pp = pp_params / m.parameters
        store.save(SpeedMeasurement(model=name, pp_tokens_per_s=pp, gen_tokens_per_s=gen_bytes / m.size_bytes,
                                    ttft_s=1000 / pp, load_s=0.3, peak_rss_bytes=m.size_bytes * 2,
                                    prompt_tokens=1000, gen_tokens=96, file_size=m.size_bytes,
                                    parameters=m.parameters))


def test_list_and_verify_still_work(core, capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and SMOL in out and QWEN in out and "all-minilm-l6-v2" in out and "starter" in out
    code, out, _ = run(capsys, "verify", SMOL)
    assert code == 0 and out.strip() == f"ok  {SMOL}"


def test_catalog_shows_every_entry_with_fit_and_measured_or_estimated_speed(core, capsys):
    SpeedStore(core.db).save(SpeedMeasurement(
        model=SMOL, pp_tokens_per_s=800, gen_tokens_per_s=140, ttft_s=1.25, load_s=0.2, peak_rss_bytes=280_000_000,
        prompt_tokens=1000, gen_tokens=96, file_size=98_362_432, parameters=134_515_008))
    code, out, _ = run(capsys, "catalog")
    assert code == 0
    lines = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in out.splitlines()[1:]}
    entries = load_catalog()
    assert {e.name for e in entries} <= set(lines)
    assert lines[SMOL].startswith("*") and "140.0 tok/s, 1.2s (measured)" in lines[SMOL]
    not_installed = next(e for e in entries if e.kind == "chat" and core.registry.get(e.name) is None)
    assert not lines[not_installed.name].startswith("*")
    assert "(est., 1 measured)" in lines[not_installed.name]
    assert any(badge in lines[not_installed.name] for badge in (" fits ", " tight ", " won't fit "))

    code, out, _ = run(capsys, "catalog", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows[SMOL]["installed"] and rows[SMOL]["speed"]["measured"]
    assert rows[not_installed.name]["speed"]["calibrated_on"] == 1
    assert rows[not_installed.name]["fit"]["needed"] > rows[not_installed.name]["size_bytes"]


def test_import_info_delete(core, capsys, tmp_path, monkeypatch):
    tiny = write_tiny_gguf(tmp_path / "Tiny.gguf")
    code, out, err = run(capsys, "import", str(tiny))
    assert code == 0 and "imported tiny (Tiny Random Llama" in out and "in the models folder" in out
    assert "copying [" in err  # the progress bar
    copied = core.paths.models / "Tiny.gguf"
    assert copied.is_file()
    original = copied.read_bytes()
    copied.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))  # one byte damaged, same size
    code, out, _ = run(capsys, "verify", "tiny")
    assert code == 1 and out.strip() == ("BAD tiny: its file no longer holds the bytes verified when it was "
                                         "installed (damaged or changed). Import its file again (Models page, "
                                         "or `assistant models import`), or delete it.")
    copied.write_bytes(original)

    code, out, _ = run(capsys, "info", "tiny", "--json")
    info = json.loads(out)
    assert code == 0 and info["architecture"] == "llama" and info["layers"] == 2 and info["has_chat_template"]
    assert info["file_size"] == tiny.stat().st_size and len(info["sha256"]) == 64 and info["fit"]["verdict"]
    code, out, _ = run(capsys, "info", SMOL)
    assert code == 0 and "Q4_1" in out and "layers               30" in out and "chat template        yes" in out

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, out, err = run(capsys, "delete", "tiny")
    assert code == 1 and "nothing deleted" in err and copied.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no one to answer: a script, < /dev/null
    code, out, err = run(capsys, "delete", "tiny")
    assert code == 1 and "nothing deleted" in err and "went wrong" not in err and copied.exists()
    code, out, _ = run(capsys, "delete", "tiny", "--yes")
    assert code == 0 and out.startswith("Deleted tiny and freed") and not copied.exists()
    assert core.registry.get("tiny") is None

    code, out, _ = run(capsys, "import", str(tiny), "--reference")
    assert code == 0 and "used in place, not copied" in out and not copied.exists()
    run(capsys, "delete", "tiny", "--yes")
    shutil.copyfile(tiny, copied)  # a file put in the models folder by hand is only checked, not copied
    code, out, err = run(capsys, "import", str(copied))
    assert code == 0 and "in the models folder" in out and "hashing [" in err and "copying" not in err

    (tmp_path / "notes.gguf").write_text("just some notes\n" * 100)
    code, out, err = run(capsys, "import", str(tmp_path / "notes.gguf"))
    assert code == 1 and err.startswith("error: notes.gguf is not a GGUF model file.") and out == ""


def test_bench_prints_and_stores_figures_and_the_estimate_check(core, capsys):
    store_rows(core)
    SpeedStore(core.db).db.execute("delete from model_speed where model = ?", [SMOL])
    code, out, err = run(capsys, "bench", SMOL, "--prompt-tokens", "200", "--gen-tokens", "8")
    assert code == 0, err
    for label in ("prompt processing", "generation", "first token", "load", "peak memory", "file size"):
        assert label in out
    assert "Loading SmolLM2" in err
    m = SpeedStore(core.db).latest(SMOL)
    assert m is not None and m.gen_tokens_per_s > 0 and f"{m.gen_tokens_per_s:8.1f} tokens/s" in out
    assert f"estimate check: {SMOL}: estimated from {QWEN}" in out

    code, out, _ = run(capsys, "estimate", "--check")
    assert code == 0 and len(out.splitlines()) == 2 and "%" in out
    code, out, _ = run(capsys, "estimate", "qwen2.5-3b")
    assert code == 0 and "estimate from 2 measured models" in out


def test_recommend_follows_the_targets_and_saves_them(core, capsys):
    code, out, _ = run(capsys, "recommend")
    assert code == 1 and "No model has been measured yet" in out
    store_rows(core)

    def choose(*targets):
        code, out, _ = run(capsys, "recommend", "--json", *targets)
        data = json.loads(out)
        rows = {c["name"]: c for c in data["candidates"]}
        choice = rows.get(data["choice"])
        if choice is not None:
            assert code == 0 and choice["meets"]
            assert not any(c["meets"] for c in rows.values() if c["parameters"] > choice["parameters"])
        return choice

    fast = choose("--tokens-per-s", "60", "--ttft-s", "5")
    slow = choose("--tokens-per-s", "5", "--ttft-s", "30")
    assert fast is not None and slow is not None and slow["parameters"] > fast["parameters"]
    assert choose("--tokens-per-s", "100000") is None

    code, out, _ = run(capsys, "recommend", "--tokens-per-s", "60", "--ttft-s", "5", "--save")
    assert code == 0 and f"recommended: {fast['name']}." in out
    saved = Settings.load(core.paths)
    assert (saved.target_tokens_per_s, saved.target_ttft_s) == (60, 5)


def test_download_shows_progress_and_ctrl_c_keeps_the_partial_for_resume(core, capsys, monkeypatch):
    import os
    import signal
    import threading
    import time

    from assistant.models import download_transfer
    from assistant.models.catalog import CatalogEntry
    from assistant.models.starter import load_starters, package_files
    from tests.models.hub_server import FakeHub

    starter = next(s for s in load_starters() if s.name == SMOL)
    (source,) = package_files(starter)
    entry = CatalogEntry(name="smol-download", kind="chat", display_name="SmolLM2 135M (downloaded)", family=None,
                         repo_id="fake-org/smol", filename=starter.filename, quantization="Q4_1",
                         size_bytes=starter.size_bytes, sha256=starter.sha256, parameters=starter.parameters,
                         context_length=8192, license=None, description="")
    monkeypatch.setattr("assistant.cli_models._catalog", lambda: [entry])
    hub = FakeHub()
    hub.add(entry.repo_id, entry.filename, source, starter.sha256)
    hub.start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setattr(download_transfer, "RETRY_DELAYS", (0.05, 0.05, 0.05))
    try:
        hub.bytes_per_s = 8_000_000
        partial = core.paths.models / ".partial" / f"{entry.filename}.part"

        def press_ctrl_c():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if partial.exists() and partial.stat().st_size > 4_000_000:
                    os.kill(os.getpid(), signal.SIGINT)  # as the user pressing Ctrl-C in the terminal
                    return
                time.sleep(0.02)

        presser = threading.Thread(target=press_ctrl_c)
        presser.start()
        code, out, err = run(capsys, "download", "smol-download")
        presser.join()
        assert code == 130, err
        assert "downloading [" in err and "was cancelled" in err and "kept" in err
        kept = partial.stat().st_size
        assert 4_000_000 < kept < starter.size_bytes and core.registry.get("smol-download") is None

        hub.bytes_per_s = None
        code, out, err = run(capsys, "download", "smol-download")
        assert code == 0, err
        assert "installed smol-download" in err and hub.gets()[-1].range_start == kept  # resumed
        assert core.registry.get("smol-download").sha256 == starter.sha256
    finally:
        hub.stop()

    code, _, err = run(capsys, "download", "no-such-model")
    assert code == 1 and "The catalog has no model called 'no-such-model'" in err


def test_a_data_folder_that_cannot_be_created_is_a_sentence_not_a_traceback(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "data-is-a-file" / "logs").mkdir(parents=True)
    (tmp_path / "data-is-a-file" / "data").write_text("not a folder")
    for home, folder in ((tmp_path / "a-file" / "home", "a-file/home/logs"),  # not even the log can be written
                         (tmp_path / "data-is-a-file", "data-is-a-file/data")):
        done = subprocess.run([sys.executable, "-m", "assistant.cli", "models", "list"],
                              cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "ASSISTANT_HOME": str(home)})
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"error: The app cannot use the folder {tmp_path / folder}:" in done.stderr
        assert "Set ASSISTANT_HOME to a folder you can write to" in done.stderr
