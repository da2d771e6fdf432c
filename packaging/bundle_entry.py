"""PyInstaller's entry script for the desktop bundle; the logic lives in assistant.frozen."""

import sys

from assistant.frozen import main

if __name__ == "__main__":
    sys.exit(main())
