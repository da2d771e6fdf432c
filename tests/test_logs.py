"""The log file follows the app home it was last set up for."""

from __future__ import annotations

import logging

from assistant.logs import setup_logging


def test_logging_moves_to_the_new_home_and_is_not_doubled(tmp_path):
    root = logging.getLogger("assistant")
    before = list(root.handlers)
    try:
        setup_logging(tmp_path / "a")
        setup_logging(tmp_path / "b")
        setup_logging(tmp_path / "b")
        logging.getLogger("assistant.test").info("hello from b")
        ours = [h for h in root.handlers if getattr(h, "_assistant", False)]
        assert len(ours) == 1
        ours[0].flush()
        assert "hello from b" in (tmp_path / "b" / "assistant.log").read_text()
        assert "hello from b" not in (tmp_path / "a" / "assistant.log").read_text()
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()


def test_a_log_that_cannot_be_written_drops_the_record_quietly(tmp_path, capsys, monkeypatch):
    root = logging.getLogger("assistant")
    before = list(root.handlers)
    try:
        setup_logging(tmp_path / "full")
        ours = next(h for h in root.handlers if getattr(h, "_assistant", False))

        def disk_full(_record):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(ours, "shouldRollover", disk_full)  # what emit() calls first
        logging.getLogger("assistant.test").warning("cannot be written")
        assert capsys.readouterr().err == ""  # not logging's traceback per record
        monkeypatch.undo()
        logging.getLogger("assistant.test").warning("written again")
        ours.flush()
        assert "written again" in (tmp_path / "full" / "assistant.log").read_text()
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
