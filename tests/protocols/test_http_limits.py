"""Connection-level limits against a real server (issue 17, item 5): the request head's
size (431) and time (408, or a plain close for a socket that never speaks), connections
per address (429) and in all (503); each refusal counted in
``camnet_limit_refusals_total``, and the server answering others meanwhile."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import pytest
import websocket

from tests.inprocess import InProcessServer, inprocess_server

HEAD = b"GET /healthz HTTP/1.1\r\nHost: camnet\r\n"


def refusals(server: InProcessServer, limit: str) -> float:
    value = server.app.state.metrics.registry.get_sample_value(
        "camnet_limit_refusals_total", {"limit": limit}
    )
    return float(value or 0.0)


def connect(server: InProcessServer, source: str = "127.0.0.1") -> socket.socket:
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def wait_for(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def heads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("heads"), http_max_header_bytes=4096, http_header_timeout=1.0
    ) as running:
        yield running


def test_a_head_over_the_limit_is_431(heads: InProcessServer) -> None:
    before = refusals(heads, "header_bytes")
    with connect(heads) as sock:
        sock.sendall(HEAD + b"X-Fill: " + b"a" * 3000 + b"\r\n\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 200 "), "a head under the limit is served"
    with connect(heads) as sock:
        sock.sendall(HEAD + b"X-Fill: " + b"a" * 5000 + b"\r\n\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 431 ")
    assert refusals(heads, "header_bytes") == before + 1


def test_a_never_ending_header_costs_at_most_the_limit(heads: InProcessServer) -> None:
    before = refusals(heads, "header_bytes")
    sent = 0
    with connect(heads) as sock:
        sock.sendall(HEAD + b"X-Endless: ")
        try:
            while sent < 100 << 20:
                sock.sendall(b"b" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 4 << 20, "the server closed long before 100 MiB"
    assert refusals(heads, "header_bytes") == before + 1


def test_a_slow_head_is_408_and_a_silent_socket_is_closed(heads: InProcessServer) -> None:
    slow, idle = refusals(heads, "header_timeout"), refusals(heads, "idle_timeout")
    with connect(heads) as sock:
        sock.sendall(HEAD + b"X-Slow: 1\r\n")  # and never the blank line
        started = time.monotonic()
        assert answer(sock).startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 8
    with connect(heads) as sock:
        assert answer(sock) == b""
    assert refusals(heads, "header_timeout") == slow + 1
    assert refusals(heads, "idle_timeout") == idle + 1
    with heads.client() as http:  # keep-alive requests are untouched by the head timer
        for _ in range(2):
            assert http.get("/healthz").status_code == 200
            time.sleep(0.6)


def test_connections_per_address_and_in_all(tmp_path: Path) -> None:
    with (
        inprocess_server(
            tmp_path, http_max_connections=5, http_max_connections_per_address=3
        ) as server,
        ExitStack() as held,
    ):
        guard = server.app.state.node.listeners.guard
        wait_for(lambda: guard.total == 0)
        for _ in range(3):
            held.enter_context(connect(server))
        wait_for(lambda: guard.total == 3)
        with connect(server) as fourth:
            assert answer(fourth).startswith(b"HTTP/1.1 429 ")
        for _ in range(2):
            held.enter_context(connect(server, "127.0.0.2"))
        wait_for(lambda: guard.total == 5)
        with connect(server, "127.0.0.3") as sixth:
            refused = answer(sixth)
            assert refused.startswith(b"HTTP/1.1 503 ")
            assert b"retry-after: 1" in refused
        assert refusals(server, "connections_per_address") == 1
        assert refusals(server, "connections_total") == 1
        held.close()
        wait_for(lambda: guard.total == 0)
        with server.client() as http:
            assert http.get("/healthz").status_code == 200


def test_a_websocket_holds_its_place_until_it_closes(heads: InProcessServer) -> None:
    guard = heads.app.state.node.listeners.guard
    wait_for(lambda: guard.total == 0)
    query = urlencode({"user": "admin", "token": heads.admin_password})
    ws = websocket.create_connection(f"{heads.url.replace('http', 'ws')}/api?{query}", timeout=5)
    try:
        ws.recv()  # the whole state: upgraded and served
        time.sleep(1.5)  # past the head timer (1 s): a WebSocket is not a slow head
        assert guard.total == 1
        ws.send('{"nope": 1}')
        deadline = time.monotonic() + 5
        while "error" not in ws.recv():  # readings arrive in between
            assert time.monotonic() < deadline, "the WebSocket stopped answering"
    finally:
        ws.close()
    wait_for(lambda: guard.total == 0)
