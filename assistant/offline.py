"""The offline switch, and a guard that proves nothing leaves the machine.

Every library we ship is told to stay offline through its own environment
variables, set before it is imported. The guard is an audit hook: it sees every
socket connect made from Python in this process, so a test (or a paranoid user,
with ASSISTANT_BLOCK_NETWORK=1) can refuse anything that is not loopback.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb: its default is on
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # Not about the network, but a desktop app prints no library progress bars.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TQDM_DISABLE": "1",
}

BLOCK_ENV = "ASSISTANT_BLOCK_NETWORK"

log = logging.getLogger("assistant.offline")


def apply_offline_environment() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    if os.environ.get(BLOCK_ENV) == "1":
        install_network_guard()


class NetworkBlocked(OSError):
    """Raised in place of a connection to anything but this machine."""


_attempts: list[str] = []
_lock = threading.Lock()
_installed = False
_enabled = True


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if not isinstance(address, tuple) or not address:
        return True
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it would need DNS


def _audit(event: str, args: tuple) -> None:
    if not _enabled:
        return
    if event == "socket.connect":
        address = args[1]
        if not _is_loopback(address):
            _record(f"connect {address!r}")
            raise NetworkBlocked(f"Network access blocked (offline mode): {address!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if host is not None and not _is_loopback((host,)):
            _record(f"getaddrinfo {host!r}")
            raise NetworkBlocked(f"Network access blocked (offline mode): DNS lookup of {host!r}")


def _record(what: str) -> None:
    with _lock:
        _attempts.append(what)
    # Logged too, so a check from outside the process (packaging/bundle_smoke.py) can see it.
    log.warning("blocked a network attempt: %s", what)


def install_network_guard() -> None:
    """Refuse every non-loopback connection from this process from now on."""
    global _installed, _enabled
    _enabled = True
    os.environ[BLOCK_ENV] = "1"  # child processes install it too
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


def take_attempts() -> list[str]:
    """The blocked attempts since the last call, and forget them."""
    with _lock:
        attempts = list(_attempts)
        _attempts.clear()
    return attempts


def guard_installed() -> bool:
    """Whether this process refuses every connection that is not loopback."""
    return _installed and _enabled


# The offline switch is lifted only inside an operation the user started, such as a
# download. The audit guard above is never lifted: it is the user's (or the test
# suite's) explicit "nothing but loopback", and a download cannot overrule that.
_operations: list[str] = []
_listeners: list[Callable[[list[str]], None]] = []
_hub_offline_before: bool | None = None


@contextmanager
def network_allowed_for(reason: str) -> Iterator[None]:
    """Let huggingface_hub reach the network for the duration of one user-started operation.

    huggingface_hub reads HF_HUB_OFFLINE once, at import, into its `constants`
    module; its maintainers' advice for changing it at run time is to set
    `huggingface_hub.constants.HF_HUB_OFFLINE` (huggingface/transformers#42308).
    The environment variable itself is left alone so child processes started
    meanwhile (the engine) stay offline. Nested and concurrent operations are
    counted; the switch goes back to what it was when the last one ends.
    """
    from huggingface_hub import constants

    global _hub_offline_before
    with _lock:
        if not _operations:
            _hub_offline_before = constants.HF_HUB_OFFLINE
            constants.HF_HUB_OFFLINE = False
        _operations.append(reason)
        snapshot = list(_operations)
    _notify(snapshot)
    try:
        yield
    finally:
        with _lock:
            _operations.remove(reason)
            if not _operations:
                constants.HF_HUB_OFFLINE = bool(_hub_offline_before)
            snapshot = list(_operations)
        _notify(snapshot)


def network_operations() -> list[str]:
    """The operations allowed on the network right now (the status bar shows "Downloading…")."""
    with _lock:
        return list(_operations)


def add_network_listener(listener: Callable[[list[str]], None]) -> None:
    """Call `listener(operations)` each time one starts or ends; it runs on the operation's thread."""
    with _lock:
        _listeners.append(listener)


def remove_network_listener(listener: Callable[[list[str]], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def _notify(snapshot: list[str]) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(snapshot)
