"""What can go wrong in a model download, each as a sentence the user can act on.

Kept apart from download.py so the transfer code can raise them without an
import cycle; download.py re-exports them.
"""

from __future__ import annotations

from assistant.errors import UserFacingError
from assistant.models.units import size_text


class DownloadError(UserFacingError):
    """A model download did not finish; the message says why and what was kept."""


class DownloadCancelled(DownloadError):
    def __init__(self, display_name: str, bytes_kept: int, *, installed_check: bool = False):
        """`installed_check`: cancelled while an installed copy was being hashed again, before any download."""
        kept = (f" The {size_text(bytes_kept)} already received are kept, so downloading it again "
                "continues from there." if bytes_kept else "")
        super().__init__(f"The check of {display_name} was stopped. The installed copy was not changed."
                         if installed_check else f"The download of {display_name} was cancelled.{kept}")
        self.bytes_kept = bytes_kept


class NotOnHub(DownloadError):
    def __init__(self, display_name: str, repo_id: str, filename: str, detail: str = "not found"):
        super().__init__(
            f"{display_name} cannot be downloaded: the model hub has no file {filename} in {repo_id} "
            f"({detail}). Nothing was downloaded.",
            hint="The model may have been renamed or removed; check the catalog entry.")


class HubUnreachable(DownloadError):
    def __init__(self, display_name: str, where: str, detail: str):
        super().__init__(
            f"The model hub ({where}) could not be reached, so {display_name} was not downloaded ({detail}).",
            hint="Check the internet connection and try again.")


class NetworkForbidden(DownloadError):
    def __init__(self, display_name: str):
        super().__init__(
            f"{display_name} cannot be downloaded because this app is set to refuse all network access "
            "(ASSISTANT_BLOCK_NETWORK=1).",
            hint="Unset ASSISTANT_BLOCK_NETWORK to allow downloads you start yourself.")


class DownloadInterrupted(DownloadError):
    def __init__(self, display_name: str, bytes_kept: int, total: int | None, detail: str, *,
                 server_error: bool = False):
        of = f" of {size_text(total)}" if total else ""
        what = ("The model hub kept failing" if server_error else "The connection dropped")
        kept = (f" The {size_text(bytes_kept)}{of} already received are kept; downloading it again continues "
                "from there." if bytes_kept else " Nothing was received yet.")
        super().__init__(f"{what} while downloading {display_name} ({detail}).{kept}",
                         hint="Try again later." if server_error else None)
        self.bytes_kept = bytes_kept


class HashMismatch(DownloadError):
    def __init__(self, display_name: str, expected: str, actual: str, source: str):
        super().__init__(
            f"The downloaded file for {display_name} is not the published one: its SHA-256 fingerprint "
            f"({actual[:12]}…) differs from the one {source} ({expected[:12]}…). The file was deleted "
            "and nothing was installed.",
            hint="Try the download again; if it fails the same way, the file on the hub is damaged.")


class NotEnoughDiskSpace(DownloadError):
    def __init__(self, display_name: str, needed: int, free: int, margin: int, folder: str):
        super().__init__(
            f"There is not enough free disk space to download {display_name}: it needs "
            f"{size_text(needed + margin)} ({size_text(needed)} for the model and {size_text(margin)} to spare), "
            f"and only {size_text(free)} is free in {folder}.",
            hint="Free some space (or remove a model you no longer use) and try again.")
        self.needed = needed
        self.free = free


class DiskFullDuringDownload(DownloadError):
    """The disk filled up mid-download (after the free-space check passed: another program wrote meanwhile)."""

    def __init__(self, display_name: str, bytes_kept: int, folder: str):
        super().__init__(
            f"The disk became full while downloading {display_name}. The {size_text(bytes_kept)} already "
            f"received are kept in {folder}; the download continues from there once there is room.",
            hint="Free some space and download it again.")
        self.bytes_kept = bytes_kept
