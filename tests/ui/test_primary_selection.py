"""On X11, selecting text is itself a copy (the middle button pastes it). Text selected in a chat
bubble reaches that primary selection without the zero-width spaces that let long runs wrap.

The offscreen platform has no primary selection, so this runs a real X server (xvfb-run) and the
xcb platform in a child process, and drags the mouse across a bubble as a user does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = r'''
import json, subprocess, sys, time
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv)
from assistant.ui.chat_view import ChatView

OTHER = (
    "import sys\n"
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtGui import QClipboard, QGuiApplication\n"
    "app = QGuiApplication(sys.argv)\n"
    "QGuiApplication.clipboard().setText('other\\u200bapp', QClipboard.Mode.Selection)\n"
    "print('set', flush=True)\n"
    "QTimer.singleShot(10000, app.quit)\n"
    "app.exec()\n")
URL = "https://example.org/files/" + "0123456789abcdef" * 8 + ".pdf"
view = ChatView()
view.resize(500, 400)
view.show()
bubble = view.add_user(URL)
out = {"supported": QGuiApplication.clipboard().supportsSelection(), "url": URL,
       "shown": bubble.body.text()}


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


clipboard = QGuiApplication.clipboard()
QTest.qWaitForWindowExposed(view, 10_000)
body = bubble.body
end = QPoint(body.width() - 2, body.height() - 3)
QTest.mousePress(body, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(2, 5))
QTest.mouseMove(body, QPoint(body.width() // 2, body.height() // 2))
QTest.mouseMove(body, end)
QTest.mouseRelease(body, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
wait_until(lambda: clipboard.text(QClipboard.Mode.Selection), 10)
out["selected"] = body.selectedText()
out["primary"] = clipboard.text(QClipboard.Mode.Selection)

# Another program selects text holding a zero-width space while the bubble keeps its selection:
# that text is the other program's, and stays as it is. (Taking it back to clean it would own the
# selection again, so the wait for losing it would run out.)
other = subprocess.Popen([sys.executable, "-c", OTHER], stdout=subprocess.PIPE, text=True)
out["other_set"] = other.stdout.readline().strip()
wait_until(lambda: not clipboard.ownsSelection(), 10)
wait_until(lambda: False, 0.5)  # time for a wrong clean-up to happen
out["bubble_still_selected"] = body.hasSelectedText()
out["primary_after_other"] = clipboard.text(QClipboard.Mode.Selection)
other.kill()
print(json.dumps(out))
'''


def test_text_selected_in_a_bubble_reaches_the_x11_primary_selection_without_break_chances(tmp_path):
    if shutil.which("xvfb-run") is None:
        pytest.skip("no xvfb-run: the X11 primary selection needs an X server (apt-get install xvfb)")
    if shutil.which("xauth") is None:  # xvfb only recommends it, and xvfb-run stops without it
        pytest.skip("no xauth, which xvfb-run needs (apt-get install xauth)")
    script = tmp_path / "bubble_selection.py"  # not select.py: that would shadow the select module
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    run = subprocess.run(["xvfb-run", "-a", sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=os.getcwd())
    if "Could not load the Qt platform plugin" in run.stderr:
        pytest.skip("Qt's xcb platform cannot load here (its X libraries, e.g. libxcb-cursor0, are missing)")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["supported"]
    zwsp = "\u200b"
    assert zwsp in out["shown"] and zwsp in out["selected"]  # the bubble has break chances, and they were selected
    assert out["primary"] == out["url"]
    assert out["other_set"] == "set" and out["bubble_still_selected"]
    assert out["primary_after_other"] == "other\u200bapp"  # not "otherapp": not ours to clean
