"""A source card warns when its file is gone or changed since it was indexed, as the file is when
the answer is shown, not as it was when the answer was written."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from assistant.knowledge.passages import FILE_CHANGED, FILE_GONE, FILE_UNCHANGED, FILE_WARNINGS
from tests.ui import answers
from tests.ui.test_sources_panel import panel  # noqa: F401 (fixture)

answered = answers.answered  # the session fixture: real answers over real documents


def moved_to(message, folder: Path):
    """`message` as if its documents had been indexed in `folder` (copies of the session's files,
    which other tests read): the same bytes at other paths, with another stat."""
    folder.mkdir()
    rows = []
    for row in message.sources:
        copy = folder / Path(row["path"]).name
        if not copy.exists():
            shutil.copy(row["path"], copy)
        rows.append({**row, "path": str(copy)})
    return replace(message, sources=rows)


def warnings(sources_panel) -> dict[str, set]:
    out: dict[str, set] = {}
    for card in sources_panel.cards():
        shown = card.file_warning.text() if not card.file_warning.isHidden() else ""
        out.setdefault(Path(card.row["path"]).name, set()).add(shown)
    return out


def show(qtbot, sources_panel, message) -> None:
    with qtbot.waitSignal(sources_panel.files_checked, timeout=30_000):
        sources_panel.show_message(message)


def test_a_card_warns_of_a_file_deleted_or_changed_since_indexing(qtbot, panel, answered, tmp_path):  # noqa: F811
    message = moved_to(answered.deposit, tmp_path / "documents")
    assert {r["file_state"] for r in answered.deposit.sources} == {FILE_UNCHANGED}
    # Copies of the indexed bytes: their stat is not the one recorded, so they are hashed (off the
    # UI thread) and found unchanged.
    show(qtbot, panel, message)
    assert warnings(panel) == {"handbook.pdf": {""}, "notes.md": {""}}
    assert all(card.file_state == FILE_UNCHANGED for card in panel.cards())

    (tmp_path / "documents" / "notes.md").unlink()
    with open(tmp_path / "documents" / "handbook.pdf", "ab") as pdf:
        pdf.write(b"\n% an incremental save\n")
    show(qtbot, panel, message)
    assert warnings(panel) == {"handbook.pdf": {"⚠ " + FILE_WARNINGS[FILE_CHANGED]},
                               "notes.md": {"⚠ " + FILE_WARNINGS[FILE_GONE]}}
    gone = next(c for c in panel.cards() if c.row["path"].endswith("notes.md"))
    assert not gone.system_button.isEnabled() and gone.system_button.toolTip() == "The file is no longer there."
    changed = next(c for c in panel.cards() if c.row["path"].endswith("handbook.pdf"))
    assert changed.system_button.isEnabled()  # still there to open, changed or not
    assert "Index the collection again" in changed.file_warning.toolTip()
    assert answered.deposit.sources[0]["file_state"] == FILE_UNCHANGED  # the stored answer is not rewritten


def test_a_warning_recorded_with_an_answer_goes_once_the_file_is_back(qtbot, panel, answered, tmp_path):  # noqa: F811
    message = moved_to(answered.rent, tmp_path / "documents")
    recorded = replace(message, sources=[{**r, "file_state": FILE_GONE, "file_stamp": None}
                                         for r in message.sources])
    show(qtbot, panel, recorded)  # gone when the answer was written, back (restored) since
    assert all(w == {""} for w in warnings(panel).values())
    assert all(card.file_state == FILE_UNCHANGED for card in panel.cards())
