"""A node: every long-lived part of one camnet process, started and stopped in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from camnet.bus.base import Bus
from camnet.bus.local import LocalBus
from camnet.bus.message import service_name
from camnet.bus.nats import NatsBus
from camnet.clock import Clock, SystemClock
from camnet.devices.device import Device
from camnet.devices.history import ReadingHistory
from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.sim_control_unit import ControlUnitConfig, SimulatedControlUnit
from camnet.devices.sources.factory import head_sources
from camnet.devices.stereo.scene import StereoGeometry
from camnet.events import EventJournal
from camnet.faces.c2.fanout import StateFanout
from camnet.faces.zmq_hub import HubConfig, ZmqHub
from camnet.fleet.service import FleetService
from camnet.identity.anonymous import AnonymousAccess, own_account_permissions, parse_networks
from camnet.identity.authenticator import Authenticator, Credentials
from camnet.identity.bootstrap import InitialCredentials, ensure_initial_users
from camnet.identity.changes import LOCAL_POLL, IdentityChanges
from camnet.identity.gate import Maintenance
from camnet.identity.hashing import Hasher
from camnet.identity.live import LiveSessions
from camnet.identity.permissions import PermissionPolicy
from camnet.identity.policy import Policy
from camnet.identity.purge import TokenPurge
from camnet.identity.ratelimit import FixedWindowLimiter
from camnet.identity.service import IdentityService
from camnet.identity.throttle import CredentialThrottle
from camnet.identity.users import API_USER, UserRepository
from camnet.maintenance import MaintenanceSwitch
from camnet.media.cameras import StereoCameras
from camnet.media.h264 import EncoderPool
from camnet.media.service import MediaService
from camnet.network.device_server import KIND as DEVICE_SERVER_KIND
from camnet.network.device_server import DeviceServer
from camnet.network.mqtt_setup import build_bridge
from camnet.network.presence import LocalService, Presence
from camnet.network.profiles import c2_profile, stereo_profile
from camnet.network.remote import RemoteDevice
from camnet.network.remote_nodes import SERVER as DEVICE_SERVER
from camnet.network.remote_nodes import RemoteNodes
from camnet.network.store import Store
from camnet.network.store_backends import DatabaseStoreBackend, KvStoreBackend, StoreBackend
from camnet.ops.stopping import stop_all
from camnet.protocols.gateway_listener import GatewayListener
from camnet.protocols.listeners import ListenerManager
from camnet.protocols.rtsp.service import RtspService
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
        self.database = Database.open(self.settings.database_url)
        self.bus: Bus = (
            LocalBus(self.settings.machine_name)
            if self.settings.bus == "local"
            else NatsBus(
                self.settings.bus, self.settings.machine_name, network=self.settings.network_name
            )
        )
        self.events = EventJournal(self.bus)
        # The network's Store (issue 8): SQLite alone, the shared JetStream KV on NATS.
        store_backend: StoreBackend = (
            KvStoreBackend(self.bus.jetstream, self.settings.store_bucket)
            if isinstance(self.bus, NatsBus)
            else DatabaseStoreBackend(self.database)
        )
        self.store = Store(store_backend)
        permission_policy = PermissionPolicy(
            self.settings.api_user_read, self.settings.api_user_write
        )
        # Issue 18: the Gateway and the hub may answer requests without credentials.
        self.anonymous = AnonymousAccess(
            self.settings.bus_anonymous_role,
            parse_networks(self.settings.bus_anonymous_networks),
            own_account_permissions(permission_policy.actions_for),
            permission_policy.grant_of,
            self.clock.now,
        )
        # ... and so may the streams face (Robopipe Studio sends none), on its own settings.
        self.streams_anonymous = AnonymousAccess(
            self.settings.streams_anonymous_role,
            parse_networks(self.settings.streams_anonymous_networks),
            own_account_permissions(permission_policy.actions_for),
            permission_policy.grant_of,
            self.clock.now,
            role_setting="streams_anonymous_role",
            networks_setting="streams_anonymous_networks",
            origins=tuple(self.settings.cors_origins),
        )
        self.zmq_hub = ZmqHub(
            self.bus,
            service_name(self.settings.machine_name, "Hub"),
            HubConfig(
                host=self.settings.zmq_host,
                publish_port=self.settings.zmq_publish_port,
                subscribe_port=self.settings.zmq_subscribe_port,
                max_attachment_bytes=self.settings.zmq_max_attachment_bytes,
            ),
            is_known=lambda name: self.presence.info(name) is not None,
            anonymous=self.anonymous,
        )
        # Issue 19, item 7: identity changes are announced on the bus; the watchers poll
        # only as a safety net (each second alone, every few seconds with NATS).
        self.identity_changes = IdentityChanges(
            self.bus, self.settings.machine_name, self.database.engine
        )
        identity_poll = (
            self.settings.identity_poll_nats if isinstance(self.bus, NatsBus) else LOCAL_POLL
        )
        self.identity = IdentityService(
            self.database,
            permission_policy,
            self.clock,
            access_lifetime=self.settings.token_lifetime,
            refresh_lifetime=self.settings.refresh_token_lifetime,
            poll_interval=identity_poll,
            changes=self.identity_changes.listener(),
            throttle=CredentialThrottle(
                self.clock,
                failures_before_backoff=self.settings.token_failures_before_backoff,
                failures_per_minute=self.settings.token_failures_per_minute,
                hold=self.settings.token_failure_hold,
            ),
            hasher=Hasher(),
        )
        self.authenticator = Authenticator(
            self.database,
            permission_policy,
            poll_interval=identity_poll,
            identity=self.identity,
            changes=self.identity_changes.listener(),
        )
        self.token_purge = TokenPurge(self.database, self.clock)
        self.policy = Policy(self.identity, self.authenticator)
        self.live = LiveSessions(self.identity.changed)
        self.limiter = FixedWindowLimiter(self.clock, self.settings.rate_limit_per_minute)
        self.token_limiter = FixedWindowLimiter(self.clock, self.settings.token_requests_per_minute)
        self.token_client_limiter = FixedWindowLimiter(
            self.clock, self.settings.token_requests_per_minute
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
            journal=self.events,
            clock=self.clock,
        )
        # Every device this node serves; the fleet registry lists them. Services that
        # add devices (the stereo cameras) append here before start.
        self.devices: list[Device] = [self.control_unit]
        self.presence = Presence(
            self.bus,
            self.settings.machine_name,
            self.clock,
            self._local_services,
            interval=self.settings.heartbeat_interval,
        )
        self.c2_fanout = StateFanout(self.bus, self.control_unit.name)
        self.media = MediaService(self.control_unit, self.bus, head_sources(self.settings))
        # The multi-sensor (stereo) cameras of the streams dialect, one device each.
        self.stereo = StereoCameras(
            self.settings.machine_name,
            self.settings.stereo_cameras,
            StereoGeometry(self.settings.stereo_baseline_mm, self.settings.stereo_focal_length_px),
            self.bus,
            SettingsStore(self.database),
            journal=self.events,
            clock=self.clock,
        )
        self.devices.extend(self.stereo.devices)
        # The server's own protocols (issue 10): HTTP/HTTPS listeners and RTSP, driven by
        # the c2 variables httpOn/httpsOn/…Port and rtspOn/rtspPort.
        self.listeners = ListenerManager(
            self.settings, self.control_unit, self.control_unit_behaviour, self.bus
        )
        # One H.264 encoder per stream, shared by RTSP and the WebSocket fMP4 live view.
        self.encoders = EncoderPool()
        self.rtsp = RtspService(
            self.settings, self.control_unit, self.control_unit_behaviour, self.bus, self
        )
        self.fleet = FleetService(
            self.settings,
            self.database,
            self.bus,
            self.events,
            self.clock,
            self.settings.advertised_url
            or (self.listen_urls[0].removesuffix("/api") if self.listen_urls else ""),
        )
        self.fleet.images.hubs[self.control_unit.name] = self.media.live
        # Each stereo camera: its colour sensor answers image requests; every stream is
        # also served over RTSP at /cameras/{mxid}/{stream}.
        for mxid, camera in self.stereo.cameras.items():
            self.fleet.images.hubs[camera.device.name] = camera.hubs["CAM_A"]
            for stream, hub in camera.hubs.items():
                self.rtsp.sources.register(f"/cameras/{mxid}/{stream}", hub)
        # Issue 8, remote faces: this node's devices served to other nodes (Execute
        # calls), the other nodes' devices discovered through presence, and the Gateway's
        # own listener.
        self.device_server = DeviceServer(
            self.bus,
            service_name(self.settings.machine_name, DEVICE_SERVER),
            lambda: self.devices,
            self.clock,
        )
        self.presence.describe(self.control_unit.name, c2_profile())
        for mxid, camera in self.stereo.cameras.items():
            self.presence.describe(camera.device.name, stereo_profile(mxid, camera.model))
        self.remote = RemoteNodes(
            self.bus,
            self.settings.machine_name,
            self.clock,
            timeout=self.settings.remote_timeout,
            online=self.presence.is_online,
        )
        self.remote.listeners.append(self._list_remote_device)
        self.gateway_listener = GatewayListener(
            self.settings.gateway_host,
            self.settings.gateway_port,
            enabled=self.settings.gateway_listener,
        )
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
        # The dashboard's plots: temperatures, pressures and storage over the last hour.
        self.history = ReadingHistory(self.bus, self.clock)

        # Issue 11: the MQTT bridge (--mqtt) with Home Assistant discovery; None when off.
        self.mqtt = build_bridge(
            self.settings,
            self.bus,
            permission_policy,
            self.control_unit,
            [(camera.device, camera.model.name) for camera in self.stereo.cameras.values()],
            self.fleet.images.hubs,
        )

    async def _close_viewers(self) -> None:
        """Graceful shutdown, first step: complete the recording segments (index rows
        closed), then end every live viewer's response, before the listeners close."""
        await self.recording.stop()
        hubs = [*self.media.hubs]
        for camera in self.stereo.cameras.values():
            hubs.extend(camera.hubs.values())
        for hub in hubs:
            hub.close_viewers()

    def _local_services(self) -> list[LocalService]:
        """The services this node announces on the network."""
        machine = self.settings.machine_name
        built_in = [
            LocalService(service_name(machine, "Gateway"), "gateway"),
            LocalService(self.zmq_hub.service, "hub"),
            LocalService(self.device_server.name, DEVICE_SERVER_KIND),
        ]
        built_in.append(LocalService(self.store.name, "store"))
        return [*(LocalService(device.name, "device") for device in self.devices), *built_in]

    async def _list_remote_device(self, device: RemoteDevice) -> None:
        """A device of another node appears in this node's fleet registry."""
        await self.fleet.registry.add_remote(
            device, lambda: self.presence.is_online(device.name), lambda: device.last_heard
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
        await self.zmq_hub.start()
        await self.store.start(self.bus)
        await self.identity_changes.start()
        await self.identity.start()
        await self.authenticator.start()
        if token is not None:  # its first c2 write must not be the one to pay argon2
            self.authenticator.warm(Credentials(API_USER, token.get_secret_value()))
        await self.token_purge.start()
        await self.maintenance_switch.start()
        await self.control_unit.start()
        self.c2_fanout.start()
        await self.remote.start(self.presence)
        await self.media.start()
        await self.stereo.start()
        await self.device_server.start()
        # Announced only once its devices answer: another node reads a new device's
        # state at once, and would wait out its timeout on a device server not yet there.
        await self.presence.start()
        await self.gateway_listener.start()
        await self.rtsp.start()
        self.rtsp.learn_initial(credentials)
        await self.fleet.start(self.devices)
        await self.recording.start()
        self.history.start(self.devices)
        # Answer requests only now that every device's measured state is current (the
        # storages scanned above): before, a client saw no or last run's diskStorages.
        await self.listeners.start()
        if self.mqtt is not None:
            await self.mqtt.start()
        log.info(
            "node %s started with device %s and stereo cameras %s",
            self.settings.machine_name,
            self.control_unit.name,
            ", ".join(self.stereo.cameras) or "(none)",
        )
        return credentials

    async def stop(self) -> None:
        """Stop every part in order. A part whose stop fails is logged in one line and the
        rest still stop (camnet.ops.stopping), so one failure never skips the others."""
        mqtt = self.mqtt
        await stop_all(
            [
                ("mqtt", mqtt.stop if mqtt is not None else None),
                ("viewers", self._close_viewers),
                ("encoders", self.encoders.stop),
                ("gateway listener", self.gateway_listener.stop),
                ("device server", self.device_server.stop),
                ("remote nodes", self.remote.stop),
                ("history", self.history.stop),
                ("stereo cameras", self.stereo.stop),
                ("rtsp", self.rtsp.stop),
                ("listeners", self.listeners.stop),
                ("fleet", self.fleet.stop),
                ("recording", self.recording.stop),
                ("media", self.media.stop),
                ("presence", self.presence.stop),
                ("c2 fan-out", self.c2_fanout.stop),
                ("control unit", self.control_unit.stop),
                ("maintenance switch", self.maintenance_switch.stop),
                ("token purge", self.token_purge.stop),
                ("authenticator", self.authenticator.stop),
                ("identity", self.identity.stop),
                ("identity changes", self.identity_changes.stop),
                ("zmq hub", self.zmq_hub.stop),
                ("store", self.store.stop),
                ("bus", self.bus.stop),
                ("database", self.database.close),
            ]
        )
        log.info("node %s stopped", self.settings.machine_name)
