"""A user's MQTT client for the bridge tests, and a TCP relay that can drop the bridge."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiomqtt

from tests.outside import require_server

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 1883


def require_mosquitto() -> None:
    require_server("Mosquitto", BROKER_HOST, BROKER_PORT)


def unique_root() -> str:
    """A topic root no other run uses, so parallel runs never see each other."""
    return f"camnet-test-{secrets.token_hex(4)}"


@dataclass
class Watcher:
    """Everything published under some filters, as a user subscribed to them sees it."""

    client: aiomqtt.Client
    seen: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))

    async def pump(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            self.seen[message.topic.value].append(payload)

    def last(self, topic: str) -> bytes | None:
        values = self.seen.get(topic)
        return values[-1] if values else None

    async def wait(self, check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def wait_for(self, topic: str, payload: bytes, timeout: float = 15.0) -> None:
        await self.wait(lambda: self.last(topic) == payload, f"{topic} = {payload!r}", timeout)


@contextlib.asynccontextmanager
async def watching(*filters: str) -> AsyncIterator[Watcher]:
    async with aiomqtt.Client(BROKER_HOST, BROKER_PORT) as client:
        for topic_filter in filters:
            await client.subscribe(topic_filter, qos=1)
        watcher = Watcher(client)
        task = asyncio.create_task(watcher.pump())
        try:
            yield watcher
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def clear_retained(root: str) -> None:
    """Remove every retained message under ``root`` (the broker outlives the test)."""
    async with watching(f"{root}/#") as watcher:
        await asyncio.sleep(0.5)
        for topic in list(watcher.seen):
            await watcher.client.publish(topic, b"", qos=1, retain=True)


class Relay:
    """A TCP relay to the broker that can cut every connection, as a broker restart does,
    and stay down (every new connection closed at once) until it is brought back up."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._down = False
        self.refused = 0
        """Connections closed at once while down: the client really tried again."""
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            self.refused += 1
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(BROKER_HOST, BROKER_PORT)
        self._writers += [writer, up_writer]

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def down(self) -> None:
        """The broker is gone: connections cut, new ones closed until ``up``."""
        self._down = True
        self.cut()

    def up(self) -> None:
        self._down = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
