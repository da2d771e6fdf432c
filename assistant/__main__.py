"""`python -m assistant`: open the desktop window.

Nothing heavy is imported before the display check, so a machine without a
screen gets a plain hint (exit code 2) instead of a Qt abort.
"""

from __future__ import annotations

import os
import sys

NO_DISPLAY_EXIT = 2

NO_DISPLAY_HINT = """\
assistant: there is no display to open the window on
(DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are all unset).

To run the window on a virtual screen:
    xvfb-run -a make run

Or use the command line, which needs no display:
    .venv/bin/assistant ask "your question"
    .venv/bin/assistant chat
"""


def no_display(environ=os.environ, platform: str = sys.platform) -> bool:
    """True on Linux when Qt would find no display at all."""
    if not platform.startswith("linux"):
        return False
    return not any(environ.get(key) for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


MISSING_XCB_HINT = """\
assistant: Qt cannot open a window on this X display: the system library
libxcb-cursor0 is missing (Qt 6.5+ needs it). On Debian or Ubuntu:
    sudo apt-get install libxcb-cursor0
Or use the command line: .venv/bin/assistant chat
"""


def missing_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """True when Qt would pick its X11 plugin and then abort for want of libxcb-cursor."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM") or not environ.get("DISPLAY"):
        return False
    if environ.get("WAYLAND_DISPLAY"):
        return False
    import ctypes.util

    return ctypes.util.find_library("xcb-cursor") is None


def main(argv: list[str] | None = None) -> int:
    if no_display():
        sys.stderr.write(NO_DISPLAY_HINT)
        return NO_DISPLAY_EXIT
    if missing_xcb():
        sys.stderr.write(MISSING_XCB_HINT)
        return NO_DISPLAY_EXIT
    try:
        from assistant.ui.app import run

        return run(sys.argv if argv is None else [sys.argv[0], *argv])
    except KeyboardInterrupt:  # Ctrl-C before the window was up
        return 130


if __name__ == "__main__":
    sys.exit(main())
