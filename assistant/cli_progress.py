"""The progress line of `assistant index` (and of the commands that index again)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WAITING = "waiting for another indexing run to finish…"


class IndexProgressPrinter:
    """Prints indexing progress to a terminal as one line rewritten in place; to a file or a pipe
    (a log, a script's capture) as separate lines, at phase changes and at most every few seconds,
    since `\\r` there piles every update onto one endless line."""

    def __init__(self, stream: TextIO | None = None, *, every_s: float = 5.0):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s if not self.tty else 0.5
        self._phase = ""
        self._last = 0.0
        self._folder_skips: int | None = None  # skips found before the first file: folders, not files

    def __call__(self, p) -> None:
        if p.phase == "waiting":  # another process holds the index lock; nothing of this run has started
            self._line(WAITING, final=True)
        if p.phase == "indexing" and self._folder_skips is None:
            self._folder_skips = p.errors
        if p.phase in ("waiting", "done"):  # done: `finish` says how the run ended, from its report
            self._phase = p.phase
            return
        now = time.monotonic()
        if p.phase == self._phase and now - self._last < self.every_s:
            return
        self._phase, self._last = p.phase, now
        current = f" {p.current_file}" if p.current_file else ""
        self._line(f"[{p.phase}] {p.files_done}/{p.files_total} files, {p.chunks} chunks, {p.errors} skipped{current}")

    def finish(self, report) -> None:
        """The last line: how far the run got. A stopped run counts the files it settled, not the
        total it would have reached."""
        file_skips = len(report.skipped) - (self._folder_skips or 0)
        if report.cancelled:
            settled = report.indexed + report.unchanged + report.reused + file_skips
            line = f"[stopped] {settled}/{report.files} files done"
        else:
            line = f"[done] {report.files}/{report.files} files"
        self._line(f"{line}, {report.chunks_added} chunks, {len(report.skipped)} skipped", final=True)

    def _line(self, text: str, *, final: bool = False) -> None:
        if self.tty:
            end = "\n" if final else ""
            print(f"\r{text}"[:160].ljust(100), end=end, file=self.stream, flush=True)
        else:
            print(text, file=self.stream, flush=True)
