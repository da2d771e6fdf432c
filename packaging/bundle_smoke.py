"""Smoke test of the built desktop bundle: `make bundle-test`, after `make bundle`.

The bundle is copied to a fresh folder and run with a bare environment: no PATH,
no PYTHONPATH, HOME in a temporary folder, so it can lean on nothing from the
project or its .venv. Every run has ASSISTANT_BLOCK_NETWORK=1 (assistant/offline.py),
which refuses and logs any connection that is not loopback. The checks:

1. the window opens offscreen and paints (first start, which installs the bundled
   models, and a second start), timed from process start to first paint;
2. `assistant ask` answers from the bundled default model;
3. `assistant index` + `assistant ask --collection` give an answer citing the file;
4. no blocked network attempt in any log, and the guard does block one when asked to
   (a download in a separate home), so "none recorded" means something;
5. user data landed in the platform's user folders, and the bundle did not change.

With --compare-venv (and a .venv next to packaging/) the same first-paint timing is
taken for `python -m assistant` from the venv, as `make run` starts it.
Runs with the system python or the venv's: it imports nothing from the project.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKED = "blocked a network attempt"
LEASE = """# Lease

## 14. Subletting

14.2 The tenant may not sublet the premises without the landlord's written consent.

## 15. Rent

15.1 The monthly rent is 1,250 euros, payable on the first day of each month.
"""
FERRY = "The harbour ferry leaves at seven every morning and returns at six in the evening.\n"


class SmokeFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailed(message)


def clean_env(home: Path) -> dict[str, str]:
    """What a desktop session would give, minus everything from this project's shell."""
    home.mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
            "ASSISTANT_BLOCK_NETWORK": "1"}


def manifest(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def logs_of(home: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in home.rglob("*.log") if p.is_file())


def run(cmd: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])
    print(f"  $ {' '.join(cmd[1:]) or '(window)'}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
    return done


def first_paint(cmd: list[str], env: dict[str, str], timeout: float = 240) -> float:
    """Open the window offscreen, wait for the app's own 'first paint' log line, close it with Ctrl-C."""
    home = Path(env["HOME"])
    before = logs_of(home).count("first paint")
    # To a file, not a pipe nobody reads while waiting: a chatty app would block on a full pipe.
    output = home / "window-output.txt"
    with output.open("w") as sink:
        proc = subprocess.Popen(cmd, env=env, cwd=home, stdout=sink, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    found = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            seconds = re.findall(r"first paint ([\d.]+) s", logs_of(home))
            if len(seconds) > before:
                found = float(seconds[-1])
                break
            time.sleep(0.2)
        check(found is not None, f"no first paint within {timeout:.0f} s (exit {proc.poll()}):\n"
              + output.read_text(errors="replace")[-2000:])
        proc.send_signal(signal.SIGINT)  # the app closes its window cleanly on Ctrl-C
        code = proc.wait(timeout=60)
        check(code == 0, f"the window did not close cleanly: exit {code}\n{output.read_text(errors='replace')[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"  window painted {found:.2f} s after the process started")
    return found


def ask_json(exe: str, env: dict[str, str], question: str, *extra: str) -> dict:
    done = run([exe, "ask", question, "--json", "--seed", "0", "--temperature", "0", "--max-tokens", "60", *extra],
               env)
    check(done.returncode == 0, f"ask failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def smoke(bundle: Path, work: Path, compare_venv: bool) -> dict:
    results: dict = {}
    started = time.monotonic()
    app = work / "app"
    shutil.copytree(bundle, app, symlinks=True)
    results["copy_s"] = round(time.monotonic() - started, 1)
    exe = str(app / "assistant")
    before = manifest(app)
    home = work / "home"
    env = clean_env(home)

    print("1. the window, offscreen (first start registers the bundled models)")
    results["first_paint_first_start_s"] = first_paint([exe], env)
    results["first_paint_s"] = first_paint([exe], env)
    data = home / ".local" / "share" / "assistant"
    check((data / "assistant.db").is_file(), f"no database in the user data folder {data}")
    with sqlite3.connect(data / "assistant.db") as db:
        chat_paths = [Path(p) for (p,) in db.execute("select path from models where kind = 'chat'")]
    check(chat_paths and all(p.is_relative_to(app) for p in chat_paths),
          f"the bundled chat model is not registered where it lies in the bundle: {chat_paths}")
    check(not any((data / "models").glob("*.gguf")), "the bundled chat model was copied into the user's folder")

    print("2. a question to the bundled default model")
    answer = ask_json(exe, env, "What is the capital of France? Answer in one word.")
    check("paris" in answer["answer"].lower(), f"unexpected answer: {answer['answer']!r}")
    results["ask"] = {"answer": answer["answer"], "model": answer["model"], "ttft_s": answer["timings"]["ttft_s"]}

    print("3. index a folder, then a cited answer from it")
    docs = work / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text(LEASE, encoding="utf-8")
    (docs / "ferry.md").write_text(FERRY, encoding="utf-8")
    done = run([exe, "index", str(docs), "--collection", "smoke"], env)
    check(done.returncode == 0 and "2 indexed" in done.stdout, f"indexing failed: {done.stdout}{done.stderr}")
    answer = ask_json(exe, env, "How much is the monthly rent?", "--collection", "smoke")
    cited = [s for s in answer["sources"] if s.get("cited")]
    check("1,250" in answer["answer"] or "1250" in answer["answer"], f"wrong answer: {answer['answer']!r}")
    check(any(s["path"].endswith("lease.md") for s in cited), f"the answer cites no lease.md passage: {answer}")
    results["cited_answer"] = {"answer": answer["answer"], "cited": [Path(s["path"]).name for s in cited]}

    print("4. nothing tried to leave the machine, and the guard was really on")
    check(BLOCKED not in logs_of(home), "blocked network attempts were logged:\n"
          + "\n".join(line for line in logs_of(home).splitlines() if BLOCKED in line))
    probe = work / "probe-home"
    done = run([exe, "models", "download", "smollm2-135m-instruct-q4_k_m"], clean_env(probe), timeout=120)
    check(done.returncode != 0 and BLOCKED in logs_of(probe),
          f"a download was not blocked (exit {done.returncode}): {done.stderr[-1000:]}")
    results["guard_blocks_a_download"] = True

    print("5. the bundle was not written to")
    after = manifest(app)
    changed = sorted(set(before.items()) ^ set(after.items()))
    check(not changed, f"the bundle changed while it ran: {changed[:10]}")

    venv_python = ROOT / ".venv" / "bin" / "python"
    if compare_venv and venv_python.exists():
        print("6. the same window from the venv, as `make run` starts it (models installed first)")
        venv_env = clean_env(work / "venv-home")
        done = run([str(ROOT / ".venv" / "bin" / "assistant"), "setup"], venv_env)
        check(done.returncode == 0, f"venv setup failed: {done.stderr[-1000:]}")
        first_paint([str(venv_python), "-m", "assistant"], venv_env)  # page cache warm, as for the bundle
        results["venv_first_paint_s"] = first_paint([str(venv_python), "-m", "assistant"], venv_env)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the built desktop bundle.")
    parser.add_argument("bundle", type=Path, nargs="?", default=ROOT / "dist" / "assistant")
    parser.add_argument("--compare-venv", action="store_true", help="also time the venv's window")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if not (args.bundle / "assistant").is_file():
        print(f"no bundle in {args.bundle}: run `make bundle` first", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bundle-smoke-"))
    try:
        results = smoke(args.bundle.resolve(), work, args.compare_venv)
    except (SmokeFailed, subprocess.TimeoutExpired) as exc:
        print(f"FAILED: {exc}\n(logs and data are kept in {work})", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("bundle smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
