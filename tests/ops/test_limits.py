"""Limits through a real server: MJPEG viewers per stream and per token, request body
size; each refused in the c2 dialect's error body and counted in
``camnet_limit_refusals_total``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from tests.inprocess import InProcessServer, inprocess_server
from tests.ops.test_metrics import scrape, value

REFUSALS = "camnet_limit_refusals_total"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("limits"),
        mjpeg_max_viewers_per_stream=2,
        mjpeg_max_viewers_per_token=1,
        max_body_bytes=1024,
    ) as running:
        yield running


@contextmanager
def watching(server: InProcessServer, **client: Any) -> Iterator[None]:
    """An MJPEG viewer that holds its stream open (it has its first bytes) until exit."""
    started, stop = threading.Event(), threading.Event()
    failure: list[str] = []

    def run() -> None:
        with server.client(**client) as http, http.stream("GET", "/camera.mjpeg") as response:
            if response.status_code != 200:
                failure.append(f"{response.status_code}")
                started.set()
                return
            for _chunk in response.iter_bytes():
                started.set()
                if stop.is_set():
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    assert not failure, failure
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def refused(server: InProcessServer, **client: Any) -> httpx.Response:
    with server.client(**client) as http:
        return http.get("/camera.mjpeg")


def test_mjpeg_viewers_per_token_and_per_stream(server: InProcessServer) -> None:
    token = {"params": {"token": server.token}}
    admin = {"auth": ("admin", server.admin_password)}
    before = scrape(server)
    with ExitStack() as stack:
        stack.enter_context(watching(server, **token))
        again = refused(server, **token)
        assert again.status_code == 429
        assert again.json()["error"]["code"] == "too_many_viewers"
        stack.enter_context(watching(server, **admin))
        full = refused(server, auth=("admin", server.admin_password))
        assert full.status_code == 503
        assert full.json()["error"]["code"] == "stream_full"
        assert "maximum of 2 viewers" in full.json()["error"]["message"]
        during = scrape(server)
        assert value(during, "camnet_viewers", face="mjpeg", stream="live") == 2
    after = scrape(server)
    for limit in ("mjpeg_viewers_per_token", "mjpeg_viewers_per_stream"):
        gained = value(after, REFUSALS, limit=limit) - value(before, REFUSALS, limit=limit)
        assert gained == 1, limit
    # The places are free again once the viewers have gone.
    with watching(server, **token):
        pass


def test_request_body_size(server: InProcessServer) -> None:
    before = scrape(server)
    with server.client(auth=("admin", server.admin_password)) as http:
        response = http.post(
            "/api",
            content=b'{"x":"' + b"a" * 4096 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"
        # Nothing was applied: the state still answers.
        assert http.get("/api").status_code == 200
    after = scrape(server)
    key = {"limit": "request_body_bytes"}
    assert value(after, REFUSALS, **key) - value(before, REFUSALS, **key) == 1
