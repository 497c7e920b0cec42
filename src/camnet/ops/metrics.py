"""Prometheus metrics of one node, in a registry of its own (several in-process servers
in one test process never share a series).

Two kinds: counters the request path increments (HTTP requests by route template, limit
refusals), and everything else read at scrape time from the node's own objects by a
``Collector`` (viewers, frames, bus messages, NATS state, webhook backlog, recording
bytes), so the hot paths carry no metric code of their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camnet.bus.nats import NatsBus
from camnet.fleet.tables import webhook_attempts, webhook_deliveries
from camnet.ops import logs
from camnet.routing import find_route
from camnet.store.tables import recordings

if TYPE_CHECKING:
    from camnet.media.hub import StreamHub
    from camnet.node import Node

access_log = logging.getLogger("camnet.access")
"""One line per request at debug level (the credentials in it are redacted on output)."""

UNMATCHED = "<unmatched>"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The node's registry and the counters the request path increments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "camnet_http_requests",
            "HTTP requests and WebSocket sessions answered, by route template",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "camnet_http_request_duration_seconds",
            "Seconds from a request's arrival to its response's first line (for streams: "
            "until the stream starts), by route template",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.refusals = Counter(
            "camnet_limit_refusals",
            "Requests refused because a configured limit was reached",
            ("limit",),
            registry=self.registry,
        )
        for name in LIMITS:
            self.refusals.labels(name)

    def refused(self, limit: str) -> None:
        self.refusals.labels(limit).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


LIMITS = (
    "mjpeg_viewers_per_stream",
    "mjpeg_viewers_per_token",
    "request_body_bytes",
    "websocket_message_bytes",
    "page_size",
    "fleet_concurrent_images",
    "header_bytes",
    "header_timeout",
    "idle_timeout",
    "connections_per_address",
    "connections_total",
)
"""The limits counted in ``camnet_limit_refusals_total`` (each present from the start)."""


def route_template(router: Router, scope: Scope) -> str:
    """The path template of the route that serves ``scope`` (never the raw path: the
    number of series stays bounded whatever clients ask for)."""
    route = find_route(router.routes, scope).full
    return str(getattr(route, "path", UNMATCHED)) if route is not None else UNMATCHED


class RequestMiddleware:
    """Outermost ASGI layer: a request id (echoed as ``X-Request-ID`` and set in the
    logging context), and the request counter and latency by route template."""

    def __init__(self, app: ASGIApp, router: Router, metrics: Metrics) -> None:
        self.app = app
        self.router = router
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = logs.sane_request_id(given)
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = [0]
        method = scope.get("method", "WS") if scope["type"] == "http" else "WS"

        async def send_with_id(message: Message) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.accept", "websocket.http.response.start"):
                if kind != "websocket.accept":
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k != b"x-request-id"
                    ]
                    headers.append((b"x-request-id", rid.encode()))
                    message = {**message, "headers": headers}
                status[0] = int(message.get("status", 101))
                self._observe(scope, method, started)
            elif kind == "websocket.close" and status[0] == 0:
                status[0] = 403
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status[0] = 500
            raise
        finally:
            if status[0] == 0:
                status[0] = 499 if scope["type"] == "http" else 1000
            if access_log.isEnabledFor(logging.DEBUG):
                query = scope.get("query_string", b"").decode("latin-1")
                target = scope["path"] + (f"?{query}" if query else "")
                access_log.debug("%s %s %d", method, target, status[0])
            logs.request_id.reset(token)
            self.metrics.requests.labels(
                route_template(self.router, scope), method, str(status[0])
            ).inc()
            if status[0] == 413:
                # Every dialect answers an oversized body with 413 (its own error body).
                self.metrics.refused("request_body_bytes")

    def _observe(self, scope: Scope, method: str, started: float) -> None:
        self.metrics.latency.labels(route_template(self.router, scope), method).observe(
            time.perf_counter() - started
        )


class NodeCollector(Collector):
    """Reads the node's state at scrape time."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        node = self.node
        hubs = self._all_hubs()
        yield from self._hubs(hubs)
        yield from self._viewers(hubs)
        yield from self._encoders()
        published = CounterMetricFamily(
            "camnet_bus_messages_published", "Messages this node published on its bus"
        )
        published.add_metric([], float(getattr(node.bus, "published", 0)))
        yield published
        connected = GaugeMetricFamily(
            "camnet_bus_connected", "1 while the bus is connected (NATS), always 1 for local"
        )
        connected.add_metric([], 1.0 if bus_connected(node) else 0.0)
        yield connected
        if node.mqtt is not None:
            mqtt = GaugeMetricFamily(
                "camnet_mqtt_connected", "1 while the MQTT bridge is connected to its broker"
            )
            mqtt.add_metric([], 1.0 if node.mqtt.connected.is_set() else 0.0)
            yield mqtt
        deleted = CounterMetricFamily(
            "camnet_retention_deleted_segments",
            "Visual Backup segments deleted by retention since start",
        )
        deleted.add_metric([], float(getattr(node.recording, "retention_deleted", 0)))
        yield deleted
        yield from self._database()

    def _all_hubs(self) -> list[tuple[str, StreamHub]]:
        node = self.node
        hubs: list[tuple[str, StreamHub]] = [
            (node.control_unit.name, hub) for hub in node.media.hubs
        ]
        for camera in node.stereo.cameras.values():
            hubs.extend((camera.device.name, hub) for hub in camera.hubs.values())
        return hubs

    def _hubs(self, hubs: list[tuple[str, StreamHub]]) -> Iterator[Metric]:
        labels = ("device", "stream")
        consumers = GaugeMetricFamily(
            "camnet_stream_consumers",
            "Consumers of a stream's encoder now (viewers, recorders, image requests)",
            labels=labels,
        )
        families: dict[str, CounterMetricFamily] = {
            "captured": CounterMetricFamily(
                "camnet_frames_captured", "Frames composed from a camera's picture", labels=labels
            ),
            "encoded": CounterMetricFamily(
                "camnet_frames_encoded",
                "JPEG encodes (pictures and no-signal cards)",
                labels=labels,
            ),
            "skipped": CounterMetricFamily(
                "camnet_frames_dropped",
                "Frames an MJPEG viewer did not get because it was slower than the stream "
                "(summed over the stream's viewers)",
                labels=labels,
            ),
        }
        for device_name, hub in hubs:
            status: dict[str, Any] = hub.status()
            consumers.add_metric([device_name, hub.name], status["consumers"])
            for key, family in families.items():
                family.add_metric([device_name, hub.name], float(status.get(key, 0)))
        yield consumers
        yield from families.values()

    def _encoders(self) -> Iterator[Metric]:
        """The shared H.264 encoders (RTSP and the WebSocket fMP4 view), one per stream
        that has been watched: a stream watched twice at once still starts one."""
        labels = ("stream",)
        clients = GaugeMetricFamily(
            "camnet_h264_encoder_clients",
            "Subscribers of a stream's H.264 encoder now (RTSP sessions, fMP4 viewers)",
            labels=labels,
        )
        families = {
            "starts": CounterMetricFamily(
                "camnet_h264_encoder_starts",
                "Times a stream's H.264 encoder started (first subscriber after none)",
                labels=labels,
            ),
            "encoded": CounterMetricFamily(
                "camnet_h264_frames_encoded",
                "Pictures H.264-encoded, once each whatever the number of subscribers",
                labels=labels,
            ),
            "keyframes": CounterMetricFamily(
                "camnet_h264_keyframes", "H.264 keyframes (IDR pictures) encoded", labels=labels
            ),
            "dropped": CounterMetricFamily(
                "camnet_h264_frames_dropped",
                "Encoded pictures a subscriber too slow to take them did not get (summed)",
                labels=labels,
            ),
        }
        for encoder in self.node.encoders:
            clients.add_metric([encoder.name], float(encoder.clients))
            counts = vars(encoder.counters)
            for key, family in families.items():
                family.add_metric([encoder.name], float(counts[key]))
        yield clients
        yield from families.values()

    def _viewers(self, hubs: list[tuple[str, StreamHub]]) -> Iterator[Metric]:
        node = self.node
        viewers = GaugeMetricFamily(
            "camnet_viewers",
            "Live viewers now: MJPEG viewers of a device's stream (c2 /camera.mjpeg, streams "
            "/video), c2 WebSocket clients of a device (stream empty)",
            labels=("face", "device", "stream"),
        )
        for device_name, hub in hubs:
            viewers.add_metric(["mjpeg", device_name, hub.name], len(hub.viewers))
        viewers.add_metric(["websocket", node.control_unit.name, ""], node.c2_fanout.client_count)
        yield viewers
        # One series per live viewer, gone when the viewer goes: the number of series is
        # bounded by the viewer caps, and nothing is left behind for a client that left.
        labels = ("device", "stream", "viewer")
        sent = CounterMetricFamily(
            "camnet_viewer_frames_sent",
            "Frames sent to one live MJPEG viewer (viewer: its id within the stream)",
            labels=labels,
        )
        dropped = CounterMetricFamily(
            "camnet_viewer_frames_dropped",
            "Frames one live MJPEG viewer skipped because it was slower than the stream",
            labels=labels,
        )
        for device_name, hub in hubs:
            for viewer in list(hub.viewers.values()):
                key = [device_name, hub.name, viewer.id]
                sent.add_metric(key, float(viewer.sent))
                dropped.add_metric(key, float(viewer.dropped))
        yield sent
        yield dropped

    def _database(self) -> Iterator[Metric]:
        engine = self.node.database.engine
        with engine.connect() as connection:
            sizes = connection.execute(
                select(recordings.c.kind, func.coalesce(func.sum(recordings.c.size), 0)).group_by(
                    recordings.c.kind
                )
            ).all()
            attempts = connection.execute(
                select(webhook_attempts.c.outcome, func.count()).group_by(
                    webhook_attempts.c.outcome
                )
            ).all()
            backlog = connection.execute(
                select(func.count()).where(webhook_deliveries.c.state == "pending")
            ).scalar_one()
        recorded = GaugeMetricFamily(
            "camnet_recording_bytes",
            "Bytes of the recorded segments indexed, by kind",
            labels=("kind",),
        )
        for kind, size in sizes:
            recorded.add_metric([str(kind)], float(size))
        yield recorded
        tried = CounterMetricFamily(
            "camnet_webhook_attempts",
            "Webhook delivery attempts recorded, by outcome (delivered, retry, failed, …)",
            labels=("outcome",),
        )
        for outcome, count in attempts:
            tried.add_metric([str(outcome)], float(count))
        yield tried
        pending = GaugeMetricFamily("camnet_webhook_backlog", "Webhook deliveries still pending")
        pending.add_metric([], float(backlog))
        yield pending


def bus_connected(node: Node) -> bool:
    bus = node.bus
    return bool(bus.connected) if isinstance(bus, NatsBus) else True
