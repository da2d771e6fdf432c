"""The offline guarantee: nothing but loopback, and every library told to stay quiet."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from assistant import offline


def test_the_guard_refuses_a_connection_to_the_outside_and_records_it():
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert offline.take_attempts()  # recorded (and cleared, so this test itself passes)


def test_the_guard_refuses_dns_lookups_of_outside_hosts():
    with pytest.raises(OSError, match="blocked"):
        socket.getaddrinfo("huggingface.co", 443)
    assert any("huggingface.co" in a for a in offline.take_attempts())


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=2)
    client.close()
    server.close()
    assert offline.take_attempts() == []


def test_library_telemetry_and_hub_access_are_off_by_default():
    env = {k: v for k, v in os.environ.items() if k not in offline.OFFLINE_ENV}
    keys = list(offline.OFFLINE_ENV)
    code = f"import assistant, os, json; print(json.dumps({{k: os.environ.get(k) for k in {keys!r}}}))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    values = json.loads(out.stdout)
    assert values["HF_HUB_OFFLINE"] == "1"
    assert values["ANONYMIZED_TELEMETRY"] == "False"
    assert values["HF_HUB_DISABLE_TELEMETRY"] == "1"


def test_child_processes_inherit_the_guard():
    # The engine child imports `assistant` first thing; with the variable set it blocks too.
    assert os.environ.get(offline.BLOCK_ENV) == "1"
    code = ("import assistant, socket\n"
            "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\nexcept OSError as e:\n"
            "    print('blocked' if 'blocked' in str(e) else 'other')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "blocked"
