"""The media service: the heads' sources, one hub per stream, kept in step with the state.

It subscribes to the control unit's Updates; a change of any variable that alters a
picture rebuilds the streams' configuration snapshots (``media.config``) and hands them
to the hubs, on the publisher's turn, so a client that has its write acknowledged gets
the new picture from the next frame on. Sources that can come and go (OpenCV) report
their presence here; it reaches ``cam0Exists``/``cam1Exists`` through the device's
measured-value path, i.e. as Updates on the bus like any reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.devices.device import Device
from camnet.devices.sources.base import FrameSource
from camnet.media.compose import Composer, HeadSources
from camnet.media.config import STREAM_VARIABLES, backup_config, live_config
from camnet.media.hub import StreamHub

log = logging.getLogger(__name__)

PROBE_INTERVAL: Final = 0.5
"""Seconds between presence checks of a head nobody captures from."""


class MediaService:
    def __init__(self, device: Device, bus: Bus, sources: Sequence[FrameSource | None]) -> None:
        self._device = device
        self._bus = bus
        self.sources = HeadSources(sources)
        composer = Composer(self.sources)
        self.live = StreamHub("live", composer, live_config(device.state))
        self.backup = StreamHub("backup", composer, backup_config(device.state))
        """The Visual Backup's stream (its own size, rate, quality and stamps); the
        backup recorder consumes it."""
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._monitor: asyncio.Task[None] | None = None

    @property
    def hubs(self) -> tuple[StreamHub, StreamHub]:
        return self.live, self.backup

    async def start(self) -> None:
        """Start after the device: the snapshots are built from its loaded state."""
        await self._report_presence()
        self._reconfigure()
        for hub in self.hubs:
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
        if any(s is not None and s.tracks_presence for s in self.sources.sources):
            self._monitor = asyncio.create_task(self._watch_presence(), name="camnet-presence")

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        tasks = [t for t in (self._monitor, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._monitor = None
        for hub in self.hubs:
            await hub.stop()

    def status(self) -> dict[str, Any]:
        return {"streams": {hub.name: hub.status() for hub in self.hubs}}

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name in STREAM_VARIABLES:
            self._reconfigure()

    def _reconfigure(self) -> None:
        state = self._device.state
        self.live.configure(live_config(state))
        self.backup.configure(backup_config(state))

    async def _report_presence(self) -> None:
        values: dict[str, bool] = {}
        for head in (0, 1):
            source = self.sources.get(head)
            present = False if source is None else await asyncio.to_thread(source.presence)
            if present is not None:
                values[f"cam{head}Exists"] = present
        if values:
            await self._device.report(values)

    async def _watch_presence(self) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL)
            try:
                await self._report_presence()
            except Exception:
                log.exception("checking the camera heads' presence failed")
