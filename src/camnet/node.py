"""A node: every long-lived part of one camnet process, started and stopped in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from camnet.bus.local import LocalBus
from camnet.bus.message import service_name
from camnet.clock import Clock, SystemClock
from camnet.devices.device import Device
from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.sim_control_unit import ControlUnitConfig, SimulatedControlUnit
from camnet.devices.sources.factory import head_sources
from camnet.events import EventJournal
from camnet.faces.c2.fanout import StateFanout
from camnet.identity.authenticator import Authenticator
from camnet.identity.bootstrap import InitialCredentials, ensure_initial_users
from camnet.identity.gate import Maintenance
from camnet.identity.permissions import PermissionPolicy
from camnet.identity.policy import Policy
from camnet.identity.ratelimit import FailureBackoff, FixedWindowLimiter
from camnet.identity.service import IdentityService
from camnet.identity.users import UserRepository
from camnet.maintenance import MaintenanceSwitch
from camnet.media.service import MediaService
from camnet.recording.service import RecordingService
from camnet.settings import Settings
from camnet.store.database import Database
from camnet.store.settings_store import SettingsStore

log = logging.getLogger(__name__)

CONTROL_UNIT_SERVICE = "C2"


@dataclass
class Node:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    listen_urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.database = Database.open_sqlite(self.settings.database_path)
        self.bus = LocalBus(self.settings.machine_name)
        self.events = EventJournal(self.bus)
        permission_policy = PermissionPolicy(
            self.settings.api_user_read, self.settings.api_user_write
        )
        self.identity = IdentityService(
            self.database,
            permission_policy,
            self.clock,
            access_lifetime=self.settings.token_lifetime,
            refresh_lifetime=self.settings.refresh_token_lifetime,
        )
        self.authenticator = Authenticator(self.database, permission_policy, identity=self.identity)
        self.policy = Policy(self.identity, self.authenticator)
        self.limiter = FixedWindowLimiter(self.clock, self.settings.rate_limit_per_minute)
        self.token_limiter = FixedWindowLimiter(self.clock, self.settings.token_requests_per_minute)
        self.token_client_limiter = FixedWindowLimiter(
            self.clock, self.settings.token_requests_per_minute
        )
        self.failures = FailureBackoff(self.clock, free=self.settings.token_failures_before_backoff)
        self.address_failures = FixedWindowLimiter(
            self.clock, self.settings.token_failures_per_minute
        )
        self.maintenance = Maintenance()
        self.maintenance_switch = MaintenanceSwitch(self.database, self.maintenance)
        self.control_unit_behaviour = SimulatedControlUnit(
            ControlUnitConfig(
                second_head=self.settings.second_head,
                interval=self.settings.simulation_interval,
                listen_urls=self.listen_urls,
            ),
            self.clock,
        )
        self.control_unit = Device(
            service_name(self.settings.machine_name, CONTROL_UNIT_SERVICE),
            c2_schema(),
            self.bus,
            SettingsStore(self.database),
            self.control_unit_behaviour,
        )
        # Every device this node serves; the fleet registry lists them. Services that
        # add devices (the stereo cameras) append here before start.
        self.devices: list[Device] = [self.control_unit]
        self.c2_fanout = StateFanout(self.bus, self.control_unit.name)
        self.media = MediaService(self.control_unit, self.bus, head_sources(self.settings))
        self.recording = RecordingService(
            self.settings,
            self.control_unit,
            self.control_unit_behaviour,
            self.media,
            self.bus,
            self.database,
            self.events,
            self.clock,
        )

    async def start(self) -> InitialCredentials:
        """Start every part; returns the secrets created on this start (shown once)."""
        admin = self.settings.admin_password
        token = self.settings.api_token
        credentials = await self.database.run(
            ensure_initial_users,
            UserRepository(self.database.engine),
            admin.get_secret_value() if admin else None,
            token.get_secret_value() if token else None,
            self.settings.admin_email,
        )
        await self.bus.start()
        await self.identity.start()
        await self.authenticator.start()
        await self.maintenance_switch.start()
        await self.control_unit.start()
        self.c2_fanout.start()
        await self.media.start()
        await self.recording.start()
        log.info(
            "node %s started with device %s", self.settings.machine_name, self.control_unit.name
        )
        return credentials

    async def stop(self) -> None:
        await self.recording.stop()
        await self.media.stop()
        self.c2_fanout.stop()
        await self.control_unit.stop()
        await self.maintenance_switch.stop()
        await self.authenticator.stop()
        await self.identity.stop()
        await self.bus.stop()
        self.database.close()
