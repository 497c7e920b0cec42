"""Shared pieces of the benchmarks: server processes, raw HTTP and WebSocket clients, stats.

The benchmarks compare camnet with bare reference servers on a small (2-core) machine, so
the measuring side must cost as little CPU as possible and must treat both servers exactly
alike. That is why the clients here are hand-written asyncio Protocols (no client library,
no per-message objects beyond what is needed) and why every server, camnet or reference,
is started, awaited and stopped by the same code: a subprocess that prints
``… listening on http://127.0.0.1:PORT`` when it is ready.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import collections
import contextlib
import math
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import ClassVar, cast
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
HOST = "127.0.0.1"
READY_PATTERN = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
URL_PATTERN = re.compile(r"(?:http|ws)://127\.0\.0\.1:\d+\S*")


# --------------------------------------------------------------------------- processes


def raise_nofile_limit(wanted: int) -> int:
    """Raise the soft open-file limit towards ``wanted`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def install_sigterm_as_exit() -> None:
    """Turn SIGTERM into ``SystemExit`` so ``finally`` blocks stop the servers we started."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def use_uvloop() -> bool:
    """Install uvloop's event loop policy if available (it is, via ``uvicorn[standard]``)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def taskset_prefix(cpus: str | None) -> list[str]:
    """``taskset -c CPUS`` when pinning is asked for and ``taskset`` exists (no root needed)."""
    if not cpus:
        return []
    from shutil import which

    exe = which("taskset")
    return [exe, "-c", cpus] if exe else []


class ServerProcess:
    """A server subprocess that announces readiness with a ``listening on`` line.

    The process gets its own session so a Ctrl-C in the terminal reaches only the
    benchmark, which then stops its servers in order. Output is drained by threads into
    short ring buffers, shown if the server dies before it is ready.
    """

    _live: ClassVar[set[ServerProcess]] = set()

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.urls: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._ready_line = ""
        self._tail: collections.deque[str] = collections.deque(maxlen=60)

    @property
    def base_url(self) -> str:
        return self.urls[0]

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self._proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        ServerProcess._live.add(self)
        assert self._proc.stdout is not None
        assert self._proc.stderr is not None
        threading.Thread(target=self._drain, args=(self._proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._drain, args=(self._proc.stderr, False), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(self._tail)
                raise RuntimeError(f"{self.name} did not become ready:\n{tail}")
        self.urls = URL_PATTERN.findall(self._ready_line)
        return self

    def _drain(self, stream: Iterator[str], is_stdout: bool) -> None:
        for line in stream:
            self._tail.append(line.rstrip("\n"))
            if is_stdout and not self._ready.is_set() and READY_PATTERN.search(line):
                self._ready_line = line
                self._ready.set()

    def stop(self, grace: float = 8.0) -> None:
        proc, self._proc = self._proc, None
        ServerProcess._live.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> ServerProcess:
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @classmethod
    def stop_all(cls) -> None:
        for server in list(cls._live):
            server.stop(grace=2.0)


atexit.register(ServerProcess.stop_all)


@dataclass
class Camnet:
    """A camnet server on a fresh data directory with a known API-User token."""

    token: str = field(default_factory=lambda: "bench-" + secrets.token_hex(16))
    pin: str | None = None
    server: ServerProcess | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Camnet:
        self._tmp = tempfile.TemporaryDirectory(prefix="camnet-bench-")
        env = dict(os.environ)
        env["CAMNET_API_TOKEN"] = self.token
        env["CAMNET_ADMIN_PASSWORD"] = "bench-" + secrets.token_hex(12)
        # The load comes from one session: a per-minute budget would cap the figures.
        env.setdefault("CAMNET_RATE_LIMIT_PER_MINUTE", "100000000")
        exe = Path(sys.executable).with_name("camnet")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "camnet"]
        argv = [
            *taskset_prefix(self.pin),
            *command,
            "serve",
            "--data-dir",
            self._tmp.name,
            "--api-addr",
            f"{HOST}:0",
            "--log-level",
            "warning",
        ]
        try:
            self.server = ServerProcess("camnet", argv, env).start()
        except BaseException:
            self._tmp.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url


def bench_script(name: str, *args: str, pin: str | None = None) -> list[str]:
    """argv running ``bench/<name>`` with this interpreter."""
    return [*taskset_prefix(pin), sys.executable, str(BENCH_DIR / name), *args]


# --------------------------------------------------------------------------- HTTP client


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"no host and port in {url!r}")
    return parts.hostname, parts.port


class HttpError(Exception):
    pass


class HttpConnection(asyncio.Protocol):
    """A keep-alive HTTP/1.1 client connection: one request at a time, no pipelining.

    Responses are read by Content-Length (both uvicorn and the references send it); a
    chunked or close-delimited response is an error, not something to guess about.
    """

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._head_end = -1
        self._length = -1
        self._status = 0
        self.host = HOST
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls, base_url: str) -> HttpConnection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, *host_port(base_url))
        protocol.host = urlsplit(base_url).netloc
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HttpError("connection closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    def request_bytes(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode()

    def send(self, raw: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Write one prepared request; the future gives (status, body)."""
        if self._transport is None:
            raise HttpError("not connected")
        if self._waiter is not None and not self._waiter.done():
            raise HttpError("a request is already in flight (no pipelining)")
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        return self._waiter

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.send(self.request_bytes(path))

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if self._head_end < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._head_end = end + 4
            head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            self._status = int(head[0].split(" ", 2)[1])
            self._length = -1
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self._length = int(value)
            if self._length < 0:
                self._fail(HttpError("response without Content-Length"))
                return
        total = self._head_end + self._length
        if len(buffer) < total:
            return
        body = bytes(buffer[self._head_end : total])
        del buffer[:total]
        self._head_end = -1
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, body))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def python_http_load(
    base_url: str, path: str, connections: int, duration: float
) -> tuple[float, int, int]:
    """Closed-loop load: ``connections`` keep-alive clients, each one request at a time.

    Returns (requests per second, completed requests, non-200 responses). A fallback for
    when ``wrk`` is missing; on a small machine it competes with the server for CPU.
    """
    conns = [await HttpConnection.open(base_url) for _ in range(connections)]
    raw = conns[0].request_bytes(path)
    done = 0
    bad = 0
    deadline = 0.0

    async def worker(conn: HttpConnection) -> None:
        nonlocal done, bad
        while time.monotonic() < deadline:
            status, _ = await conn.send(raw)
            done += 1
            if status != 200:
                bad += 1

    try:
        start = time.monotonic()
        deadline = start + duration
        await asyncio.gather(*(worker(conn) for conn in conns))
        elapsed = time.monotonic() - start
    finally:
        for conn in conns:
            conn.close()
    return done / elapsed, done, bad


# --------------------------------------------------------------------------- WebSocket client

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

MessageHandler = Callable[["WsClient", bytes, float], None]


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask); used for pongs and the close frame."""
    if len(payload) > 125:
        raise ValueError("control-sized payloads only")
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class WsClient(asyncio.Protocol):
    """A minimal WebSocket client: Upgrade handshake, then unmasked server frames.

    Each complete text message goes to ``on_message(client, payload, arrival)``, where
    ``arrival`` is ``time.monotonic()`` taken once when the bytes reached this process
    (CLOCK_MONOTONIC is system-wide on Linux, so other processes can compare with it).
    Pings are answered with a masked pong; everything else is ignored.
    """

    __slots__ = (
        "_buffer",
        "_fragments",
        "_handshaken",
        "_key",
        "_request",
        "_transport",
        "handshake",
        "initial",
        "on_message",
        "round",
    )

    def __init__(self, url: str, on_message: MessageHandler) -> None:
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self._key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._fragments = bytearray()
        self._handshaken = False
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[None] = loop.create_future()
        self.initial: asyncio.Future[None] = loop.create_future()
        self.on_message = on_message
        self.round = -1  # the last round this client saw; used by the fan-out worker

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        for future in (self.handshake, self.initial):
            if not future.done():
                future.set_exception(ConnectionError("WebSocket closed"))

    def data_received(self, data: bytes) -> None:
        arrival = time.monotonic()
        buffer = self._buffer
        buffer += data
        if not self._handshaken:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status_line + b" ":
                self.handshake.set_exception(ConnectionError(status_line.decode("latin-1")))
                self.close()
                return
            del buffer[: end + 4]
            self._handshaken = True
            self.handshake.set_result(None)
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length = second & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = int.from_bytes(buffer[2:4], "big")
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = int.from_bytes(buffer[2:10], "big")
                offset = 10
            if second & 0x80:  # a masked server frame is a protocol error; skip its key
                offset += 4
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            self._frame(first, payload, arrival)

    def _frame(self, first: int, payload: bytes, arrival: float) -> None:
        opcode = first & 0x0F
        fin = first & 0x80
        if opcode == OP_TEXT or (opcode == OP_CONTINUATION and self._fragments):
            if not fin:
                self._fragments += payload
                return
            if self._fragments:
                payload = bytes(self._fragments) + payload
                self._fragments.clear()
            if not self.initial.done():
                self.initial.set_result(None)
            self.on_message(self, payload, arrival)
        elif opcode == OP_PING and self._transport is not None:
            self._transport.write(masked_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close()

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            with contextlib.suppress(Exception):
                self._transport.write(masked_frame(OP_CLOSE, b"\x03\xe8"))
            self._transport.close()


async def open_ws_clients(
    url: str, count: int, batch: int, on_message: MessageHandler, timeout: float = 30.0
) -> list[WsClient]:
    """Connect ``count`` clients, ``batch`` at a time, each having got its first message."""
    host, port = host_port(url)
    loop = asyncio.get_running_loop()
    clients: list[WsClient] = []

    async def one() -> WsClient:
        _, client = await loop.create_connection(lambda: WsClient(url, on_message), host, port)
        await client.handshake
        await client.initial
        return client

    try:
        # One client alone first: the server then verifies the credentials once (argon2,
        # slow on purpose) and serves the rest from its cache, instead of verifying them
        # for every client of the first batch at once.
        sizes = [1, *(min(batch, count - start) for start in range(1, count, batch))]
        for size in sizes[: max(count, 0)]:
            async with asyncio.timeout(timeout):
                clients.extend(await asyncio.gather(*(one() for _ in range(size))))
    except BaseException:
        for client in clients:
            client.close()
        raise
    return clients


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100): a value that was actually measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
