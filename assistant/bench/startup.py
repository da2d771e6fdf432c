"""Start-up and memory: `python -m assistant` as a user starts it, one launch per model.

Each launch gets a fresh app home (ASSISTANT_HOME) whose registry points at the
installed model files (nothing is copied) and whose default model is the one
measured, with QT_QPA_PLATFORM=offscreen. The window logs its first paint as
seconds since the process started (assistant.ui.app.FirstPaint) and the time
the model is ready; the ready line's timestamp less the process's start time
is "start to model ready". When the model is ready the peak resident memory
(VmHWM) of the app process and of its engine child is read, then Ctrl-C
closes the window. Background speed measuring is turned off in these homes,
so no second engine child loads a model meanwhile.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import Paths
from assistant.core import Core
from assistant.models.speed import peak_rss

PAINT_RE = re.compile(r"first paint ([\d.]+) s after the process started")
READY_RE = re.compile(r"^(\S+ \S+) INFO \S+: model (\S+) ready \(loaded in ([\d.]+)s\)", re.MULTILINE)
FAILED_RE = re.compile(r"(ERROR|CRITICAL) .*", re.MULTILINE)


def bench_home(core: Core, root: Path, model: str) -> Path:
    """A fresh app home with `core`'s models registered and `model` as the default."""
    paths = Paths(data=root / "data", config=root / "config", cache=root / "cache", logs=root / "logs").ensure()
    with Core(paths, engine=core.engine) as home:
        for m in core.registry.all():
            home.registry.register(m)
        home.settings.default_model = model
        if hasattr(home.settings, "measure_in_background"):
            home.settings.measure_in_background = False
        home.settings.save(paths)
    return root


def _log_time(stamp: str) -> float:
    """A logging asctime ('2025-01-02 10:11:12,345', local time) as seconds since the epoch."""
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _engine_children(pid: int) -> list:
    import psutil

    out = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            pass
    return out


def launch(core: Core, model: str, timeout_s: float = 180.0) -> dict:
    """One start of the window with `model`; the times and peak memory it reports."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="assistant-bench-start-") as tmp:
        home = bench_home(core, Path(tmp), model)
        log = home / "logs" / "assistant.log"
        env = {**os.environ, "ASSISTANT_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
        errors_file = Path(tmp) / "stderr.txt"  # a file: a pipe nobody reads while waiting could fill and block
        with errors_file.open("w") as sink:
            process = subprocess.Popen([sys.executable, "-m", "assistant"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=sink, text=True)
        try:
            started = psutil.Process(process.pid).create_time()
            deadline = time.monotonic() + timeout_s
            ready = None
            while ready is None:
                text = log.read_text(errors="replace") if log.exists() else ""
                ready = READY_RE.search(text)
                if process.poll() is not None or time.monotonic() > deadline:
                    errors = FAILED_RE.findall(text)
                    raise RuntimeError(f"the window did not report {model} ready "
                                       f"(exit {process.poll()}): {errors[-1:] or errors_file.read_text(errors='replace')[-300:]}")
                time.sleep(0.05)
            app_peak = peak_rss(process.pid) or 0
            engines = {c.pid: peak_rss(c.pid) or 0 for c in _engine_children(process.pid)}
            process.send_signal(signal.SIGINT)  # Ctrl-C closes the window cleanly
            code = process.wait(60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        paint = PAINT_RE.search(text)
        if paint is None:
            raise RuntimeError("the window logged no first paint")
    size = core.registry.resolve(model).size_bytes
    engine_peak = max(engines.values(), default=0)
    return {"model": model, "first_paint_s": float(paint.group(1)),
            "model_ready_s": _log_time(ready.group(1)) - started, "load_s": float(ready.group(3)),
            "app_peak_rss": app_peak, "engine_peak_rss": engine_peak, "peak_rss": app_peak + engine_peak,
            "other_children_peak_rss": sum(engines.values()) - engine_peak, "file_size": size,
            "rss_over_file": (app_peak + engine_peak) / size, "exit_code": code}


def ui_stall(core: Core, model: str, files: int = 40, max_tokens: int = 120, timeout_s: float = 900.0) -> dict:
    """Row 8: the window's longest event-loop stall while it answers and indexes (assistant.ui.stall_bench)."""
    with tempfile.TemporaryDirectory(prefix="assistant-bench-stall-") as tmp:
        home = bench_home(core, Path(tmp) / "home", model)
        out = Path(tmp) / "stall.json"
        # The home is fresh, but the embedder is ready, as after `assistant setup`: the first
        # indexing run is measured as a user meets it, not with a one-time ONNX export in it.
        from assistant.knowledge.onnx_encoder import PREBUILT_ENV
        from assistant.setup_models import prepare_embedder

        prepare_embedder(core)
        env = {**os.environ, "ASSISTANT_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
               PREBUILT_ENV: str(core.paths.cache / "embedders")}
        done = subprocess.run([sys.executable, "-m", "assistant.ui.stall_bench", "--json", str(out),
                               "--files", str(files), "--max-tokens", str(max_tokens)],
                              env=env, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode or not out.exists():
            raise RuntimeError(f"the stall bench failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        return json.loads(out.read_text())
