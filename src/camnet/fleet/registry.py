"""The device registry: every device this node serves, under a stable uuid.

Rows are keyed by the device's service name (``machine-Service``) and created the first
time the node serves that device, so a device keeps its uuid, name and administrator's
group across restarts. ``refreshed`` and ``is_online`` come from the live device: the
time of its last Update on the bus, and whether it runs and (for a device with camera
heads) has a head present.

The registry produces the ``online`` journal events (a device going online or offline),
written in batches, one transaction per batch, then announced. ``state`` events (a
change of a writable variable; measured readings that move every second are not events)
are written by the device itself, in the transaction that commits the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, select, update

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.clock import Clock
from camnet.devices.device import Device
from camnet.devices.surface import DeviceSurface
from camnet.events import Event, EventJournal, EventKind, StoredEvent, append_event
from camnet.fleet.tables import fleet_devices
from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.store.database import Database
from camnet.store.portable import insert_ignoring_duplicates

log = logging.getLogger(__name__)

PRESENCE: Final = ("cam0Exists", "cam1Exists")
EDITABLE: Final = ("name", "client_identifier", "geo_city", "geo_country")
SORTABLE: Final = (
    "uuid",
    "name",
    "client_identifier",
    "refreshed",
    "is_online",
    "geo_city",
    "geo_country",
    "group",
)


class VersionConflict(Exception):
    """An ``If-Match`` naming a version the device no longer has."""


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    uuid: str
    service: str
    name: str
    client_identifier: str
    geo_city: str
    geo_country: str
    group: str
    account: str
    version: int
    refreshed: float
    is_online: bool

    def body(self) -> dict[str, Any]:
        """The seed's device object (plus camnet's ``group``)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "client_identifier": self.client_identifier,
            "refreshed": iso(self.refreshed),
            "is_online": 1 if self.is_online else 0,
            "geo_city": self.geo_city,
            "geo_country": self.geo_country,
            "group": self.group,
        }


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _online(device: DeviceSurface) -> bool:
    heads = [device.state[name] for name in PRESENCE if name in device.schema]
    return not heads or any(bool(value) for value in heads)


class Registry:
    def __init__(self, database: Database, bus: Bus, journal: EventJournal, clock: Clock) -> None:
        self._database = database
        self._bus = bus
        self._journal = journal
        self._clock = clock
        self._devices: dict[str, Device] = {}
        self._refreshed: dict[str, float] = {}
        self._online: dict[str, bool] = {}
        self._subscriptions: list[Subscription] = []
        self._pending: list[Event] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._heard: dict[str, Callable[[], float]] = {}
        self._remote: dict[str, tuple[DeviceSurface, Callable[[], bool]]] = {}
        """Devices of other nodes (name → device, whether presence hears its node)."""

    async def add_remote(
        self,
        device: DeviceSurface,
        reachable: Callable[[], bool],
        heard: Callable[[], float] | None = None,
    ) -> None:
        """List a device of another node: a row of this node's registry (created once,
        so it keeps its uuid), online while presence hears its node and it has a head.
        Its journal events (and so its webhooks) come from the node that serves it.
        ``refreshed`` is ``heard()``, the last time its node was heard from: this node
        does not follow every Update of every remote device (issue 19, item 6)."""
        if device.name in self._devices or device.name in self._remote:
            return
        await self._database.run(self._ensure_rows, [device.name], self._clock.now())
        self._remote[device.name] = (device, reachable)
        self._refreshed[device.name] = self._clock.now()
        if heard is not None:
            self._heard[device.name] = heard

    def _is_online(self, service: str) -> bool:
        if service in self._devices:
            return self._online.get(service, False)
        remote = self._remote.get(service)
        return remote is not None and remote[1]() and _online(remote[0])

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, devices: Sequence[Device]) -> None:
        now = self._clock.now()
        self._devices = {device.name: device for device in devices}
        await self._database.run(self._ensure_rows, list(self._devices), now)
        for device in devices:
            self._refreshed[device.name] = now
            self._online[device.name] = _online(device)
            self._subscriptions.append(
                self._bus.subscribe(
                    TopicFilter(
                        type=MessageType.UPDATE,
                        source=device.name,
                        target=BROADCAST,
                        name=state_name("*"),
                    ),
                    self._on_update,
                )
            )
        self._writer = asyncio.create_task(self._write_events(), name="camnet-fleet-events")
        for name, online in self._online.items():
            self._queue(EventKind.ONLINE, name, {"is_online": 1 if online else 0})

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions.clear()
        for name in self._devices:
            if self._online.get(name):
                self._online[name] = False
                self._queue(EventKind.ONLINE, name, {"is_online": 0})
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        await self._flush()

    def _ensure_rows(self, services: list[str], now: float) -> None:
        """A row for each service that has none. Other nodes may insert the same rows
        at the same moment (they list this node's devices as it starts): the insert
        skips rows that exist by then, so the first node's uuid stays (issue 19)."""
        with self._database.engine.begin() as connection:
            known = set(connection.execute(select(fleet_devices.c.service)).scalars())
            rows = [
                {
                    "uuid": str(uuidlib.uuid4()),
                    "service": service,
                    "name": service,
                    "client_identifier": "",
                    "geo_city": "",
                    "geo_country": "",
                    "group_name": "",
                    "account": DEFAULT_ACCOUNT,
                    "version": 1,
                    "created_at": now,
                }
                for service in services
                if service not in known
            ]
            insert_ignoring_duplicates(connection, fleet_devices, rows, ("service",))

    # -- events ------------------------------------------------------------------------

    def _on_update(self, envelope: Envelope) -> None:
        source = envelope.topic.source
        device = self._devices.get(source)
        name = variable_of(envelope.topic.name)
        if device is None or name is None:
            return
        self._refreshed[source] = self._clock.now()
        if name in PRESENCE:
            online = _online(device)
            if online != self._online.get(source):
                self._online[source] = online
                self._queue(EventKind.ONLINE, source, {"is_online": 1 if online else 0})

    def _queue(self, kind: EventKind, source: str, payload: dict[str, Any]) -> None:
        self._pending.append(Event(kind, source, self._clock.now(), payload))
        self._wake.set()

    async def _write_events(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("writing fleet events to the journal failed")
                await asyncio.sleep(1.0)

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            stored = await self._database.run(self._append, batch)
        except BaseException:
            self._pending[:0] = batch
            raise
        await self._journal.announce(stored)

    def _append(self, batch: list[Event]) -> list[StoredEvent]:
        with self._database.engine.begin() as connection:
            accounts = dict(
                connection.execute(select(fleet_devices.c.service, fleet_devices.c.account)).all()
            )
            return [
                append_event(
                    connection, replace(event, account=accounts.get(event.source, event.account))
                )
                for event in batch
            ]

    # -- reads and writes (any thread may call the *_sync methods via database.run) ----

    def _record(self, row: Any) -> DeviceRecord:
        m = row._mapping
        service = m["service"]
        return DeviceRecord(
            uuid=m["uuid"],
            service=service,
            name=m["name"],
            client_identifier=m["client_identifier"],
            geo_city=m["geo_city"],
            geo_country=m["geo_country"],
            group=m["group_name"],
            account=m["account"],
            version=m["version"],
            refreshed=self._refreshed_of(service, m["created_at"]),
            is_online=self._is_online(service),
        )

    def _refreshed_of(self, service: str, created_at: float) -> float:
        heard = self._heard.get(service)
        if heard is not None:
            return max(heard(), self._refreshed.get(service, created_at))
        return self._refreshed.get(service, created_at)

    def _all(self) -> list[DeviceRecord]:
        with self._database.engine.connect() as connection:
            rows = connection.execute(select(fleet_devices).order_by(fleet_devices.c.id)).all()
        return [self._record(row) for row in rows]

    async def all(self) -> list[DeviceRecord]:
        return await self._database.run(self._all)

    def _get(self, connection: Connection, device_uuid: str) -> DeviceRecord | None:
        row = connection.execute(
            select(fleet_devices).where(fleet_devices.c.uuid == device_uuid)
        ).first()
        return None if row is None else self._record(row)

    async def get(self, device_uuid: str) -> DeviceRecord | None:
        def read() -> DeviceRecord | None:
            with self._database.engine.connect() as connection:
                return self._get(connection, device_uuid)

        return await self._database.run(read)

    def service_of(self, device_uuid: str) -> str | None:
        """Synchronous lookup for the dispatcher (database thread)."""
        with self._database.engine.connect() as connection:
            record = self._get(connection, device_uuid)
        return None if record is None else record.service

    async def change(
        self, device_uuid: str, values: dict[str, str], if_match: int | None
    ) -> DeviceRecord | None:
        """Apply an edit as one versioned write; None when the device is gone."""

        def write() -> DeviceRecord | None:
            with self._database.engine.begin() as connection:
                current = self._get(connection, device_uuid)
                if current is None:
                    return None
                if if_match is not None and if_match != current.version:
                    raise VersionConflict(current.version)
                columns = {("group_name" if k == "group" else k): v for k, v in values.items()}
                connection.execute(
                    update(fleet_devices)
                    .where(fleet_devices.c.uuid == device_uuid)
                    .values(**columns, version=current.version + 1)
                )
                return self._get(connection, device_uuid)

        return await self._database.run(write)

    def device(self, service: str) -> Device | None:
        return self._devices.get(service)
