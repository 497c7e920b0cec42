"""The devices of the other nodes, discovered through presence and served by this node.

Every ``Self`` of a ``device`` on another machine whose profile this node knows
(``network/profiles.py``) becomes a ``RemoteDevice`` here, seeded once and then kept by
its Updates; a control unit is found by its machine (the c2 face serves it under
``/nodes/{machine}/api``), a stereo camera by its mxid (``/cameras/{mxid}/…``).
A device is never forgotten while the node runs: when its node goes away it stays
listed, offline (presence says so after three missed heartbeats), and comes back with
its node. Listeners (the fleet registry) hear of each new remote device once.

What each remote device follows of its Updates without a watcher (``RemoteDevice``'s
``kept``): a stereo camera everything (the streams face reads its configuration from
the mirror, and it changes only when written); a control unit only ``KEPT_C2``, the
head presence the fleet list reads — its readings, several a second, are followed only
while a WebSocket client of this node watches it. A ``Self`` is heard once per node:
through presence's own subscription when presence is given, not a second one. When a
listener fails on a device (its database write raced another node's, the database was
away), it hears of the device again when the device is next heard (issue 19).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, MessageType, service_name
from camnet.clock import Clock
from camnet.devices.profiles.stereo import CameraModel, StreamSpec, active_variable
from camnet.devices.surface import DeviceUnavailable
from camnet.media.camera_surface import CameraDirectory, CameraSurface
from camnet.media.hub import StreamHub
from camnet.media.image_formats import StillFormat
from camnet.network.presence import SELF_KEYS, ServiceInfo
from camnet.network.profiles import C2, STEREO, profile_of
from camnet.network.remote import RemoteDevice

log = logging.getLogger(__name__)

DEVICE_KIND: Final = "device"
SERVER: Final = "Devices"
"""The ServiceName of each node's device server: ``MachineName-Devices``."""
RESEED_AFTER: Final = 1.5
"""A gap between two ``Self`` of more than this many intervals means a missed heartbeat:
Updates may have been lost, so the mirror is read again."""

KEPT_C2: Final = ("cam0Exists", "cam1Exists")
"""The variables of a remote control unit followed without a watcher."""

Listener = Callable[[RemoteDevice], Awaitable[None]]
Online = Callable[[str], bool]


@dataclass(eq=False)
class RemoteCamera:
    """A stereo camera of another node, with what the streams face reads of a camera.

    Its images are not carried over the bus: ``hubs`` is empty, and the face answers
    stills and video of a remote camera with 501 (the node that has it serves them).
    """

    device: RemoteDevice
    model: CameraModel
    mxid: str
    hubs: Mapping[str, StreamHub] = field(default_factory=dict)

    def spec(self, stream: str) -> StreamSpec | None:
        return self.model.stream(stream)

    def is_active(self, stream: str) -> bool:
        return bool(self.device.state.get(active_variable(stream), False))

    async def still(self, stream: str, fmt: StillFormat) -> tuple[bytes, str]:
        raise DeviceUnavailable(self.device.name, "stills of a camera on another node")


class PresenceFeed(Protocol):
    """Presence, which hands on every service it hears (``Presence.on_heard``)."""

    def on_heard(self, listener: Callable[[ServiceInfo], None]) -> None: ...


class RemoteNodes:
    def __init__(
        self,
        bus: Bus,
        machine: str,
        clock: Clock,
        *,
        timeout: float = 5.0,
        online: Online | None = None,
    ) -> None:
        """``online``: whether presence hears a service (a request to a device whose
        node is offline is refused at once instead of waiting for ``timeout``)."""
        self._bus = bus
        self.machine = machine
        self._clock = clock
        self._timeout = timeout
        self._online = online
        self.devices: dict[str, RemoteDevice] = {}
        self.control_units: dict[str, RemoteDevice] = {}
        """By machine name."""
        self.cameras: dict[str, RemoteCamera] = {}
        """By mxid."""
        self.listeners: list[Listener] = []
        self._last_self: dict[str, float] = {}
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seeding: set[str] = set()
        self._untold: set[str] = set()
        """Devices some listener failed on: told again at their next ``Self``."""

    async def start(self, feed: PresenceFeed | None = None) -> None:
        """``feed``: presence, whose directory (full ``Self`` and heartbeats) tells of
        the devices; without it, a subscription to ``Self`` of this one's own."""
        if feed is not None:
            feed.on_heard(self._on_heard)
        else:
            self._subscription = self._bus.subscribe(
                TopicFilter(type=MessageType.SELF), self._on_self
            )

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for task in tuple(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for device in self.devices.values():
            await device.stop()

    def control_unit(self, machine: str) -> RemoteDevice | None:
        return self.control_units.get(machine)

    def camera(self, mxid: str) -> RemoteCamera | None:
        return self.cameras.get(mxid)

    def _on_self(self, envelope: Envelope) -> None:
        value: Any = envelope.message.value if envelope.message.has_value else None
        source = envelope.topic.source
        if not isinstance(value, dict) or not source:
            return
        machine, kind, interval = value.get("Machine"), value.get("Kind"), value.get("Interval")
        if not isinstance(machine, str) or not isinstance(kind, str):
            return
        if not isinstance(interval, int | float) or interval <= 0:
            return
        details = {k: v for k, v in value.items() if k not in SELF_KEYS}
        now = self._clock.monotonic()
        self._on_heard(ServiceInfo(source, machine, kind, float(interval), now, details))

    def _on_heard(self, info: ServiceInfo) -> None:
        if info.kind != DEVICE_KIND or info.machine == self.machine:
            return
        source = info.name
        now = self._clock.monotonic()
        last = self._last_self.get(source)
        self._last_self[source] = now
        device = self.devices.get(source)
        if device is None:
            device = self._adopt(source, info.machine, dict(info.details))
            if device is None:
                return
            device.heard()
            self._spawn(self._welcome(device))
            return
        device.heard()
        if not device.seeded or (last is not None and now - last > RESEED_AFTER * info.interval):
            self._spawn(self._seed(device))
        if source in self._untold:
            self._untold.discard(source)
            self._spawn(self._tell(device))

    def _adopt(self, name: str, machine: str, details: dict[str, Any]) -> RemoteDevice | None:
        profile = profile_of(details)
        if profile is None:
            return None
        if profile.kind == STEREO and profile.mxid in self.cameras:
            log.warning("%s: mxid %s is already served by another node", name, profile.mxid)
            return None
        online = self._online
        device = RemoteDevice(
            name,
            profile.schema,
            machine,
            self._bus,
            service_name(machine, SERVER),
            source=service_name(self.machine, "Remote"),
            timeout=self._timeout,
            kept=KEPT_C2 if profile.kind == C2 else None,
            online=None if online is None else (lambda: online(name)),
            clock=self._clock,
        )
        self.devices[name] = device
        if profile.kind == C2:
            self.control_units[machine] = device
        elif profile.kind == STEREO and profile.model is not None:
            self.cameras[profile.mxid] = RemoteCamera(device, profile.model, profile.mxid)
        return device

    async def _welcome(self, device: RemoteDevice) -> None:
        await device.start()
        await self._seed(device)
        await self._tell(device)

    async def _tell(self, device: RemoteDevice) -> None:
        """Every listener hears of the device (each must accept hearing it again)."""
        for listener in self.listeners:
            try:
                await listener(device)
            except Exception:
                log.exception(
                    "listener of remote device %s failed; told again at its next heartbeat",
                    device.name,
                )
                self._untold.add(device.name)

    async def _seed(self, device: RemoteDevice) -> None:
        if device.name in self._seeding:
            return
        self._seeding.add(device.name)
        try:
            await device.seed()
        except DeviceUnavailable as exc:
            log.info("remote device not read yet: %s", exc)
        finally:
            self._seeding.discard(device.name)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        async def run() -> None:
            await coroutine

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class NetworkCameras:
    """The stereo cameras the streams face serves: this node's, then the network's."""

    def __init__(self, local: CameraDirectory, remote: RemoteNodes) -> None:
        self._local = local
        self._remote = remote

    def get(self, mxid: str) -> CameraSurface | None:
        camera = self._local.get(mxid)
        return camera if camera is not None else self._remote.camera(mxid)

    def mxids(self) -> list[str]:
        local = self._local.mxids()
        return [*local, *(mxid for mxid in self._remote.cameras if mxid not in local)]
