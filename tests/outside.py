"""The machine's own servers (NATS, PostgreSQL, MQTT) for the tests that use them.

Such a test skips with the reason when its server is unreachable — except under
``CI=true``, where the server is part of the contract and its absence fails the run.
"""

from __future__ import annotations

import os
import socket

import pytest

NATS_URL = os.environ.get("CAMNET_TEST_NATS", "nats://127.0.0.1:4222")


def require_server(name: str, host: str, port: int) -> None:
    """Skip (or, under CI, fail) unless ``host:port`` accepts a TCP connection."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as exc:
        reason = f"{name} is not reachable at {host}:{port} ({exc})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true this server is required")
    pytest.skip(reason)


def require_nats() -> str:
    """The NATS URL of the machine's server, once it is known to answer."""
    address = NATS_URL.removeprefix("nats://")
    host, _, port = address.rpartition(":")
    require_server("nats-server", host, int(port))
    return NATS_URL
