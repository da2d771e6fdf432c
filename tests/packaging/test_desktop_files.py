"""The Linux desktop files are valid, where the validators are installed, and name icons that exist."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli is not installed")
def test_metainfo_validates():
    (metainfo,) = LINUX.glob("*.metainfo.xml")
    done = subprocess.run(["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-validate is not installed")
def test_desktop_entry_validates(tmp_path):
    entry = tmp_path / "assistant.desktop"
    entry.write_text((LINUX / "assistant.desktop").read_text().replace("@EXEC@", "/opt/assistant/assistant"))
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stdout, done.stdout


def test_the_icon_exists_at_the_usual_sizes():
    entry = (LINUX / "assistant.desktop").read_text()
    assert "Icon=assistant\n" in entry
    sizes = {p.parts[-3] for p in (ROOT / "resources" / "icons" / "hicolor").glob("*/apps/assistant.png")}
    assert {"16x16", "32x32", "48x48", "64x64", "128x128", "256x256", "512x512"} <= sizes
