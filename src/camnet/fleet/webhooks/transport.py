"""Outbound HTTP/1.1 for webhook deliveries: keep-alive connections to vetted addresses.

Why not httpx here. A webhook sender makes many small requests to few hosts, and on the
2-core bench machine httpx's per-request overhead (URL and header models, the anyio
layer, the connection pool's bookkeeping) capped a plain httpx loop at about 560
requests/s, below the 500 deliveries/s goal once signing and the outbox are added (see
docs/benchmarks.md). This module keeps only what a webhook needs: h11 — the sans-IO
HTTP/1.1 state machine httpx itself is built on — over asyncio streams, one idle list of
keep-alive connections per destination, a whole-request timeout, and no redirects (a
3xx is an answer like any other).

It also connects to the address the SSRF guard approved rather than resolving the name
again, so a name cannot resolve to a forbidden address between the check and the
connection (DNS rebinding). TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Final

import h11

MAX_RESPONSE_BYTES: Final = 1 << 20
"""A receiver's answer is read (to keep the connection) up to this; beyond, the
connection is closed instead. Webhook answers carry nothing camnet uses but the status
and Retry-After."""
READ_CHUNK: Final = 65536


class TransportError(Exception):
    """A request that got no complete answer; the message says what happened."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    """Lower-case names; the last value of a repeated header wins."""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a request goes: the URL's parts plus the vetted addresses to connect to."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    """Tried in order until one accepts the connection."""
    authority: bytes
    """The Host header: the URL's host[:port] as written."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

    def is_reusable(self) -> bool:
        """Idle and still open: the peer has not closed it while it waited in the pool."""
        return (
            self.protocol.our_state is h11.IDLE
            and not self.writer.is_closing()
            and not self.reader.at_eof()
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    async def exchange(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None
    ) -> Response:
        protocol = self.protocol
        outgoing = protocol.send(h11.Request(method=method, target=target, headers=headers))
        assert outgoing is not None
        if body:
            data = protocol.send(h11.Data(data=body))
            assert data is not None
            outgoing += data
        end = protocol.send(h11.EndOfMessage())
        assert end is not None
        self.writer.write(outgoing + end)
        await self.writer.drain()
        status = 0
        answer: dict[str, str] = {}
        read = 0
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                protocol.receive_data(await self.reader.read(READ_CHUNK))
                continue
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                answer = {
                    name.decode().lower(): value.decode("latin-1") for name, value in event.headers
                }
                continue
            if isinstance(event, h11.Data):
                read += len(event.data)
                if read > MAX_RESPONSE_BYTES:
                    # Status and headers are known; the rest is not worth reading.
                    self.close()
                    return Response(status, answer)
                continue
            if isinstance(event, h11.EndOfMessage):
                break
            if isinstance(event, h11.ConnectionClosed):
                raise TransportError("the receiver closed the connection before answering")
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
        else:
            self.close()
        return Response(status, answer)


class KeepAlivePool:
    """Keep-alive HTTP/1.1 connections per destination, reused while they stay open.

    The pool does not bound how many requests run at once; the dispatcher's own
    concurrency does. At most ``max_idle`` connections per destination are kept idle.
    """

    def __init__(self, *, timeout: float = 15.0, max_idle: int = 64) -> None:
        self.timeout = timeout
        self.max_idle = max_idle
        self._idle: dict[Destination, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    async def request(
        self,
        method: str,
        destination: Destination,
        target: bytes,
        headers: list[tuple[str, str]],
        body: bytes | None = None,
    ) -> Response:
        """Send one request and read its answer within ``timeout`` seconds.

        A request on a pooled connection that the receiver had closed meanwhile fails
        before any answer arrives; it is sent once more on a new connection (deliveries
        are at-least-once with a stable ``webhook-id``, so a repeat is harmless)."""
        wire_headers = [(b"host", destination.authority)]
        wire_headers += [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        if body is not None:
            wire_headers.append((b"content-length", str(len(body)).encode()))
        verb = method.encode()
        try:
            async with asyncio.timeout(self.timeout):
                pooled = self._take(destination)
                if pooled is not None:
                    try:
                        return self._keep(
                            destination,
                            pooled,
                            await pooled.exchange(verb, target, wire_headers, body),
                        )
                    except (OSError, TransportError, h11.RemoteProtocolError):
                        pooled.close()
                    except BaseException:
                        pooled.close()
                        raise
                connection = await self._connect(destination)
                try:
                    response = await connection.exchange(verb, target, wire_headers, body)
                except BaseException:
                    connection.close()
                    raise
                return self._keep(destination, connection, response)
        except TimeoutError:
            raise TransportError(f"no answer within {self.timeout:g} s") from None
        except h11.LocalProtocolError as exc:  # e.g. a header value h11 will not send
            raise TransportError(f"the request cannot be sent: {exc}") from None
        except h11.RemoteProtocolError as exc:
            raise TransportError(f"the receiver's answer is not HTTP/1.1: {exc}") from None
        except ssl.SSLError as exc:
            raise TransportError(f"TLS: {exc}") from None
        except OSError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None

    def _take(self, destination: Destination) -> _Connection | None:
        idle = self._idle.get(destination)
        while idle:
            connection = idle.pop()
            if connection.is_reusable():
                return connection
            connection.close()
        return None

    def _keep(
        self, destination: Destination, connection: _Connection, response: Response
    ) -> Response:
        if not self._closed and connection.is_reusable():
            idle = self._idle.setdefault(destination, [])
            if len(idle) < self.max_idle:
                idle.append(connection)
                return response
        connection.close()
        return response

    async def _connect(self, destination: Destination) -> _Connection:
        tls: ssl.SSLContext | None = None
        if destination.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        failure: OSError = OSError(f"{destination.host} has no address to connect to")
        for address in destination.addresses:
            try:
                reader, writer = await asyncio.open_connection(
                    address,
                    destination.port,
                    ssl=tls,
                    server_hostname=destination.host if tls is not None else None,
                    limit=READ_CHUNK,
                )
            except OSError as exc:
                failure = exc
                continue
            return _Connection(reader, writer)
        raise failure

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
