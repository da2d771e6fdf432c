"""One named logger per area (assistant.engine, assistant.ui, ...), written to the app's log folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


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
    handler = logging.handlers.RotatingFileHandler(log_dir / "assistant.log", maxBytes=2_000_000,
                                                   backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._assistant = True
    root.addHandler(handler)
