"""``/metrics`` through a real server: closed without credentials, requests labelled by
route template (never the raw path), viewers and frames read from the node, each
in-process server with its own registry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from camnet.ops.metrics import LIMITS
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


def viewer_series(samples: Samples, name: str, device: str, stream: str) -> dict[str, float]:
    """The per-viewer series of ``name`` for one stream, by viewer id."""
    found = {}
    for (sample, labels), number in samples.items():
        named = dict(labels)
        if sample == name and named.get("device") == device and named.get("stream") == stream:
            found[named["viewer"]] = number
    return found


@contextmanager
def mjpeg_viewer(server: InProcessServer, url: str, **client: Any) -> Iterator[None]:
    """A viewer that reads the stream (it has its first bytes) until the block ends."""
    stop = threading.Event()
    got_bytes = threading.Event()

    def watch() -> None:
        with server.client(**client) as http, http.stream("GET", url) as response:
            assert response.status_code == 200
            for _chunk in response.iter_bytes():
                got_bytes.set()
                if stop.is_set():
                    return

    viewer = threading.Thread(target=watch, daemon=True)
    viewer.start()
    try:
        assert got_bytes.wait(10)
        yield
    finally:
        stop.set()
        viewer.join(10)


def scrape_until(server: InProcessServer, done: Callable[[Samples], bool]) -> Samples:
    deadline = time.monotonic() + 10
    while not done(samples := scrape(server)):
        assert time.monotonic() < deadline, "the metrics did not get there"
        time.sleep(0.1)
    return samples


def test_live_viewers_and_frames_come_from_the_node(server: InProcessServer) -> None:
    device = server.app.state.node.control_unit.name
    live = {"face": "mjpeg", "device": device, "stream": "live"}
    with mjpeg_viewer(server, f"/camera.mjpeg?token={server.token}"):
        during = scrape(server)
        assert value(during, "camnet_viewers", **live) == 1
        assert value(during, "camnet_stream_consumers", device=device, stream="live") >= 1
        assert value(during, "camnet_frames_encoded_total", device=device, stream="live") >= 1
    after = scrape_until(server, lambda s: value(s, "camnet_viewers", **live) == 0)
    assert value(after, "camnet_viewers", **live) == 0


def test_per_viewer_frames_while_the_viewer_watches(server: InProcessServer) -> None:
    """Each live MJPEG viewer has its own sent/dropped series, growing while it
    watches; the series is gone once the viewer has left."""
    device = server.app.state.node.control_unit.name
    sent = "camnet_viewer_frames_sent_total"
    dropped = "camnet_viewer_frames_dropped_total"
    with mjpeg_viewer(server, f"/camera.mjpeg?token={server.token}"):
        first = scrape_until(server, lambda s: len(viewer_series(s, sent, device, "live")) == 1)
        (viewer, count) = next(iter(viewer_series(first, sent, device, "live").items()))
        assert count >= 1
        assert viewer in viewer_series(first, dropped, device, "live")
        later = scrape_until(
            server, lambda s: viewer_series(s, sent, device, "live").get(viewer, 0) > count
        )
        assert viewer_series(later, sent, device, "live")[viewer] > count
    gone = scrape_until(server, lambda s: not viewer_series(s, sent, device, "live"))
    assert not viewer_series(gone, dropped, device, "live")


def test_streams_video_viewers_have_series_too(server: InProcessServer) -> None:
    """The streams face's ``/video`` viewers are counted the same way, under the
    stereo camera's device name."""
    node = server.app.state.node
    mxid, camera = next(iter(node.stereo.cameras.items()))
    device, stream = camera.device.name, camera.hubs["CAM_A"].name
    url = f"/cameras/{mxid}/streams/CAM_A/video"
    sent = "camnet_viewer_frames_sent_total"
    with mjpeg_viewer(server, url, auth=("admin", server.admin_password)):
        during = scrape_until(server, lambda s: len(viewer_series(s, sent, device, stream)) == 1)
        live = {"face": "mjpeg", "device": device, "stream": stream}
        assert value(during, "camnet_viewers", **live) == 1
    scrape_until(server, lambda s: not viewer_series(s, sent, device, stream))


def test_bus_webhooks_recordings_and_limits_are_present(server: InProcessServer) -> None:
    samples = scrape(server)
    assert value(samples, "camnet_bus_connected") == 1
    assert value(samples, "camnet_bus_messages_published_total") > 0
    assert ("camnet_webhook_backlog", frozenset()) in samples
    assert ("camnet_retention_deleted_segments_total", frozenset()) in samples
    for limit in LIMITS:
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
