"""One typed settings model, loaded once at start-up from file, environment and flags.

Precedence: command-line flag beats ``CAMNET_*`` environment variable beats the TOML file
(``--config``) beats the default. A value that does not validate stops the program with
exit status 2 and a message that names the key and what it may be.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from camnet.devices.profiles.c2 import API_USER_WRITABLE
from camnet.devices.stereo.mxid import default_stereo_mxid

ENV_PREFIX: Final = "CAMNET_"
_MACHINE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "camnet"


def default_machine_name() -> str:
    """The host name made fit for ``MachineName-ServiceName``: letters, digits, ``_``."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname().split(".")[0])
    return cleaned[:64] or "camnet"


class Settings(BaseModel):
    """Everything an operator can configure; secrets are masked when printed."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    api_addr: str = Field(
        "127.0.0.1:8080", description="HOST:PORT the HTTP API listens on (port 0: any free)"
    )
    data_dir: Path = Field(
        default_factory=default_data_dir, description="where the database and files live"
    )
    machine_name: str = Field(
        default_factory=default_machine_name,
        description="this node's MachineName: letters, digits and _ only",
    )
    second_head: bool = Field(True, description="the simulated control unit has a 2nd head")
    bus: str = Field(
        "local",
        description="message bus: 'local' (in-process) or a NATS URL such as nats://host:4222",
    )
    db: SecretStr | None = Field(
        None,
        description="database URL: unset, SQLite at <data_dir>/camnet.sqlite3; "
        "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE for several nodes sharing "
        "identity, fleet, events and the recordings' index",
    )
    webhook_gap_settle: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="seconds the webhook outbox waits for a missing event id (a transaction "
        "still in flight on PostgreSQL) before it counts it as rolled back",
    )
    heartbeat_interval: float = Field(
        2.0, gt=0, description="seconds between presence heartbeats; offline after 3 missed"
    )
    store_bucket: str = Field(
        "camnet-store",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="JetStream KV bucket of the network Store (with a NATS bus)",
    )
    zmq_host: str = Field("127.0.0.1", description="address the ZeroMQ hub listens on")
    zmq_publish_port: int = Field(
        16202, ge=0, le=65535, description="ZeroMQ hub: clients publish into this port (0: any)"
    )
    zmq_subscribe_port: int = Field(
        16201, ge=0, le=65535, description="ZeroMQ hub: clients subscribe from this port (0: any)"
    )
    zmq_max_attachment_bytes: int = Field(
        16 * 1024 * 1024, ge=0, description="largest attachment the ZeroMQ hub accepts"
    )
    network_name: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_]{0,64}$",
        description="name of the camnet network on the NATS server; nodes hear only "
        "nodes of the same network (empty: the default network)",
    )
    gateway_host: str = Field("127.0.0.1", description="address the Gateway's own listener uses")
    gateway_port: int = Field(
        16208, ge=0, le=65535, description="the Gateway's own HTTP port (0: any free port)"
    )
    gateway_listener: bool = Field(True, description="serve the Gateway on its own port too")
    bus_anonymous_role: Literal["off", "viewer", "operator", "admin"] = Field(
        "off",
        description="the Gateway and the ZeroMQ hub answer requests without credentials as "
        "this role in the default account ('off': refused, and logged)",
    )
    bus_anonymous_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="networks (CIDR) requests without credentials may come from",
    )
    streams_anonymous_role: Literal["off", "viewer", "operator", "admin"] = Field(
        "off",
        description="the streams API (/cameras/...) answers requests without credentials "
        "as this role in the default account, e.g. for Robopipe Studio ('off': refused, "
        "and logged)",
    )
    streams_anonymous_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="networks (CIDR) requests to the streams API without credentials may come from",
    )
    remote_timeout: float = Field(
        5.0, gt=0, description="seconds a request to a device on another node waits"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="logging threshold"
    )
    api_user_read: list[str] | None = Field(
        None, description="variables the API-User may read (default: all)"
    )
    api_user_write: list[str] = Field(
        default_factory=lambda: list(API_USER_WRITABLE),
        description="variables the API-User may write",
    )
    admin_password: SecretStr | None = Field(
        None, description="initial admin password, used only when the user is created"
    )
    api_token: SecretStr | None = Field(
        None, description="initial API-User token, used only when the user is created"
    )
    max_body_bytes: int = Field(
        1 << 20, ge=1024, le=1 << 30, description="largest request body accepted"
    )
    ws_max_message_bytes: int = Field(
        1 << 20, ge=1024, le=1 << 30, description="largest WebSocket message accepted"
    )
    snapshot_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="seconds /camera.jpeg waits for a frame before answering 504 "
        "(a camera whose read blocks must not hold requests forever)",
    )
    simulation_interval: float = Field(
        1.0, gt=0, le=60, description="seconds between simulated readings"
    )
    admin_email: str = Field(
        "admin@localhost",
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="the first-start admin's email (the fleet login uses it)",
    )
    token_lifetime: int = Field(
        4 * 3600, ge=60, le=30 * 86400, description="seconds an OAuth access token lives"
    )
    refresh_token_lifetime: int = Field(
        30 * 86400, ge=60, le=365 * 86400, description="seconds a refresh token lives"
    )
    identity_poll_nats: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="with NATS: seconds between the identity watchers' safety-net polls "
        "(the bus notices changes made by nodes at once; the poll finds those made by "
        "commands writing to the database)",
    )
    advertised_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="base URL the service registry advertises (default: the listen URL)",
    )
    rate_limit_per_minute: int = Field(
        6000,
        ge=1,
        le=100_000_000,
        description="requests per access session, per service, per minute (a client's own "
        "limit overrides it)",
    )
    token_requests_per_minute: int = Field(
        120,
        ge=1,
        le=1_000_000,
        description="token endpoint requests per source address and per client, per minute",
    )
    token_failures_before_backoff: int = Field(
        10,
        ge=1,
        le=1000,
        description="failed sign-ins of one username or client before each further "
        "failure locks it out for 1, 2, 4 … 300 s",
    )
    token_failures_per_minute: int = Field(
        30, ge=1, le=1_000_000, description="failed sign-ins per address per minute; then 429"
    )
    token_failure_hold: float = Field(
        1.0, ge=0, le=10, description="seconds a guessing address's 429 is held (0: none)"
    )
    camera_source: Literal["sim", "opencv"] = Field(
        "sim",
        description="where the camera heads' pictures come from: the simulated scene, or "
        "real cameras through OpenCV (camera0_opencv, camera1_opencv)",
    )
    sim_time_code: bool = Field(
        False,
        description="measurement aid: the simulated heads draw their wall-clock capture time "
        "(ms) as a row of black/white blocks in the bottom-left corner of each frame",
    )
    camera0_opencv: str | None = Field(
        None,
        description="head 0 with camera_source=opencv: a V4L2 index (0) or device "
        "(/dev/video0), an rtsp:// or http:// URL, or a video file (played in a loop)",
    )
    camera1_opencv: str | None = Field(
        None, description="head 1 with camera_source=opencv, as camera0_opencv; unset: no head 1"
    )
    camera_reconnect_max: float = Field(
        5.0,
        gt=0,
        le=300,
        description="longest wait in seconds between reconnection attempts of an OpenCV source",
    )
    stereo_cameras: list[Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,64}$")]] = Field(
        default_factory=list,
        max_length=8,
        description="mxids of the simulated stereo cameras (streams API); [] for none; "
        "unset: one camera whose mxid is derived from machine_name",
    )
    stereo_baseline_mm: float = Field(
        75.0, gt=10, le=500, description="distance between a simulated stereo pair's sensors"
    )
    stereo_focal_length_px: float = Field(
        441.0, gt=100, le=2000, description="focal length of the simulated pair at 640 px wide"
    )

    https_cert_file: Path | None = Field(
        None,
        description="PEM certificate (chain) for the HTTPS listener; unset: camnet makes a "
        "self-signed one in the data directory on first start (needs https_key_file)",
    )
    https_key_file: Path | None = Field(None, description="PEM private key of https_cert_file")

    # -- fleet (issue 7) --
    image_link_lifetime: float = Field(
        1800.0, gt=0, le=7 * 86400, description="seconds a fleet image link stays valid"
    )
    image_ready_delay: float = Field(
        0.0, ge=0, le=3600, description="seconds before a requested fleet image is served"
    )
    webhook_allow: str = Field(
        "",
        description="hosts and CIDRs webhooks may reach although not globally routable, "
        "comma-separated (e.g. 127.0.0.0/8,::1)",
    )
    webhook_keepalive_interval: float = Field(
        600.0, gt=0, le=86400, description="seconds between keepalive webhook pings"
    )
    webhook_timeout: float = Field(15.0, gt=0, le=120, description="webhook request timeout, s")
    webhook_retry_base: float = Field(
        5.0, gt=0, le=3600, description="first webhook retry delay in seconds (then doubling)"
    )
    webhook_retry_max: float = Field(
        3600.0, gt=0, le=86400, description="longest delay between webhook retries, s"
    )
    webhook_max_attempts: int = Field(
        14, ge=1, le=100, description="attempts of one webhook delivery before it is given up"
    )
    webhook_concurrency: int = Field(
        64, ge=1, le=1024, description="webhook requests in flight at once"
    )

    # -- recording (issue 5) --
    segment_seconds: int = Field(
        300,
        ge=1,
        le=86400,
        description="length in seconds of each recorded segment (manual and Visual Backup)",
    )
    backup_preroll_seconds: float = Field(
        2.0,
        ge=0,
        le=30,
        description="seconds of the backup stream kept in memory while Visual Backup is "
        "off and could be started by a tag, so the first segment begins before the tag "
        "(0: no pre-roll, and no capture while backup is off)",
    )
    storage_quota_bytes: int | None = Field(
        None,
        ge=1,
        description="when set, every storage reports this total size (used: camnet's files "
        "on it), so retention can be tried without filling a disk",
    )
    storage_dirs: list[Path] | None = Field(
        None,
        description="directories offered as diskStorages (default: <data_dir>/storage)",
    )
    removable_media_root: Path | None = Field(
        None,
        description="each directory directly under it is a removable medium in "
        "diskStorages (e.g. /media/camnet); unset: none",
    )
    net_storages: list[Path] = Field(
        default_factory=list,
        description="mounted network shares offered as netStorages",
    )

    # -- operations (issue 11) --
    log_format: Literal["auto", "json", "text"] = Field(
        "auto",
        description="log lines: 'json' (one object per line), 'text' (for people), or "
        "'auto': text on a terminal, JSON otherwise",
    )
    log_file: Path | None = Field(
        None, description="write the logs to this file (rotated) instead of stderr"
    )
    log_file_max_bytes: int = Field(
        10 * 1024 * 1024, ge=4096, description="rotate the log file when it reaches this size"
    )
    log_file_backups: int = Field(
        5, ge=1, le=100, description="rotated log files kept (camnet.log.1 … .N)"
    )
    metrics_open: bool = Field(
        False,
        description="serve /metrics without credentials (default: the 'metrics' "
        "permission is needed: the default account's admins, or metrics:node:read granted)",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="web applications on other origins allowed to call camnet from a "
        "browser (CORS), e.g. https://studio.example:8080; '*' allows any origin but "
        "never with credentials; empty (default): no cross-origin access",
    )
    mjpeg_max_viewers_per_stream: int = Field(
        200, ge=1, le=100_000, description="MJPEG viewers one stream may have at once"
    )
    mjpeg_max_viewers_per_token: int = Field(
        16,
        ge=1,
        le=100_000,
        description="MJPEG streams one set of credentials (token, session) may watch at once",
    )
    max_page_size: int = Field(
        100,
        ge=1,
        le=10_000,
        description="the largest page a list answers (fleet per_page, recordings and tags "
        "perPage); a larger request is refused in the dialect's error body",
    )
    http_max_header_bytes: int = Field(
        16384,
        ge=1024,
        le=1 << 20,
        description="bytes of one request head (request line and headers); more: 431",
    )
    http_header_timeout: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="seconds a request head may take to arrive, from the connection's start "
        "or the previous response's end; more: 408 (a connection that sent nothing: closed)",
    )
    http_idle_timeout: float = Field(
        5.0, gt=0, le=3600, description="seconds an idle keep-alive connection stays open"
    )
    http_max_connections: int = Field(
        10000,
        ge=1,
        le=1_000_000,
        description="open HTTP(S) connections at once, all addresses; one more: 503 and closed",
    )
    http_max_connections_per_address: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="open HTTP(S) connections from one address; one more: 429 and closed",
    )
    fleet_max_concurrent_images: int = Field(
        8,
        ge=1,
        le=10_000,
        description="fleet image requests whose picture is still being taken, per node; "
        "more answer 429 with Retry-After",
    )

    # -- MQTT bridge and Home Assistant discovery (issue 11) --
    mqtt: SecretStr | None = Field(
        None,
        description="MQTT broker of the bridge, mqtt://[USER:PASSWORD@]HOST[:PORT] "
        "(unset: no bridge)",
    )
    mqtt_prefix: str = Field(
        "camnet", description="topic prefix: {prefix}/{device}/{variable}, …/set, …/error"
    )
    mqtt_discovery_prefix: str = Field(
        "homeassistant", description="Home Assistant's discovery prefix"
    )
    mqtt_permissions: list[str] | None = Field(
        None,
        description="actions the bridge's principal holds in the default account, e.g. "
        "c2:state.light0:write, streams:cameras:read (default: the API-User's c2 actions "
        "and streams:cameras:read)",
    )
    mqtt_image_interval: float = Field(
        10.0, ge=0, le=86400, description="seconds between camera JPEGs on MQTT (0: none)"
    )
    mqtt_reconnect_interval: float = Field(
        2.0, gt=0, le=600, description="seconds between attempts to reach the MQTT broker"
    )

    @field_validator("api_addr")
    @classmethod
    def _check_api_addr(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected HOST:PORT with a port from 0 to 65535")
        return value

    @field_validator("bus")
    @classmethod
    def _check_bus(cls, value: str) -> str:
        if value != "local" and not value.startswith(("nats://", "tls://")):
            raise ValueError("expected 'local' or a NATS URL (nats://HOST:PORT)")
        return value

    @field_validator("db")
    @classmethod
    def _check_db(cls, value: SecretStr | None) -> SecretStr | None:
        url = value.get_secret_value() if value is not None else ""
        if value is not None and not url.startswith(
            ("postgresql://", "postgresql+psycopg://", "postgres://", "sqlite:///")
        ):
            raise ValueError("expected postgresql://USER@HOST:PORT/DATABASE or sqlite:///PATH")
        return value

    @field_validator("machine_name")
    @classmethod
    def _check_machine_name(cls, value: str) -> str:
        if not _MACHINE_NAME.match(value):
            raise ValueError(
                "expected 1-64 letters, digits or _ (no '-': it separates "
                "machine and service in MachineName-ServiceName)"
            )
        return value

    @field_validator("api_user_read", "api_user_write")
    @classmethod
    def _check_variables(cls, value: list[str] | None) -> list[str] | None:
        from camnet.devices.profiles.c2 import c2_schema

        if value is None:
            return None
        unknown = [name for name in value if name not in c2_schema()]
        if unknown:
            raise ValueError(f"unknown c2 variables: {', '.join(unknown)}")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, value: list[str]) -> list[str]:
        from camnet.ops.cors import check_origin

        return [check_origin(origin) for origin in value]

    @field_validator("mqtt")
    @classmethod
    def _check_mqtt(cls, value: SecretStr | None) -> SecretStr | None:
        from camnet.network.mqtt_topics import BrokerUrl

        if value is not None:
            BrokerUrl.parse(value.get_secret_value())
        return value

    @field_validator("mqtt_prefix", "mqtt_discovery_prefix")
    @classmethod
    def _check_mqtt_prefix(cls, value: str) -> str:
        from camnet.network.mqtt_topics import valid_prefix

        if not valid_prefix(value):
            raise ValueError("expected topic segments separated by / without + or #")
        return value

    @field_validator("bus_anonymous_networks", "streams_anonymous_networks", mode="before")
    @classmethod
    def _check_anonymous_networks(cls, value: Any) -> Any:
        from camnet.identity.anonymous import parse_networks

        if isinstance(value, str):  # CAMNET_*_ANONYMOUS_NETWORKS: comma-separated
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            parse_networks([str(item) for item in value])
        return value

    @field_validator("mqtt_permissions", mode="before")
    @classmethod
    def _check_mqtt_permissions(cls, value: Any) -> Any:
        from camnet.identity.actions import Action

        if isinstance(value, str):  # CAMNET_MQTT_PERMISSIONS: comma-separated
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            for item in value:
                Action.parse(str(item))
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_stereo_camera(cls, data: Any) -> Any:
        """Unset ``stereo_cameras``: one camera named after this machine (not one mxid
        shared by every node, as before issue 19)."""
        if isinstance(data, dict) and "stereo_cameras" not in data:
            machine = data.get("machine_name") or default_machine_name()
            return {**data, "stereo_cameras": [default_stereo_mxid(str(machine))]}
        return data

    @model_validator(mode="after")
    def _check_camera_source(self) -> Settings:
        if self.camera_source == "opencv" and not (self.camera0_opencv or self.camera1_opencv):
            raise ValueError("camera_source opencv needs camera0_opencv or camera1_opencv")
        return self

    @model_validator(mode="after")
    def _check_https_files(self) -> Settings:
        if (self.https_cert_file is None) != (self.https_key_file is None):
            raise ValueError("https_cert_file and https_key_file go together: set both or neither")
        return self

    @property
    def host(self) -> str:
        return self.api_addr.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.api_addr.rpartition(":")[2])

    @property
    def database_path(self) -> Path:
        return self.data_dir / "camnet.sqlite3"

    @property
    def database_url(self) -> str:
        """The database to open: ``db`` when set, else SQLite in the data directory."""
        if self.db is not None:
            return self.db.get_secret_value()
        return f"sqlite:///{self.database_path}"

    @property
    def recording_dirs(self) -> list[Path]:
        """The configured storage directories, or the default one under the data dir."""
        return self.storage_dirs if self.storage_dirs is not None else [self.data_dir / "storage"]


class SettingsError(Exception):
    """Settings that cannot be used; the message names the key and the allowed values."""


_LIST_KEYS: Final = frozenset(
    {"api_user_read", "api_user_write", "storage_dirs", "net_storages", "cors_origins"}
)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in Settings.model_fields:
        raw = environ.get(ENV_PREFIX + key.upper())
        if raw is None:
            continue
        if key in _LIST_KEYS:
            values[key] = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            values[key] = raw
    return values


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None


def _describe(error: ValidationError, sources: Mapping[str, str]) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "settings"
        top = str(item["loc"][0]) if item["loc"] else key
        origin = sources.get(top, "default")
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting; known settings: " + ", ".join(Settings.model_fields)
        lines.append(f"invalid setting {key} (from {origin}): {message}")
    return "\n".join(lines)


def load_settings(
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge the sources by precedence and validate once."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        layers.append((f"config file {config_file}", _from_file(config_file)))
    layers.append(("environment", _from_env(environ)))
    layers.append(("command line", {k: v for k, v in (cli or {}).items() if v is not None}))
    for origin, layer in layers:
        for key, value in layer.items():
            merged[key] = value
            sources[key] = origin
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, sources)) from None
