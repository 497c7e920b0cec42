"""The server's own HTTP and HTTPS listeners, switched at run time by the c2 state.

Both listeners are uvicorn servers running in the process's one event loop and serving
the one ASGI application; only the socket (and TLS) differs. The c2 variables ``httpOn``,
``httpsOn``, ``httpPort`` and ``httpsPort`` drive them:

- a write is checked while it is staged (``stage``), so a refusal leaves nothing changed:
  both listeners on one port, a port another program holds, or switching off or moving
  the listener the request came through while the other is not up are refused;
- the committed ``Update`` reconciles the listeners (``_reconcile``): a moved listener is
  bound on its new port *before* the old one closes, so a failure keeps the old one;
- ``httpStatus``/``httpsStatus``/``connectionUrls`` report what really listens, or the
  error and its reason.

Which listener a request came through is known from the ASGI scope, but the stage
handler runs deep below the face; each listener therefore wraps the application in a
tiny ASGI layer that sets ``ARRIVAL`` (a context variable, inherited by everything the
request awaits).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal

import uvicorn
from uvicorn.lifespan.off import LifespanOff

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.devices.device import Device, Staging, WriteRefused
from camnet.devices.sim_control_unit import SimulatedControlUnit
from camnet.ops.limits import websocket_ceiling
from camnet.protocols import certificates
from camnet.protocols.http_guard import HttpGuard, guarded_protocol
from camnet.settings import Settings
from camnet.state.schema import JsonValue, Variable

log = logging.getLogger(__name__)

Kind = Literal["http", "https"]
KINDS: Final[tuple[Kind, Kind]] = ("http", "https")
VARIABLES: Final = ("httpOn", "httpsOn", "httpPort", "httpsPort")
GRACE: Final = 2.0
"""Seconds a stopping listener gives open requests before cancelling them."""

ARRIVAL: ContextVar[Kind | None] = ContextVar("camnet_arrival", default=None)
"""The listener the current request came through (None: not through a listener)."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Tagged:
    """The application as seen through one listener: sets ``ARRIVAL`` per request."""

    def __init__(self, app: App, kind: Kind) -> None:
        self._app = app
        self._kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = ARRIVAL.set(self._kind)
        try:
            await self._app(scope, receive, send)
        finally:
            ARRIVAL.reset(token)


def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket (raises OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def reason_of(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the port is in use by another program"
    if exc.errno == errno.EACCES:
        return "no permission to listen on this port"
    return exc.strerror or str(exc)


def guard_of(settings: Settings, on_refusal: Callable[[str], None] | None) -> HttpGuard:
    return HttpGuard(
        max_header_bytes=settings.http_max_header_bytes,
        header_timeout=settings.http_header_timeout,
        max_connections=settings.http_max_connections,
        max_connections_per_address=settings.http_max_connections_per_address,
        on_refusal=on_refusal,
    )


def shown_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class Listener:
    """One uvicorn server on one socket, started and stopped inside the running loop."""

    def __init__(
        self,
        kind: Kind,
        app: App,
        sock: socket.socket,
        settings: Settings,
        cert: certificates.CertificateFiles | None,
        guard: HttpGuard | None = None,
    ) -> None:
        self.kind = kind
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        options: dict[str, Any] = {}
        if cert is not None:
            options = {"ssl_certfile": str(cert.cert), "ssl_keyfile": str(cert.key)}
        config = uvicorn.Config(
            _Tagged(app, kind),
            lifespan="off",
            log_config=None,
            access_log=False,
            ws_max_size=websocket_ceiling(settings.ws_max_message_bytes),
            timeout_graceful_shutdown=int(GRACE),
            timeout_keep_alive=max(1, round(settings.http_idle_timeout)),
            http=guarded_protocol(guard or guard_of(settings, None)),
            **options,
        )
        config.load()
        self._server = uvicorn.Server(config)
        self._server.lifespan = LifespanOff(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._server.startup(sockets=[self.sock])
        self._task = asyncio.create_task(self._server.main_loop(), name=f"camnet-{self.kind}")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._server.shutdown(sockets=[self.sock])


@dataclass(frozen=True, slots=True)
class Wanted:
    on: bool
    port: int


class ListenerManager:
    """Owns the HTTP and HTTPS listeners and the c2 variables that describe them."""

    def __init__(
        self,
        settings: Settings,
        device: Device,
        behaviour: SimulatedControlUnit,
        bus: Bus,
    ) -> None:
        self._settings = settings
        self._device = device
        self._bus = bus
        self._host = settings.host
        self._app: App | None = None
        self.guard = guard_of(settings, None)
        """The connection limits, one count for both listeners (``http_guard``)."""
        self._initial_socket: socket.socket | None = None
        self._external_urls: tuple[str, ...] = ()
        self.listeners: dict[Kind, Listener] = {}
        self._errors: dict[Kind, tuple[int, str]] = {}
        self._cert: certificates.CertificateFiles | None = None
        self._cert_error: str | None = None
        self._subscription: Subscription | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        behaviour.handle(VARIABLES, self.stage)

    def attach(
        self,
        app: App,
        http_socket: socket.socket | None,
        external_urls: tuple[str, ...],
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        """The application to serve, and the HTTP socket bound by the caller (if any).

        Without a socket the HTTP listener belongs to whoever embeds camnet (a test's
        own uvicorn server): it is reported as listening and cannot be switched here.
        """
        self._app = app
        self.guard.on_refusal = on_refusal
        self._initial_socket = http_socket
        self._external_urls = external_urls

    @property
    def manages_http(self) -> bool:
        return self._initial_socket is not None or "http" in self.listeners

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self._load_certificate()
        if self._initial_socket is not None and self._app is not None:
            listener = Listener(
                "http", self._app, self._initial_socket, self._settings, None, self.guard
            )
            await listener.start()
            self.listeners["http"] = listener
            # The configured address (``api_addr``) wins at start, so a restart always
            # brings back the access the operator configured; the variables follow it.
            await self._device.report({"httpOn": True, "httpPort": listener.port})
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
        for kind in KINDS:
            listener = self.listeners.pop(kind, None)
            if listener is not None:
                await listener.stop()

    async def _load_certificate(self) -> None:
        settings = self._settings
        from camnet.adapters import hostinfo

        def load() -> tuple[certificates.CertificateFiles, dict[str, Any]]:
            interfaces = hostinfo.net_info()
            names = [
                hostinfo.hostname(),
                "localhost",
                "127.0.0.1",
                "::1",
                *hostinfo.addresses(interfaces),
            ]
            if self._host not in ("", "0.0.0.0", "::"):
                names.append(self._host)
            files = certificates.ensure(
                settings.data_dir,
                settings.https_cert_file,
                settings.https_key_file,
                hostinfo.hostname(),
                names,
            )
            return files, certificates.describe(files)

        try:
            self._cert, description = await asyncio.to_thread(load)
        except (certificates.CertificateError, OSError, ValueError) as exc:
            self._cert_error = str(exc)
            log.error("HTTPS certificate unusable: %s", exc)
            await self._device.report({"httpsCertificate": {"error": str(exc)}})
            return
        await self._device.report({"httpsCertificate": description})

    # --- staging (under the device lock; no awaiting) -----------------------------------

    def _actual(self, kind: Kind) -> Wanted:
        listener = self.listeners.get(kind)
        if listener is None:
            return Wanted(False, int(self._device.state[f"{kind}Port"]))
        return Wanted(True, listener.port)

    def stage(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        name = variable.name
        if name in ("httpOn", "httpPort") and not self.manages_http and staging[name] != value:
            raise WriteRefused(name, "the HTTP listener is run by the program embedding camnet")
        staging.set(name, value)
        wanted = {
            kind: Wanted(bool(staging[f"{kind}On"]), int(staging[f"{kind}Port"])) for kind in KINDS
        }
        if all(w.on for w in wanted.values()) and wanted["http"].port == wanted["https"].port:
            raise WriteRefused(name, "HTTP and HTTPS cannot listen on the same port")
        arrival = ARRIVAL.get()
        if arrival is not None and self._changes(arrival, wanted[arrival]):
            other: Kind = "https" if arrival == "http" else "http"
            stays = self._actual(other).on and not self._changes(other, wanted[other])
            if not stays:
                action = "switch off" if not wanted[arrival].on else "move"
                raise WriteRefused(
                    name,
                    f"this request came through the {arrival.upper()} listener; "
                    f"camnet does not {action} it unless the {other.upper()} listener is up",
                )
        if name in ("httpsOn", "httpsPort") and wanted["https"].on and self._cert is None:
            raise WriteRefused(name, f"no usable certificate: {self._cert_error}")
        for kind in KINDS:
            self._probe(name, kind, wanted[kind])

    def _changes(self, kind: Kind, wanted: Wanted) -> bool:
        actual = self._actual(kind)
        return wanted.on != actual.on or (wanted.on and wanted.port != actual.port)

    def _probe(self, name: str, kind: Kind, wanted: Wanted) -> None:
        """Refuse a port another program holds now (a race left is reported as error)."""
        if not wanted.on or not self._changes(kind, wanted):
            return
        if any(listener.port == wanted.port for listener in self.listeners.values()):
            raise WriteRefused(name, f"port {wanted.port} is used by the other listener")
        try:
            bind(self._host, wanted.port).close()
        except OSError as exc:
            raise WriteRefused(
                name, f"cannot listen on port {wanted.port}: {reason_of(exc)}"
            ) from None

    # --- reconciling after commit -------------------------------------------------------

    def _on_update(self, envelope: Envelope) -> None:
        if variable_of(envelope.topic.name) in VARIABLES:
            task = asyncio.create_task(self._reconcile())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reconcile(self) -> None:
        async with self._lock:
            for kind in KINDS:
                if kind == "http" and not self.manages_http:
                    continue
                await self._reconcile_one(kind)
            await self._report()

    async def _reconcile_one(self, kind: Kind) -> None:
        state = self._device.state
        wanted = Wanted(bool(state[f"{kind}On"]), int(state[f"{kind}Port"]))
        current = self.listeners.get(kind)
        if not wanted.on:
            self._errors.pop(kind, None)
            if current is not None:
                del self.listeners[kind]
                await current.stop()
            return
        if current is not None and current.port == wanted.port:
            self._errors.pop(kind, None)
            return
        if self._app is None:
            return
        cert = None
        if kind == "https":
            if self._cert is None:
                self._errors[kind] = (wanted.port, f"no usable certificate: {self._cert_error}")
                return
            cert = self._cert
        try:
            sock = bind(self._host, wanted.port)
        except OSError as exc:
            self._errors[kind] = (wanted.port, reason_of(exc))
            log.warning("cannot listen for %s on port %d: %s", kind, wanted.port, reason_of(exc))
            return
        listener = Listener(kind, self._app, sock, self._settings, cert, self.guard)
        try:
            await listener.start()
        except Exception as exc:  # a broken certificate shows here, at the TLS set-up
            sock.close()
            self._errors[kind] = (wanted.port, str(exc))
            log.exception("starting the %s listener failed", kind)
            return
        self.listeners[kind] = listener
        self._errors.pop(kind, None)
        if current is not None:
            await self._report()  # the new port is up: say so before the old one drains
            await current.stop()

    def urls(self, kind: Kind) -> list[str]:
        if kind == "http" and not self.manages_http:
            return [url.removesuffix("/api") for url in self._external_urls]
        listener = self.listeners.get(kind)
        if listener is None:
            return []
        return [f"{kind}://{shown_host(self._host)}:{listener.port}"]

    def status(self, kind: Kind) -> dict[str, JsonValue]:
        urls: list[JsonValue] = list(self.urls(kind))
        listener = self.listeners.get(kind)
        error = self._errors.get(kind)
        if error is not None:
            status: dict[str, JsonValue] = {"state": "error", "port": error[0], "reason": error[1]}
            if listener is not None:
                status["listeningOn"] = listener.port
            status["urls"] = urls
            return status
        if listener is not None:
            return {"state": "listening", "port": listener.port, "urls": urls}
        if urls:  # run by the embedding program
            return {"state": "listening", "urls": urls}
        return {"state": "stopped", "urls": []}

    async def _report(self) -> None:
        await self._device.report(
            {
                "httpStatus": self.status("http"),
                "httpsStatus": self.status("https"),
                "connectionUrls": {
                    "http": [f"{url}/api" for url in self.urls("http")],
                    "https": [f"{url}/api" for url in self.urls("https")],
                },
            }
        )
