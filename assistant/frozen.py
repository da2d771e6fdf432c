"""The desktop bundle's one executable (packaging/assistant.spec).

No arguments (or only -v / --gui) opens the window; anything else is a command
for the CLI, so `assistant ask "..."` works from the bundle as from the venv.
On each start the bundle registers the models it carries that this data folder has
never seen: each is checked against its SHA-256 once and used where it lies (never
copied, never written to); one the user deleted stays deleted.
"""

from __future__ import annotations

import multiprocessing
import sys

GUI_FLAGS = frozenset({"-v", "--verbose", "--gui"})


def wants_cli(argv: list[str]) -> bool:
    return any(arg not in GUI_FLAGS for arg in argv)


SEEN_FILE = "bundled-models.json"  # in the data folder: the bundled models registered once already


def install_bundled_models() -> None:
    """Verify and register each model the bundle carries that was never registered in this data
    folder; cheap once done. One the user deleted stays deleted (it is in the seen list)."""
    import json

    from assistant.core import Core
    from assistant.setup_models import install_starters

    with Core() as core:
        seen_file = core.paths.data / SEEN_FILE
        try:
            seen = set(json.loads(seen_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            seen = set()
        models = install_starters(core, required=False, report=lambda _msg: None,
                                  progress=_first_start_progress(), skip=frozenset(seen))
        if models:
            seen_file.write_text(json.dumps(sorted(seen | {m.name for m in models})), encoding="utf-8")


def _first_start_progress():
    shown: set[str] = set()

    def progress(name: str, _done: int, _total: int) -> None:
        if name not in shown:
            shown.add(name)
            print(f"assistant: checking the bundled model {name} (first start only)", file=sys.stderr)

    return progress


def main(argv: list[str] | None = None) -> int:
    # The engine runs in a spawned child: in a frozen app the child is this same
    # executable, which must turn into the child here before doing anything else.
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else list(argv)
    if getattr(sys, "frozen", False):
        from assistant.errors import UserFacingError

        try:
            install_bundled_models()
        except UserFacingError as exc:  # e.g. a full disk: the app still starts and says why later
            print(f"assistant: {exc}", file=sys.stderr)
    if wants_cli(argv):
        from assistant.cli import main as cli_main

        return cli_main(argv)
    from assistant.__main__ import main as gui_main

    return gui_main([arg for arg in argv if arg != "--gui"])
