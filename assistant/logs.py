"""One named logger per area (assistant.engine, assistant.ui, ...), written to the app's log folder."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path


class _LogFile(logging.handlers.RotatingFileHandler):
    """The app's log file. A record that cannot be written (the disk is full, the folder was
    removed) is dropped: logging's own report is a traceback per record on the terminal, burying
    the sentence that tells the user what happened (a download stopped by a full disk)."""

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handleError(record)


def setup_logging(log_dir: Path, *, verbose: bool = False) -> None:
    root = logging.getLogger("assistant")
    target = str((log_dir / "assistant.log").absolute())
    for handler in [h for h in root.handlers if getattr(h, "_assistant", False)]:
        if handler.baseFilename == target:
            return
        # Set up before for another app home (a test, a changed data folder): write here now.
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = _LogFile(log_dir / "assistant.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._assistant = True
    root.addHandler(handler)
