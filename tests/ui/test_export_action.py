"""The conversation list's Export… action: Qt's own save dialog offers Markdown and JSON, the file
follows the chosen type, and a failed write is said to the user (no model, no window)."""

from __future__ import annotations

import errno
import json
import os

from PySide6.QtWidgets import QFileDialog, QMessageBox

from assistant.store import export
from assistant.store.conversations import Conversations
from assistant.store.db import open_database
from assistant.ui.conversation_list import ConversationList
from tests.ui.dialogs import answer, when_modal


def make_list(qtbot, tmp_path) -> tuple[ConversationList, int]:
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create("Lease")
    store.add_message(cid, "user", "What is the deposit?")
    store.add_message(cid, "assistant", "1,500 euros [1].", model="qwen",
                      sources=[{"path": "/docs/lease.pdf", "page": 2, "in_prompt": True, "number": 1, "cited": True,
                                "rank": 1, "scores": {"keyword": 3.2, "vector": 0.7, "fused": 0.9}}])
    widget = ConversationList(store)
    qtbot.addWidget(widget)
    widget.refresh()
    return widget, cid


def save_as(qtbot, seen: dict, *, name_filter: str | None = None, path=None):
    """Answer the save dialog: note what it offered, pick `name_filter` as a user would, then save to
    `path` (default: the name the dialog then suggests, in the test's folder)."""
    def handle(dialog):
        seen["filters"] = dialog.nameFilters()
        seen["suggested"] = os.path.basename(dialog.selectedFiles()[0])
        if name_filter is not None:
            dialog.selectNameFilter(name_filter)
            seen["renamed"] = os.path.basename(dialog.selectedFiles()[0])
        target = path or seen["folder"] / seen.get("renamed", seen["suggested"])
        if target.exists():  # Qt's dialog asks before replacing a file
            when_modal(qtbot, answer("Yes", seen.setdefault("asked", [])), QMessageBox)
        dialog.selectFile(str(target))
        dialog.accept()
    when_modal(qtbot, handle, QFileDialog)


def trigger_export(widget: ConversationList, cid: int) -> None:
    action = next(a for a in widget.menu_for(cid).actions() if a.text() == "Export…")
    action.trigger()


def test_the_dialog_offers_markdown_and_json_and_choosing_json_writes_json(qtbot, tmp_path):
    """The action was 'Export as Markdown…' and its dialog offered Markdown only."""
    widget, cid = make_list(qtbot, tmp_path)
    seen = {"folder": tmp_path}
    save_as(qtbot, seen, name_filter="JSON (*.json)")
    with qtbot.waitSignal(widget.conversation_exported) as exported:
        trigger_export(widget, cid)
    assert seen["filters"] == ["Markdown (*.md)", "JSON (*.json)"]
    assert seen["suggested"] == "Lease.md" and seen["renamed"] == "Lease.json"
    assert exported.args == [cid, str(tmp_path / "Lease.json")]
    doc = json.loads((tmp_path / "Lease.json").read_text(encoding="utf-8"))
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant"]
    assert doc["messages"][1]["sources"][0]["scores"]["keyword"] == 3.2


def test_a_name_without_extension_takes_the_chosen_types(qtbot, tmp_path):
    widget, cid = make_list(qtbot, tmp_path)
    save_as(qtbot, {"folder": tmp_path}, path=tmp_path / "audit")
    with qtbot.waitSignal(widget.conversation_exported) as exported:
        trigger_export(widget, cid)
    assert exported.args == [cid, str(tmp_path / "audit.md")]
    assert (tmp_path / "audit.md").read_text(encoding="utf-8").startswith("# Lease\n")


def test_a_failed_write_is_said_and_the_earlier_file_is_kept(qtbot, tmp_path, monkeypatch):
    widget, cid = make_list(qtbot, tmp_path)
    target = tmp_path / "new" / "lease.json"
    target.parent.mkdir()
    target.write_text("the earlier export\n", encoding="utf-8")

    def disk_full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export.os, "fsync", disk_full)
    seen = {"folder": tmp_path}
    save_as(qtbot, seen, path=target)
    with qtbot.waitSignal(widget.problem) as problem, qtbot.assertNotEmitted(widget.conversation_exported):
        assert widget.export(cid) is None
    assert len(seen["asked"]) == 1  # the user agreed to replace it
    assert problem.args == [f"The conversation could not be saved to {target}: No space left on device."]
    assert target.read_text(encoding="utf-8") == "the earlier export\n"
    assert list(target.parent.iterdir()) == [target]  # no partial file
