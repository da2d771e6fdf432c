"""A fake model hub on 127.0.0.1 that huggingface_hub can download from, with faults on demand.

It answers what `get_hf_file_metadata` and a ranged GET need:
HEAD/GET `/{repo_id}/resolve/{revision}/{filename}` with X-Repo-Commit, ETag and
X-Linked-Etag (the SHA-256), X-Linked-Size; by default the hub redirects (302)
to a "CDN" address on `localhost`, which huggingface_hub treats as another host,
as it does the real hub's CDN. Bytes are served with Range/206 support.

Faults, set as attributes between requests:
- drop_at / drops: close the connection once the file offset reaches drop_at, `drops` times
- hold_at: stop sending at that offset until `release` is set (`held` is set meanwhile)
- corrupt_at: flip the byte at that offset (the advertised SHA-256 stays the true one)
- advertised_sha: announce another SHA-256 than the file's
- bytes_per_s: throttle the body
- extra_bytes: send that many bytes more than the file has (counted in Content-Length)
Every request is logged (method, path, first byte asked for).

Run as a script to serve one file for manual trials:
    python -m tests.models.hub_server REPO_ID FILE.gguf SHA256
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SLICE = 64 * 1024
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_CDN = re.compile(r"^/cdn/(?P<sha>[0-9a-f]{64})$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class HubFile:
    path: Path
    sha256: str
    size: int


@dataclass
class Request:
    method: str
    path: str
    range_start: int | None  # None: no Range header, the whole file was asked for
    status: int


@dataclass
class FakeHub:
    redirect: bool = True
    drop_at: int | None = None
    drops: int = 0
    hold_at: int | None = None
    corrupt_at: int | None = None
    advertised_sha: str | None = None
    bytes_per_s: int | None = None
    extra_bytes: int = 0
    failing_status: int | None = None  # every request for a file's bytes gets this error status
    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def add(self, repo_id: str, filename: str, path: Path, sha256: str) -> None:
        self.files[(repo_id, filename)] = HubFile(path, sha256, path.stat().st_size)

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()  # a held response must not keep the server from closing
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gets(self) -> list[Request]:
        """The requests that fetched bytes (not the HEADs nor the redirects)."""
        return [r for r in list(self.log) if r.method == "GET" and r.status in (200, 206)]

    def _by_sha(self, sha: str) -> HubFile | None:
        return next((f for f in self.files.values() if f.sha256 == sha), None)


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass  # quiet: the hub keeps its own log

    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        hub = self.hub
        range_start = None
        if m := _RANGE.match(self.headers.get("Range", "")):
            range_start = int(m.group(1))
        resolve, cdn = _RESOLVE.match(self.path), _CDN.match(self.path)
        file = None
        if resolve:
            file = hub.files.get((resolve["repo"], resolve["file"]))
        elif cdn:
            file = hub._by_sha(cdn["sha"])
        if file is None:
            known_repo = resolve and any(repo == resolve["repo"] for repo, _ in hub.files)
            code = "EntryNotFound" if known_repo else "RepoNotFound"
            hub.log.append(Request(self.command, self.path, range_start, 404))
            self._send_empty(404, {"X-Error-Code": code, "X-Error-Message": f"{code}: {self.path}"})
            return
        sha = hub.advertised_sha or file.sha256
        meta = {"X-Repo-Commit": COMMIT, "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(file.size),
                "ETag": f'"{sha}"', "Accept-Ranges": "bytes"}
        if resolve and hub.redirect:
            hub.log.append(Request(self.command, self.path, range_start, 302))
            self._send_empty(302, {**meta, "Location": f"http://localhost:{hub.port}/cdn/{file.sha256}"})
            return
        if hub.failing_status is not None:
            hub.log.append(Request(self.command, self.path, range_start, hub.failing_status))
            self._send_empty(hub.failing_status, {})
            return
        start = range_start if range_start is not None and range_start < file.size else 0
        if range_start is not None and range_start >= file.size:
            hub.log.append(Request(self.command, self.path, range_start, 416))
            self._send_empty(416, {"Content-Range": f"bytes */{file.size}"})
            return
        status = 206 if range_start is not None else 200
        hub.log.append(Request(self.command, self.path, range_start, status))
        self.send_response(status)
        for key, value in meta.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(file.size - start + hub.extra_bytes))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{file.size - 1}/{file.size}")
        self.end_headers()
        if body:
            self._send_body(file, start)

    def _send_empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_body(self, file: HubFile, offset: int) -> None:
        hub = self.hub
        began = time.monotonic()
        sent = 0
        with file.path.open("rb") as fh:
            fh.seek(offset)
            while offset < file.size:
                stop = min(offset + SLICE, file.size)
                for limit in (hub.drop_at, hub.hold_at):
                    if limit is not None and offset < limit < stop:
                        stop = limit  # end the slice exactly at the fault's offset
                if hub.drop_at is not None and hub.drops > 0 and offset == hub.drop_at:
                    hub.drops -= 1
                    self.close_connection = True  # the client sees the body end early
                    return
                if hub.hold_at is not None and offset == hub.hold_at:
                    hub.held.set()
                    hub.release.wait(timeout=60)
                    hub.hold_at = None
                chunk = bytearray(fh.read(stop - offset))
                if hub.corrupt_at is not None and offset <= hub.corrupt_at < stop:
                    chunk[hub.corrupt_at - offset] ^= 0xFF
                try:
                    self.wfile.write(chunk)
                except OSError:
                    return  # the client went away (cancelled, or killed)
                offset = stop
                sent += len(chunk)
                if hub.bytes_per_s:
                    # The fake line's speed: wait until the bytes sent so far are "due".
                    ahead = sent / hub.bytes_per_s - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)
        try:
            self.wfile.write(b"\0" * hub.extra_bytes)
        except OSError:
            return


if __name__ == "__main__":
    import sys

    repo_id, filename, sha = sys.argv[1:4]
    server = FakeHub()
    server.add(repo_id, Path(filename).name, Path(filename), sha)
    server.start()
    print(f"HF_ENDPOINT={server.url}", flush=True)
    threading.Event().wait()
