"""llama.cpp's own `llama-bench`, built once from the llama-cpp-python sdist: the physical limit.

The sdist of the installed llama-cpp-python version carries the exact llama.cpp
it was built from (vendor/llama.cpp). Only the llama-bench target is built,
with GGML_NATIVE=ON, into ~/.cache/assistant-bench/llama-bench. On two cores
the build takes several minutes; `python -m assistant.bench.llama_bench build`
does it ahead of time (`make bench` does it first). When it cannot be built,
`locate()` says why, and the build is not tried again unless asked (--retry).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

CACHE = Path(os.environ.get("ASSISTANT_BENCH_CACHE", Path.home() / ".cache" / "assistant-bench"))


def llama_cpp_version() -> str | None:
    try:
        return version("llama_cpp_python")
    except PackageNotFoundError:
        return None


def _folder() -> Path:
    return CACHE / "llama-bench" / (llama_cpp_version() or "unknown")


def binary() -> Path:
    return _folder() / "build" / "bin" / "llama-bench"


def _failure_note() -> Path:
    return _folder() / "build-failed.txt"


def locate() -> tuple[Path | None, str]:
    """(path to llama-bench, "") when built, else (None, the reason)."""
    if binary().exists():
        return binary(), ""
    if _failure_note().exists():
        return None, _failure_note().read_text().strip().splitlines()[0][:200]
    return None, "not built: python -m assistant.bench.llama_bench build"


def _run(cmd: list[str], log, cwd: Path | None = None) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    done = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        raise RuntimeError(f"`{' '.join(cmd[:3])} …` failed with code {done.returncode} (see {log.name})")


def build(jobs: int = 2, report=print, retry: bool = False) -> tuple[Path | None, str]:
    """Download the sdist (pip's cache or index), build llama-bench. Returns what locate() returns.

    A failed build is not tried again (each `make bench` would spend minutes on it) unless `retry`.
    """
    ver = llama_cpp_version()
    if ver is None:
        return None, "llama-cpp-python is not installed"
    if binary().exists() or (_failure_note().exists() and not retry):
        return locate()
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            return _fail(f"cannot build llama-bench: `{tool}` is not installed")
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _failure_note().unlink(missing_ok=True)
    with open(folder / "build.log", "w") as log:
        try:
            source = _source(ver, folder, log, report)
            report(f"  building llama-bench from {source} (several minutes on two cores)…")
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            _run(["cmake", "-S", str(source), "-B", str(folder / "build"), *generator, "-DCMAKE_BUILD_TYPE=Release",
                  "-DGGML_NATIVE=ON", "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
                  "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_TOOLS=ON"], log)
            _run(["cmake", "--build", str(folder / "build"), "--target", "llama-bench", "-j", str(jobs)], log)
        except (RuntimeError, OSError) as exc:
            return _fail(f"cannot build llama-bench: {exc}")
    shutil.rmtree(folder / "src", ignore_errors=True)  # only the binary is kept
    return locate()


def _fail(reason: str) -> tuple[None, str]:
    _folder().mkdir(parents=True, exist_ok=True)
    _failure_note().write_text(reason + "\n")
    return None, reason


def _source(ver: str, folder: Path, log, report) -> Path:
    source = folder / "src" / f"llama_cpp_python-{ver}" / "vendor" / "llama.cpp"
    if source.exists():
        return source
    with tempfile.TemporaryDirectory() as tmp:
        report(f"  fetching the llama-cpp-python {ver} sdist…")
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
              f"llama-cpp-python=={ver}", "-d", tmp], log)
        archive = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if "/vendor/llama.cpp/" in m.name or m.name.endswith("vendor")]
            tar.extractall(folder / "src", members=members, filter="data")
    if not source.exists():
        raise RuntimeError(f"the sdist has no vendor/llama.cpp ({source})")
    return source


def generation_tps(model: Path, threads: int, n_gen: int = 128, repeats: int = 3,
                   flash_attn: bool = True) -> tuple[float | None, str]:
    """(tokens/s of text generation as llama-bench measures it, "") or (None, why not)."""
    exe, why = locate()
    if exe is None:
        return None, why
    cmd = [str(exe), "-m", str(model), "-t", str(threads), "-p", "0", "-n", str(n_gen), "-r", str(repeats),
           "-fa", "on" if flash_attn else "off", "-o", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if done.returncode:
        return None, f"llama-bench failed: {(done.stderr or done.stdout).strip()[-200:]}"
    rows = json.loads(done.stdout)
    return float(rows[0]["avg_ts"]), ""


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        path, reason = build(retry="--retry" in sys.argv)
        print(path or reason)
        sys.exit(0 if path else 1)
    print("usage: python -m assistant.bench.llama_bench build [--retry]", file=sys.stderr)
    sys.exit(2)
