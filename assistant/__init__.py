"""A private, fully offline desktop assistant."""

from assistant.offline import apply_offline_environment

__version__ = "0.1.0"

# Before any third-party import reads them: libraries decide at import time
# whether they may phone home.
apply_offline_environment()
