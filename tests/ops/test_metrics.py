"""``/metrics`` through a real server: closed without credentials, requests labelled by
route template (never the raw path), viewers and frames read from the node, each
in-process server with its own registry."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.inprocess import InProcessServer, inprocess_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("metrics")) as running:
        yield running


def scrape(server: InProcessServer) -> Samples:
    with server.client(auth=("admin", server.admin_password)) as http:
        response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_need_credentials(server: InProcessServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        response = http.get("/metrics")
    assert response.status_code == 401
    assert "camnet_" not in response.text


def test_requests_are_labelled_by_route_template(server: InProcessServer) -> None:
    before = scrape(server)
    with server.client(auth=("admin", server.admin_password)) as http:
        for name in ("one", "two", "three"):
            assert http.get(f"/services/{name}").status_code == 404
        assert http.get("/services/default").status_code == 200
        assert http.get("/no/such/thing").status_code == 404
    after = scrape(server)
    labels = {"route": "/services/{account}", "method": "GET", "status": "404"}
    key = "camnet_http_requests_total"
    assert value(after, key, **labels) - value(before, key, **labels) == 3
    ok = {**labels, "status": "200"}
    assert value(after, key, **ok) - value(before, key, **ok) == 1
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert value(after, key, **unmatched) - value(before, key, **unmatched) == 1
    # No series carries a raw path.
    assert not any("/services/one" in str(labels) for _, labels in after)
    count = "camnet_http_request_duration_seconds_count"
    route = {"route": "/services/{account}", "method": "GET"}
    assert value(after, count, **route) - value(before, count, **route) == 4


def test_gate_refusals_are_counted(server: InProcessServer) -> None:
    before = scrape(server)
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/accounts").status_code == 401
    after = scrape(server)
    labels = {"route": "/accounts", "method": "GET", "status": "401"}
    key = "camnet_http_requests_total"
    assert value(after, key, **labels) - value(before, key, **labels) == 1


def test_live_viewers_and_frames_come_from_the_node(server: InProcessServer) -> None:
    device = f"{server.app.state.node.control_unit.name}"
    stop = threading.Event()
    got_bytes = threading.Event()

    def watch() -> None:
        url = f"/camera.mjpeg?token={server.token}"
        with server.client() as http, http.stream("GET", url) as response:
            assert response.status_code == 200
            for _chunk in response.iter_bytes():
                got_bytes.set()
                if stop.is_set():
                    return

    viewer = threading.Thread(target=watch, daemon=True)
    viewer.start()
    try:
        assert got_bytes.wait(10)
        during = scrape(server)
        assert value(during, "camnet_viewers", face="mjpeg", stream="live") == 1
        assert value(during, "camnet_stream_consumers", device=device, stream="live") >= 1
        assert value(during, "camnet_frames_encoded_total", device=device, stream="live") >= 1
    finally:
        stop.set()
        viewer.join(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = scrape(server)
        if value(after, "camnet_viewers", face="mjpeg", stream="live") == 0:
            break
        time.sleep(0.1)
    assert value(after, "camnet_viewers", face="mjpeg", stream="live") == 0


def test_bus_webhooks_recordings_and_limits_are_present(server: InProcessServer) -> None:
    samples = scrape(server)
    assert value(samples, "camnet_bus_connected") == 1
    assert value(samples, "camnet_bus_messages_published_total") > 0
    assert ("camnet_webhook_backlog", frozenset()) in samples
    assert ("camnet_retention_deleted_segments_total", frozenset()) in samples
    for limit in ("mjpeg_viewers_per_stream", "mjpeg_viewers_per_token", "request_body_bytes"):
        assert ("camnet_limit_refusals_total", frozenset({("limit", limit)})) in samples


def test_each_server_has_its_own_registry(
    server: InProcessServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with inprocess_server(tmp_path_factory.mktemp("metrics-other")) as other:
        with httpx.Client(base_url=other.url) as http:
            assert http.get("/healthz").status_code == 200
        mine = scrape(server)
        theirs = scrape(other)
    key = "camnet_http_requests_total"
    health = {"route": "/healthz", "method": "GET", "status": "200"}
    assert value(theirs, key, **health) == 1
    assert value(mine, key, **health) == 0


def test_metrics_can_be_opened_by_setting(tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("metrics-open")
    with (
        inprocess_server(directory, metrics_open=True) as running,
        httpx.Client(base_url=running.url) as http,
    ):
        response = http.get("/metrics")
    assert response.status_code == 200
    assert "camnet_http_requests_total" in response.text
