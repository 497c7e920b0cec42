"""The webhook transport against a real HTTP/1.1 server on loopback.

The server is a small asyncio one so that each test can make it misbehave: close a
kept-alive connection, redirect, never answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from camnet.fleet.webhooks.request import request_target
from camnet.fleet.webhooks.transport import KeepAlivePool, TransportError

Answer = Callable[[bytes], Awaitable[bytes | None]]
"""Request head → raw response bytes (None: close the connection without answering)."""


@dataclass
class Receiver:
    port: int = 0
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0


def ok(close: bool = False) -> bytes:
    connection = b"connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n" + connection + b"\r\nok"


@asynccontextmanager
async def receiver(answer: Answer) -> AsyncIterator[Receiver]:
    state = Receiver()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                state.heads.append(head)
                response = await answer(head)
                if response is None:
                    break
                writer.write(response)
                await writer.drain()
                if b"connection: close" in response:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()


async def test_connections_are_kept_alive_and_reused() -> None:
    async def answer(_head: bytes) -> bytes:
        return ok()

    async with receiver(answer) as rx:
        pool = KeepAlivePool()
        destination, target = request_target(
            f"http://127.0.0.1:{rx.port}/hook?a=1", ["127.0.0.1"], [("b", "2")]
        )
        for _ in range(5):
            response = await pool.request("POST", destination, target, [("x-k", "v")], b"{}")
            assert response.status == 200
        await pool.aclose()
    assert rx.connections == 1
    assert rx.heads[0].startswith(b"POST /hook?a=1&b=2 HTTP/1.1\r\n")
    assert b"x-k: v" in rx.heads[0]


async def test_a_connection_the_receiver_closed_is_not_reused() -> None:
    async def answer(_head: bytes) -> bytes:
        return ok(close=True)

    async with receiver(answer) as rx:
        pool = KeepAlivePool()
        destination, target = request_target(f"http://127.0.0.1:{rx.port}/", ["127.0.0.1"], [])
        for _ in range(3):
            assert (await pool.request("POST", destination, target, [], b"{}")).status == 200
        await pool.aclose()
    assert rx.connections == 3


async def test_a_pooled_connection_dropped_silently_is_retried_on_a_new_one() -> None:
    """The receiver keeps the connection after the first answer, then drops it without
    a word when the second request arrives: the request is sent again, once, anew."""
    answered = 0

    async def answer(_head: bytes) -> bytes | None:
        nonlocal answered
        answered += 1
        return None if answered == 2 else ok()

    async with receiver(answer) as rx:
        pool = KeepAlivePool()
        destination, target = request_target(f"http://127.0.0.1:{rx.port}/", ["127.0.0.1"], [])
        assert (await pool.request("POST", destination, target, [], b"1")).status == 200
        assert (await pool.request("POST", destination, target, [], b"2")).status == 200
        await pool.aclose()
    assert rx.connections == 2
    assert len(rx.heads) == 3


async def test_redirects_are_answers_not_followed() -> None:
    async def answer(_head: bytes) -> bytes:
        return (
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/elsewhere\r\n"
            b"content-length: 0\r\n\r\n"
        )

    async with receiver(answer) as rx:
        pool = KeepAlivePool()
        destination, target = request_target(f"http://127.0.0.1:{rx.port}/", ["127.0.0.1"], [])
        response = await pool.request("POST", destination, target, [], b"{}")
        await pool.aclose()
    assert response.status == 302
    assert response.headers["location"] == "http://127.0.0.1:1/elsewhere"
    assert len(rx.heads) == 1


async def test_a_receiver_that_never_answers_times_out() -> None:
    async def answer(_head: bytes) -> bytes:
        await asyncio.sleep(30)
        return ok()

    async with receiver(answer) as rx:
        pool = KeepAlivePool(timeout=0.3)
        destination, target = request_target(f"http://127.0.0.1:{rx.port}/", ["127.0.0.1"], [])
        with pytest.raises(TransportError, match=r"no answer within 0\.3 s"):
            await pool.request("POST", destination, target, [], b"{}")
        await pool.aclose()


async def test_the_connection_goes_to_the_vetted_address_not_a_new_lookup() -> None:
    """The URL names a host that does not resolve anywhere; the guard's answer
    (127.0.0.1) is where the request goes, with the URL's host in the Host header."""

    async def answer(_head: bytes) -> bytes:
        return ok()

    async with receiver(answer) as rx:
        pool = KeepAlivePool()
        destination, target = request_target(
            f"http://hooks.invalid:{rx.port}/in", ["127.0.0.1"], []
        )
        assert (await pool.request("POST", destination, target, [], b"{}")).status == 200
        await pool.aclose()
    assert f"host: hooks.invalid:{rx.port}".encode() in rx.heads[0]


async def test_a_refused_connection_is_a_transport_error() -> None:
    async with receiver(lambda _h: asyncio.sleep(0, ok())) as rx:
        port = rx.port
    pool = KeepAlivePool(timeout=2)
    destination, target = request_target(f"http://127.0.0.1:{port}/", ["127.0.0.1"], [])
    with pytest.raises(TransportError):
        await pool.request("POST", destination, target, [], b"{}")
    await pool.aclose()
