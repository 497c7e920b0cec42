"""The devices of the other nodes, discovered through presence and served by this node.

Every ``Self`` of a ``device`` on another machine whose profile this node knows
(``network/profiles.py``) becomes a ``RemoteDevice`` here, seeded once and then kept by
its Updates; a control unit is found by its machine (the c2 face serves it under
``/nodes/{machine}/api``), a stereo camera by its mxid (``/cameras/{mxid}/…``).
A device is never forgotten while the node runs: when its node goes away it stays
listed, offline (presence says so after three missed heartbeats), and comes back with
its node. Listeners (the fleet registry) hear of each new remote device once; when one
fails (its database write raced another node's, the database was away), it hears of the
device again at the device's next ``Self``, until it succeeds (issue 19).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, MessageType, service_name
from camnet.clock import Clock
from camnet.devices.profiles.stereo import CameraModel, StreamSpec, active_variable
from camnet.devices.surface import DeviceUnavailable
from camnet.media.camera_surface import CameraDirectory, CameraSurface
from camnet.media.hub import StreamHub
from camnet.media.image_formats import StillFormat
from camnet.network.profiles import C2, STEREO, profile_of
from camnet.network.remote import RemoteDevice

log = logging.getLogger(__name__)

DEVICE_KIND: Final = "device"
SERVER: Final = "Devices"
"""The ServiceName of each node's device server: ``MachineName-Devices``."""
RESEED_AFTER: Final = 1.5
"""A gap between two ``Self`` of more than this many intervals means a missed heartbeat:
Updates may have been lost, so the mirror is read again."""

Listener = Callable[[RemoteDevice], Awaitable[None]]


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


class RemoteNodes:
    def __init__(self, bus: Bus, machine: str, clock: Clock, *, timeout: float = 5.0) -> None:
        self._bus = bus
        self.machine = machine
        self._clock = clock
        self._timeout = timeout
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

    async def start(self) -> None:
        self._subscription = self._bus.subscribe(TopicFilter(type=MessageType.SELF), self._on_self)

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
        if not isinstance(value, dict) or value.get("Kind") != DEVICE_KIND or not source:
            return
        machine, interval = value.get("Machine"), value.get("Interval")
        if not isinstance(machine, str) or machine == self.machine:
            return
        if not isinstance(interval, int | float) or interval <= 0:
            return
        now = self._clock.monotonic()
        last = self._last_self.get(source)
        self._last_self[source] = now
        device = self.devices.get(source)
        if device is None:
            device = self._adopt(source, machine, value)
            if device is None:
                return
            self._spawn(self._welcome(device))
        else:
            if not device.seeded or (last is not None and now - last > RESEED_AFTER * interval):
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
        device = RemoteDevice(
            name,
            profile.schema,
            machine,
            self._bus,
            service_name(machine, SERVER),
            source=service_name(self.machine, "Remote"),
            timeout=self._timeout,
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
