"""Moving one hub file's bytes into a partial file, resumable from whatever is on disk.

Why not `hf_hub_download`: in huggingface_hub 2.x it writes to a process-unique
temporary file and deletes it on any failure (`_download_to_tmp_and_move`), so
nothing survives a cancel, a dropped connection or a killed app; it reads in
10 MB pieces (`constants.DOWNLOAD_CHUNK_SIZE`), too coarse for progress and
cancel on a slow line; and it checks no SHA-256. So the library does everything
but the byte loop: `hf_hub_url`, `get_hf_file_metadata` (HEAD, hub redirects,
X-Linked-Etag/X-Linked-Size), `build_hf_headers`, and its configured HTTP
session through `http_stream_backoff`, with a Range header as its own
`http_get` sends when it resumes.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, HFValidationError, RepositoryNotFoundError
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff

from assistant import offline
from assistant.errors import is_disk_full
from assistant.models.download_errors import (
    DiskFullDuringDownload,
    DownloadCancelled,
    DownloadError,
    DownloadInterrupted,
    HubUnreachable,
    NetworkForbidden,
    NotOnHub,
)

# Waits before each new attempt after one that brought no new bytes. An attempt that
# did bring bytes starts the count again, as huggingface_hub's http_get does.
RETRY_DELAYS = (1.0, 3.0, 10.0)
_RETRY_STATUS = (408, 429, 500, 502, 503, 504)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_USER_AGENT = "assistant"


@dataclass(frozen=True)
class RemoteFile:
    url: str  # the hub's /resolve/ address
    location: str  # where the bytes are served from (a CDN, after the hub's redirect)
    size: int | None
    sha256: str | None  # the LFS fingerprint the hub reports as its etag, when it is one
    commit: str | None


def hub_endpoint() -> str:
    """HF_ENDPOINT as it is now: huggingface_hub read it once at import, before a mirror or test set it."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def describe_remote(display_name: str, repo_id: str, filename: str, revision: str = "main") -> RemoteFile:
    """Ask the hub (one HEAD request) where the file is, how big it is and its SHA-256."""
    endpoint = hub_endpoint()
    try:
        url = hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)
        meta = get_hf_file_metadata(url, endpoint=endpoint, headers=_headers(),
                                    timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except HFValidationError as exc:
        raise NotOnHub(display_name, repo_id, filename, "that is not a valid hub name") from exc
    except GatedRepoError as exc:
        raise DownloadError(
            f"{display_name} is in a gated repository ({repo_id}): the hub lets only signed-in users "
            "who accepted its terms download it. Nothing was downloaded.") from exc
    except RepositoryNotFoundError as exc:
        raise NotOnHub(display_name, repo_id, filename, "the repository does not exist") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status == 404:
            raise NotOnHub(display_name, repo_id, filename) from exc
        raise DownloadError(f"The model hub refused the download of {display_name} (HTTP {status}). "
                            "Nothing was downloaded.", hint="Try again later.") from exc
    except (httpx2.TransportError, OSError) as exc:
        raise network_error(display_name, endpoint, exc) from exc
    etag = (meta.etag or "").lower()
    return RemoteFile(url=url, location=meta.location, size=meta.size,
                      sha256=etag if _SHA256.fullmatch(etag) else None, commit=meta.commit_hash)


def network_error(display_name: str, where: str, exc: BaseException) -> DownloadError:
    """The user-facing error for a request that never got an answer."""
    seen = exc
    while seen is not None:
        if isinstance(seen, offline.NetworkBlocked):
            return NetworkForbidden(display_name)
        seen = seen.__cause__ or seen.__context__
    return HubUnreachable(display_name, where, _describe(exc))


def fetch(remote: RemoteFile, partial: Path, *, display_name: str, cancel: threading.Event,
          on_bytes: Callable[[int], None],
          refresh: Callable[[], RemoteFile] | None = None) -> RemoteFile:
    """Append the bytes `partial` lacks until it holds the whole file; retry what the network breaks.

    `refresh` asks the hub again before a retry: a CDN address is signed and
    expires, so one fetched an hour ago may no longer open.
    """
    failures = 0
    while True:
        have = file_size(partial)
        if remote.size is not None and have >= remote.size:
            return remote
        if cancel.is_set():
            raise DownloadCancelled(display_name, have)
        on_bytes(have)
        error: BaseException | None = None
        try:
            _fetch_once(remote, partial, have, display_name, cancel, on_bytes)
        except httpx2.TransportError as exc:
            if isinstance(refused := network_error(display_name, remote.location, exc), NetworkForbidden):
                raise refused from exc
            error = exc
        except (_Unusable, HubUnreachable) as exc:
            error = exc
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status not in _RETRY_STATUS and not (refresh and status in (403, 410)):
                raise DownloadError(f"The download of {display_name} was refused by the server (HTTP {status}). "
                                    "The part already received is kept.", hint="Try again later.") from exc
            error = exc
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            raise DiskFullDuringDownload(display_name, file_size(partial), str(partial.parent)) from exc
        got = file_size(partial)
        if error is None and (got > have or remote.size is None):
            if remote.size is None:
                return remote  # no size to compare with: a response that ended cleanly is the whole file
            continue
        failures = 1 if got > have else failures + 1
        if failures > len(RETRY_DELAYS):
            detail = _describe(error) if error else "the server sent no data"
            raise DownloadInterrupted(display_name, got, remote.size, detail,
                                      server_error=isinstance(error, HfHubHTTPError)) from error
        if cancel.wait(RETRY_DELAYS[failures - 1]):
            raise DownloadCancelled(display_name, got)
        if refresh is not None:
            try:
                remote = refresh()
            except HubUnreachable:
                pass  # counted as a failure on the next attempt, which will not connect either


class _Unusable(Exception):
    """A response that cannot be appended to the partial file; the next attempt asks again."""


def _fetch_once(remote: RemoteFile, partial: Path, have: int, display_name: str,
                cancel: threading.Event, on_bytes: Callable[[int], None]) -> None:
    headers = _headers()
    headers["Accept-Encoding"] = "identity"  # offsets must count the file's bytes, not a compressed stream's
    if have:
        headers["Range"] = f"bytes={have}-"
    with http_stream_backoff("GET", remote.location, headers=headers, timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT,
                             retry_on_exceptions=(), retry_on_status_codes=()) as response:
        if have and response.status_code == 416:
            raise _Unusable("the server has no bytes past the part already received")
        hf_raise_for_status(response)
        start = have
        if have and response.status_code != 206:
            start = 0  # the server ignored the Range header and sends the whole file: take it from the top
        elif have and not response.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
            raise _Unusable(f"the server answered a different range ({response.headers.get('Content-Range')})")
        with partial.open("r+b" if partial.exists() else "wb") as fh:
            fh.seek(start)
            fh.truncate()
            done = start
            # No chunk_size: each piece is written as it arrives, so progress and cancel
            # follow the network, not a 10 MB buffer.
            for chunk in response.iter_bytes():
                if cancel.is_set():
                    raise DownloadCancelled(display_name, done)
                # Bytes past the announced size are not the file's: keep the file, let the SHA-256 judge it.
                overrun = remote.size is not None and done + len(chunk) > remote.size
                if overrun:
                    chunk = chunk[:remote.size - done]
                fh.write(chunk)
                fh.flush()  # on disk (in the OS's hands) at once: a killed app resumes from every byte received
                done += len(chunk)
                on_bytes(done)
                if overrun:
                    return


def _headers() -> dict[str, str]:
    return build_hf_headers(library_name=_USER_AGENT)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return "the server stopped answering"
    if isinstance(exc, httpx2.ConnectError):
        return "no connection could be made"
    if isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError)):
        return "the server closed the connection before the end of the file"
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        return f"the server answered HTTP {exc.response.status_code}"
    return str(exc) or type(exc).__name__
