"""The RTSP service: ``rtspOn``/``rtspPort`` switch the server, ``rtspStatus`` reports it.

Writes are checked while staged (a port another program holds is refused, nothing
changes); the committed Update starts, moves or stops the server. ``rtspStatus`` lists
the URL, the paths, the playing clients and, per stream, its one encoder: whether it
runs, for how many clients, and how many times it started.

Paths: ``/`` is the live stream (the hub of ``/camera.mjpeg``); ``/head0`` and
``/head1`` show one head each, whatever ``cameraSwitch`` says, through their own hubs
(they capture only while someone plays them).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.devices.device import Device, Staging, WriteRefused
from camnet.devices.sim_control_unit import SimulatedControlUnit
from camnet.identity.users import ADMIN_USER, API_USER
from camnet.media.compose import Composer
from camnet.media.config import STREAM_VARIABLES, StreamConfig, live_config
from camnet.media.hub import StreamHub
from camnet.protocols.listeners import bind, reason_of, shown_host
from camnet.protocols.rtsp.auth import RtspAuth
from camnet.protocols.rtsp.server import RtspServer
from camnet.protocols.rtsp.sources import RtspSources
from camnet.settings import Settings
from camnet.state.schema import JsonValue, Variable

if TYPE_CHECKING:
    from camnet.identity.bootstrap import InitialCredentials
    from camnet.node import Node

log = logging.getLogger(__name__)

VARIABLES = ("rtspOn", "rtspPort")


def head_config(state: Any, head: int) -> StreamConfig:
    return dataclasses.replace(live_config(state), head=head, pip=0)


class RtspService:
    def __init__(
        self,
        settings: Settings,
        device: Device,
        behaviour: SimulatedControlUnit,
        bus: Bus,
        node: Node,
    ) -> None:
        self._settings = settings
        self._device = device
        self._bus = bus
        self._node = node
        self._host = settings.host
        self.auth = RtspAuth(node.authenticator)
        self.sources = RtspSources(node.encoders)
        composer = Composer(node.media.sources)
        heads = (0, 1) if settings.second_head or settings.camera1_opencv else (0,)
        self._head_hubs = [
            StreamHub(f"rtsp-head{head}", composer, head_config(device.state, head))
            for head in heads
        ]
        self.sources.register("/", node.media.live)
        for head, hub in zip(heads, self._head_hubs, strict=True):
            self.sources.register(f"/head{head}", hub)
        self.server: RtspServer | None = None
        self._error: tuple[int, str] | None = None
        self._subscription: Subscription | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        behaviour.handle(VARIABLES, self.stage)

    def learn_initial(self, credentials: InitialCredentials) -> None:
        """Secrets known in plain text at start make Digest possible for their users."""
        admin = credentials.admin_password or (
            self._settings.admin_password.get_secret_value()
            if self._settings.admin_password
            else None
        )
        token = credentials.api_token or (
            self._settings.api_token.get_secret_value() if self._settings.api_token else None
        )
        if admin:
            self.auth.learn(ADMIN_USER, admin)
        if token:
            self.auth.learn(API_USER, token)

    async def start(self) -> None:
        for hub in self._head_hubs:
            await hub.start()
        self._subscription = self._bus.subscribe(
            TopicFilter(
                type=MessageType.UPDATE,
                source=self._device.name,
                target=BROADCAST,
                name=state_name("*"),
            ),
            self._on_update,
        )
        await self._reconcile()

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.server is not None:
            await self.server.stop()
            self.server = None
        for hub in self._head_hubs:
            await hub.stop()

    # --- staging ------------------------------------------------------------------------

    def stage(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        staging.set(variable.name, value)
        on, port = bool(staging["rtspOn"]), int(staging["rtspPort"])
        if not on or (self.server is not None and self.server.port == port):
            return
        if port in (listener.port for listener in self._node.listeners.listeners.values()):
            raise WriteRefused(variable.name, f"port {port} is used by camnet's web server")
        try:
            bind(self._host, port).close()
        except OSError as exc:
            raise WriteRefused(
                variable.name, f"cannot listen on port {port}: {reason_of(exc)}"
            ) from None

    # --- reconciling --------------------------------------------------------------------

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name in STREAM_VARIABLES:
            for head, hub in enumerate(self._head_hubs):
                hub.configure(head_config(self._device.state, head))
        if name in VARIABLES:
            task = asyncio.create_task(self._reconcile())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reconcile(self) -> None:
        async with self._lock:
            on = bool(self._device.state["rtspOn"])
            port = int(self._device.state["rtspPort"])
            current = self.server
            if current is not None and (not on or current.port != port):
                self.server = None
                await current.stop()
            if on and self.server is None:
                try:
                    sock = bind(self._host, port)
                except OSError as exc:
                    self._error = (port, reason_of(exc))
                    log.warning("cannot listen for RTSP on port %d: %s", port, reason_of(exc))
                else:
                    server = RtspServer(
                        self._host, self.sources, self.auth, self.changed, self._node.live
                    )
                    await server.start(sock)
                    self.server = server
                    self._error = None
            if not on:
                self._error = None
            await self._report()

    def changed(self) -> None:
        """Sessions came or went: report the new status (soon, on the loop)."""
        task = asyncio.create_task(self._report())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def status(self) -> dict[str, JsonValue]:
        server = self.server
        encoders: dict[str, JsonValue] = {
            path: {
                "running": encoder.running,
                "clients": encoder.clients,
                "starts": encoder.counters.starts,
            }
            for path, encoder in self.sources.encoders().items()
        }
        if self._error is not None:
            port, reason = self._error
            return {"state": "error", "port": port, "reason": reason, "clients": 0}
        if server is None or server.port is None:
            return {"state": "stopped", "clients": 0}
        playing = server.playing()
        base = f"rtsp://{shown_host(self._host)}:{server.port}"
        return {
            "state": "listening",
            "port": server.port,
            "url": f"{base}/",
            "paths": [f"{base}{path}" for path in self.sources.paths],
            "clients": len(playing),
            "connections": server.connections,
            "sessions": [session.describe() for session in playing],
            "encoders": encoders,
        }

    async def _report(self) -> None:
        await self._device.report({"rtspStatus": self.status()})
