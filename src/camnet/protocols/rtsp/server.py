"""The RTSP 1.0 server: sessions over asyncio streams, RTP over TCP (interleaved) or UDP.

Methods: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER and
SET_PARAMETER (keep-alives). Every method but OPTIONS needs credentials (``auth.py``).
A session belongs to the connection that set it up and ends with it, with TEARDOWN, or
after ``SESSION_TIMEOUT`` seconds without a request (UDP clients keep it alive with
GET_PARAMETER, as ffmpeg and VLC do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from camnet.identity.live import LiveSessions, Recheck
from camnet.identity.permissions import Principal
from camnet.identity.throttle import Throttled
from camnet.media.h264 import H264Encoder, parameter_sets
from camnet.protocols.rtsp import h264
from camnet.protocols.rtsp.auth import RtspAuth
from camnet.protocols.rtsp.messages import (
    ProtocolError,
    Request,
    RequestReader,
    Transport,
    parse_transport,
    response,
    sdp,
)
from camnet.protocols.rtsp.sources import RtspSources

log = logging.getLogger(__name__)

SESSION_TIMEOUT: Final = 60
SENDER_REPORT_INTERVAL: Final = 1.0
PUBLIC: Final = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
TRACK: Final = "trackID=0"


class _Datagrams(asyncio.DatagramProtocol):
    """The server's RTP/RTCP sockets of one UDP session (incoming RTCP is ignored)."""


@dataclass(eq=False)
class Session:
    id: str
    path: str
    encoder: H264Encoder
    transport: Transport
    peer: str
    writer: asyncio.StreamWriter
    rtp: h264.RtpPacketizer
    udp: tuple[asyncio.DatagramTransport, asyncio.DatagramTransport] | None = None
    server_ports: tuple[int, int] | None = None
    sender: asyncio.Task[None] | None = None
    last_seen: float = field(default_factory=time.monotonic)
    frames: int = 0
    last_latency: float | None = None

    @property
    def playing(self) -> bool:
        return self.sender is not None and not self.sender.done()

    def describe(self) -> dict[str, Any]:
        kind = "tcp" if self.transport.interleaved is not None else "udp"
        return {"session": self.id, "path": self.path, "transport": kind, "peer": self.peer}


class RtspServer:
    def __init__(
        self,
        host: str,
        sources: RtspSources,
        auth: RtspAuth,
        on_change: Callable[[], None],
        live: LiveSessions | None = None,
    ) -> None:
        self._live = live
        self._host = host
        self._sources = sources
        self._auth = auth
        self._on_change = on_change
        self._server: asyncio.Server | None = None
        self.port: int | None = None
        self.sessions: dict[str, Session] = {}
        self.connections = 0
        self._reaper: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_server(self._connection, sock=sock)
        self.port = sock.getsockname()[1]
        self._reaper = asyncio.create_task(self._reap(), name="camnet-rtsp-reaper")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for session in list(self.sessions.values()):
            await self._end(session)
            session.writer.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        self._server = None

    def playing(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.playing]

    # --- connections --------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        peer = str(writer.get_extra_info("peername")[0])
        owned: list[Session] = []
        requests = RequestReader()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for request in requests.feed(data):
                    await self._handle(request, writer, peer, owned)
        except ProtocolError as exc:
            writer.write(response(400, "0", [("Connection", "close")], str(exc).encode()))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.connections -= 1
            for session in owned:
                await self._end(session)
            writer.close()
            self._handlers.discard(task)
            self._on_change()

    async def _handle(
        self, request: Request, writer: asyncio.StreamWriter, peer: str, owned: list[Session]
    ) -> None:
        if request.version != "RTSP/1.0":
            writer.write(response(505, request.cseq))
            return
        if request.method == "OPTIONS":
            # Open, but credentials sent along are checked (and a valid Basic secret is
            # learnt for Digest): `curl -u USER:SECRET rtsp://…` sends only OPTIONS.
            if request.headers.get("authorization"):
                # A guess here spends the same budget as anywhere; once throttled, the
                # secret is not checked (nor learnt), and OPTIONS still answers.
                with contextlib.suppress(Throttled):
                    await self._auth.principal(
                        request.method, request.headers["authorization"], peer
                    )
            writer.write(response(200, request.cseq, [("Public", PUBLIC)]))
            return
        try:
            principal = await self._auth.principal(
                request.method, request.headers.get("authorization"), peer
            )
        except Throttled as refused:
            # RTSP/1.0 has no 429: 503 with Retry-After is its way to say "wait".
            writer.write(response(503, request.cseq, [("Retry-After", str(refused.retry_after))]))
            return
        if principal is None:
            challenges = [("WWW-Authenticate", value) for value in self._auth.challenges()]
            writer.write(response(401, request.cseq, challenges))
            return
        if request.method in ("DESCRIBE", "SETUP"):
            owner = self._sources.owner(request.path)
            if owner is None or not self._auth.may_watch(principal, owner):
                # The answer of a path that does not exist: another account's caller
                # learns nothing about which paths do.
                writer.write(response(404, request.cseq))
                return
        handler = {
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._keep_alive,
            "SET_PARAMETER": self._keep_alive,
        }.get(request.method)
        if request.method == "PLAY":
            await self._play(request, writer, principal)
            return
        if handler is None:
            writer.write(response(405, request.cseq, [("Allow", PUBLIC)]))
            return
        await handler(request, writer, peer, owned)

    def _session(self, request: Request, writer: asyncio.StreamWriter) -> Session | None:
        session_id = request.headers.get("session", "").split(";")[0].strip()
        session = self.sessions.get(session_id)
        if session is None:
            writer.write(response(454, request.cseq))
            return None
        session.last_seen = time.monotonic()
        return session

    # --- methods ------------------------------------------------------------------------

    async def _describe(
        self, request: Request, writer: asyncio.StreamWriter, _peer: str, _owned: list[Session]
    ) -> None:
        encoder = self._sources.encoder(request.path)
        if encoder is None:
            writer.write(response(404, request.cseq))
            return
        config = encoder.hub.config
        sets = await asyncio.to_thread(parameter_sets, config.width, config.height, config.fps)
        fmtp = "packetization-mode=1"
        if sets is not None:
            fmtp += f";profile-level-id={sets.profile_level_id};sprop-parameter-sets={sets.sprop}"
        local = str(writer.get_extra_info("sockname")[0])
        body = sdp(local, TRACK, h264.PAYLOAD_TYPE, fmtp, secrets.randbelow(1 << 31))
        base = request.url.rstrip("/") + "/"
        headers = [("Content-Type", "application/sdp"), ("Content-Base", base)]
        writer.write(response(200, request.cseq, headers, body))

    async def _setup(
        self, request: Request, writer: asyncio.StreamWriter, peer: str, owned: list[Session]
    ) -> None:
        if "session" in request.headers:
            # One track per stream: a second SETUP in a session has nothing to add.
            writer.write(response(459, request.cseq))
            return
        encoder = self._sources.encoder(request.path)
        if encoder is None:
            writer.write(response(404, request.cseq))
            return
        transport = parse_transport(request.headers.get("transport", ""))
        if transport is None:
            writer.write(response(461, request.cseq))
            return
        session = Session(
            id=secrets.token_hex(8),
            path=request.path,
            encoder=encoder,
            transport=transport,
            peer=peer,
            writer=writer,
            rtp=h264.RtpPacketizer(secrets.randbits(32), secrets.randbits(16)),
        )
        ssrc = f"{session.rtp.ssrc:08X}"
        if transport.interleaved is not None:
            a, b = transport.interleaved
            reply = f"RTP/AVP/TCP;unicast;interleaved={a}-{b};ssrc={ssrc}"
        else:
            assert transport.client_ports is not None
            try:
                session.udp, session.server_ports = await self._udp_pair(writer)
            except OSError:
                writer.write(response(503, request.cseq))
                return
            a, b = transport.client_ports
            s1, s2 = session.server_ports
            reply = f"RTP/AVP;unicast;client_port={a}-{b};server_port={s1}-{s2};ssrc={ssrc}"
        self.sessions[session.id] = session
        owned.append(session)
        headers = [("Transport", reply), ("Session", f"{session.id};timeout={SESSION_TIMEOUT}")]
        writer.write(response(200, request.cseq, headers))
        self._on_change()

    async def _udp_pair(
        self, writer: asyncio.StreamWriter
    ) -> tuple[tuple[asyncio.DatagramTransport, asyncio.DatagramTransport], tuple[int, int]]:
        """Two UDP sockets on consecutive ports (RTP even, RTCP odd) on the local address."""
        local = str(writer.get_extra_info("sockname")[0])
        family = socket.AF_INET6 if ":" in local else socket.AF_INET
        loop = asyncio.get_running_loop()
        for _ in range(50):
            rtp = socket.socket(family, socket.SOCK_DGRAM)
            rtcp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp.bind((local, 0))
                port = rtp.getsockname()[1]
                if port % 2 or port == 65535:
                    raise OSError("odd port")
                rtcp.bind((local, port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            first, _ = await loop.create_datagram_endpoint(_Datagrams, sock=rtp)
            second, _ = await loop.create_datagram_endpoint(_Datagrams, sock=rtcp)
            return (first, second), (port, port + 1)
        raise OSError("no free pair of UDP ports")

    async def _play(
        self, request: Request, writer: asyncio.StreamWriter, principal: Principal
    ) -> None:
        session = self._session(request, writer)
        if session is None:
            return
        headers = [("Session", session.id), ("Range", "npt=0.000-")]
        writer.write(response(200, request.cseq, headers))
        if not session.playing:
            # A path whose camera went away is owned by nobody: nothing can still watch it.
            owner = self._sources.owner(session.path) or ""
            recheck = self._auth.rechecker(
                request.method, request.headers.get("authorization"), owner
            )
            session.sender = asyncio.create_task(
                self._play_while_allowed(session, principal, recheck), name=f"rtsp-{session.id}"
            )
            self._on_change()

    async def _play_while_allowed(
        self, session: Session, principal: Principal, recheck: Recheck | None
    ) -> None:
        """Send until paused or torn down; or, when the credentials that started the play
        end (``identity/live.py``), until ``_end_when_ended`` ends the session."""
        if self._live is None or recheck is None:
            await self._send(session)
            return
        with self._live.watch(principal, recheck) as live:
            watcher = asyncio.create_task(self._end_when_ended(session, live.ended))
            self._handlers.add(watcher)  # held (and cancelled at stop) like a connection
            watcher.add_done_callback(self._handlers.discard)
            try:
                await self._send(session)
            finally:
                if not live.ended.is_set():
                    watcher.cancel()

    async def _end_when_ended(self, session: Session, ended: asyncio.Event) -> None:
        await ended.wait()
        log.info("RTSP session %s ended: its credentials ended", session.id)
        session.writer.close()
        await self._end(session)
        self._on_change()

    async def _pause(
        self, request: Request, writer: asyncio.StreamWriter, _peer: str, _owned: list[Session]
    ) -> None:
        session = self._session(request, writer)
        if session is None:
            return
        await self._stop_sending(session)
        writer.write(response(200, request.cseq, [("Session", session.id)]))
        self._on_change()

    async def _teardown(
        self, request: Request, writer: asyncio.StreamWriter, _peer: str, owned: list[Session]
    ) -> None:
        session = self._session(request, writer)
        if session is None:
            return
        await self._end(session)
        if session in owned:
            owned.remove(session)
        writer.write(response(200, request.cseq, [("Session", session.id)]))
        self._on_change()

    async def _keep_alive(
        self, request: Request, writer: asyncio.StreamWriter, _peer: str, _owned: list[Session]
    ) -> None:
        headers = []
        if "session" in request.headers:
            session = self._session(request, writer)
            if session is None:
                return
            headers.append(("Session", session.id))
        writer.write(response(200, request.cseq, headers))

    # --- sending ------------------------------------------------------------------------

    async def _send(self, session: Session) -> None:
        subscriber = session.encoder.subscribe()
        rtp = session.rtp
        last_report = 0.0
        try:
            while True:
                unit = await subscriber.queue.get()
                if unit is None:  # the stream ended (deactivated, or the node stops)
                    break
                packets = rtp.packetize(unit.units, unit.timestamp)
                now = time.monotonic()
                if now - last_report >= SENDER_REPORT_INTERVAL:
                    last_report = now
                    # The wall-clock time of this unit's capture, so a receiver can tell
                    # each picture's capture time from its RTP timestamp (RFC 3550 §6.4.1).
                    captured = time.time() - (now - unit.captured)
                    report = rtp.sender_report(captured, unit.timestamp)
                else:
                    report = None
                if session.transport.interleaved is not None:
                    channel, control = session.transport.interleaved
                    chunks = [_frame(channel, packet) for packet in packets]
                    if report is not None:
                        chunks.append(_frame(control, report))
                    session.writer.write(b"".join(chunks))
                    await session.writer.drain()
                else:
                    assert session.udp is not None
                    assert session.transport.client_ports is not None
                    rtp_port, rtcp_port = session.transport.client_ports
                    for packet in packets:
                        session.udp[0].sendto(packet, (session.peer, rtp_port))
                    if report is not None:
                        session.udp[1].sendto(report, (session.peer, rtcp_port))
                session.frames += 1
                session.last_latency = time.monotonic() - unit.captured
        except (ConnectionError, OSError):
            pass
        finally:
            session.encoder.unsubscribe(subscriber)

    async def _stop_sending(self, session: Session) -> None:
        sender, session.sender = session.sender, None
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _end(self, session: Session) -> None:
        await self._stop_sending(session)
        if session.udp is not None:
            for transport in session.udp:
                transport.close()
            session.udp = None
        self.sessions.pop(session.id, None)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(SESSION_TIMEOUT / 4)
            now = time.monotonic()
            for session in list(self.sessions.values()):
                # Over TCP the connection carries the session; over UDP only requests do.
                if session.transport.interleaved is None and now - session.last_seen > (
                    SESSION_TIMEOUT
                ):
                    log.info("RTSP session %s timed out", session.id)
                    await self._end(session)
                    self._on_change()


def _frame(channel: int, packet: bytes) -> bytes:
    return b"$" + bytes((channel,)) + len(packet).to_bytes(2, "big") + packet
