"""The fleet service: registry, image requests, webhooks and their dispatcher, started and
stopped together by the node."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from camnet.bus.base import Bus
from camnet.clock import Clock
from camnet.devices.device import Device
from camnet.events import EventJournal
from camnet.fleet.images import ImageService
from camnet.fleet.registry import Registry
from camnet.fleet.webhooks.backoff import Backoff
from camnet.fleet.webhooks.dispatcher import Dispatcher
from camnet.fleet.webhooks.ssrf import AllowList, Guard, Resolver, system_resolver
from camnet.fleet.webhooks.store import WebhookStore
from camnet.settings import Settings
from camnet.store.database import Database


class FleetService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        bus: Bus,
        journal: EventJournal,
        clock: Clock,
        base_url: str,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.database = database
        self.clock = clock
        self.registry = Registry(database, bus, journal, clock)
        self.images = ImageService(
            database,
            journal,
            clock,
            Path(settings.data_dir) / "fleet-images",
            lifetime=settings.image_link_lifetime,
            ready_delay=settings.image_ready_delay,
            base_url=base_url,
            max_in_flight=settings.fleet_max_concurrent_images,
        )
        self.webhooks = WebhookStore(database.engine)
        self.guard = Guard(AllowList.parse(settings.webhook_allow), resolver)
        self.dispatcher = Dispatcher(
            database,
            bus,
            clock,
            self.guard,
            Backoff(
                base=settings.webhook_retry_base,
                ceiling=settings.webhook_retry_max,
                max_attempts=settings.webhook_max_attempts,
            ),
            timeout=settings.webhook_timeout,
            concurrency=settings.webhook_concurrency,
            keepalive_interval=settings.webhook_keepalive_interval,
            node=settings.machine_name,
            gap_settle=settings.webhook_gap_settle,
        )

    async def start(self, devices: Sequence[Device]) -> None:
        await self.registry.start(devices)
        await self.images.start()
        await self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.images.stop()
        await self.registry.stop()
