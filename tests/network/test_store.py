"""The Store: per-service data over Get/Set/Call, Startup, durability, one answer per request.

SQLite (a node alone) and NATS JetStream KV (the machine's nats-server, a bucket of its
own per test) behind the same Store service; a user's ``Service`` persists through it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from camnet.bus.base import Bus
from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.bus.nats import NatsBus
from camnet.network import Service, StoreUnavailable
from camnet.network.store import Store
from camnet.network.store_backends import (
    DatabaseStoreBackend,
    KvStoreBackend,
    kv_key,
    service_of_key,
)
from camnet.network.store_paths import PathError, parse_name, with_value
from camnet.store.database import Database
from tests.identity.helpers import basic
from tests.inprocess import inprocess_server
from tests.outside import require_nats
from tests.support import ADMIN_PASSWORD

PUBLISH = "/gateway/24.1.0/publish"


# --- names and paths (pure) ---------------------------------------------------------------


def test_store_names_are_a_service_and_a_dot_path() -> None:
    assert parse_name("m-Svc.a.b").keys == ("a", "b")
    assert parse_name("Store").keys == ()
    for bad in ("", ".a", "m-Svc..b", "m-Svc."):
        with pytest.raises(PathError):
            parse_name(bad)
    assert with_value({"a": {"x": 1}}, ("a", "y"), 2) == {"a": {"x": 1, "y": 2}}
    with pytest.raises(PathError, match="not an object"):
        with_value({"a": 3}, ("a", "y"), 2)
    with pytest.raises(PathError, match="JSON object"):
        with_value({}, (), [1])


def test_kv_keys_hold_any_service_name() -> None:
    for name in ("cell3-Greeter", "Store", "a b.c~d/é"):
        key = kv_key(name)
        assert all(c.isalnum() or c in "-_=" for c in key)
        assert service_of_key(key) == name


# --- through a node's Gateway (SQLite) ------------------------------------------------------


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with (
        inprocess_server(tmp_path_factory.mktemp("store"), machine_name="stnode") as server,
        server.client(headers=basic("admin", ADMIN_PASSWORD)) as client,
    ):
        yield client


def _publish(gateway: httpx.Client, topic: dict[str, Any], message: Any = None) -> Any:
    body: dict[str, Any] = {"Topic": topic}
    if message is not None:
        body["Message"] = message
    response = gateway.post(PUBLISH, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_set_get_and_call_on_the_store_through_the_gateway(gateway: httpx.Client) -> None:
    service = f"m-Svc{secrets.token_hex(3)}"
    replies = _publish(
        gateway,
        {"Type": "Set", "Target": "Store", "Name": f"{service}.camera.zoom"},
        {"Value": 3},
    )
    assert [r["Topic"]["Type"] for r in replies] == ["Update"]
    assert replies[0]["Message"] == {"Value": 3}
    assert replies[0]["Topic"]["Source"] == "Store"
    got = _publish(gateway, {"Type": "Get", "Target": "Store", "Name": f"{service}.camera"})
    assert got[0]["Message"] == {"Value": {"zoom": 3}}
    whole = _publish(gateway, {"Type": "Get", "Target": "Store", "Name": service})
    assert whole[0]["Message"] == {"Value": {"camera": {"zoom": 3}}}
    missing = _publish(gateway, {"Type": "Get", "Target": "Store", "Name": f"{service}.nosuch"})
    assert missing[0]["Message"] == {"Value": "null"}
    listed = _publish(gateway, {"Type": "Call", "Target": "Store", "Method": "Services"})
    assert listed[0]["Topic"]["Type"] == "CallResult"
    assert service in listed[0]["Message"]["Result"]
    forgot = _publish(
        gateway,
        {"Type": "Call", "Target": "Store", "Method": "Forget"},
        {"Params": {"Service": service}},
    )
    assert forgot[0]["Message"] == {"Result": True}
    gone = _publish(gateway, {"Type": "Get", "Target": "Store", "Name": service})
    assert gone[0]["Message"] == {"Value": "null"}


@pytest.mark.parametrize(
    ("topic", "message", "reason"),
    [
        ({"Type": "Set", "Name": "m-Svc.a"}, {}, "needs a Value"),
        ({"Type": "Set", "Name": ""}, {"Value": 1}, "empty"),
        ({"Type": "Set", "Name": "m-Svc..a"}, {"Value": 1}, "empty segment"),
        ({"Type": "Set", "Name": "m-Bad"}, {"Value": [1, 2]}, "JSON object"),
        ({"Type": "Get", "Name": ""}, {}, "empty"),
        ({"Type": "Call", "Method": "Explode"}, {}, "no function 'Explode'"),
        ({"Type": "Call", "Method": "Forget"}, {"Params": {"Svc": "x"}}, "Forget:"),
    ],
)
def test_bad_messages_to_the_store_are_answered_with_a_log(
    gateway: httpx.Client, topic: dict[str, Any], message: dict[str, Any], reason: str
) -> None:
    replies = _publish(gateway, {**topic, "Target": "Store"}, message)
    assert len(replies) == 1
    assert replies[0]["Topic"]["Type"] == "Log"
    assert replies[0]["Topic"]["Source"] == "Store"
    assert replies[0]["Message"]["Value"]["level"] == "error"
    assert reason in replies[0]["Message"]["Value"]["message"]
    # and the Store still answers
    listed = _publish(gateway, {"Type": "Call", "Target": "Store", "Method": "Services"})
    assert listed[0]["Topic"]["Type"] == "CallResult"


def test_a_set_through_a_path_that_is_not_an_object_changes_nothing(gateway: httpx.Client) -> None:
    service = f"m-Svc{secrets.token_hex(3)}"
    _publish(gateway, {"Type": "Set", "Target": "Store", "Name": f"{service}.a"}, {"Value": 1})
    refused = _publish(
        gateway, {"Type": "Set", "Target": "Store", "Name": f"{service}.a.b"}, {"Value": 2}
    )
    assert refused[0]["Topic"]["Type"] == "Log"
    got = _publish(gateway, {"Type": "Get", "Target": "Store", "Name": service})
    assert got[0]["Message"] == {"Value": {"a": 1}}


# --- a user's Service persisting through the Store ----------------------------------------


def counter(store: str, machine: str = "m") -> Service:
    service = Service("Counter", machine=machine, store=store, announce=False)
    service.data("count", 0, persisted=True)
    service.data("label", "x", persisted=True)
    service.data("scratch", 0)  # not persisted

    @service.function
    async def bump(by: int = 1) -> int:
        return int(await service.set("count", service["count"] + by))

    return service


async def _call(bus: Bus, target: str, method: str, **params: Any) -> Envelope:
    return await bus.request(
        Envelope(Topic(MessageType.CALL, target=target, method=method), Message(params=params))
    )


async def _set(bus: Bus, target: str, name: str, value: Any) -> Envelope:
    return await bus.request(
        Envelope(Topic(MessageType.SET, target=target, name=name), Message(value=value))
    )


def test_service_data_survives_a_restart_with_the_sqlite_store(tmp_path: Path) -> None:
    async def life(expect: dict[str, Any], then: dict[str, Any]) -> None:
        database = Database.open_sqlite(tmp_path / "camnet.db")
        bus = LocalBus("m")
        store = Store(DatabaseStoreBackend(database))
        service = counter("Store")
        await store.start(bus)
        await service.start(bus)
        try:
            assert {k: service[k] for k in expect} == expect
            for name, value in then.items():
                reply = await _set(bus, service.name, f"State.{name}", value)
                assert reply.topic.type is MessageType.UPDATE
            result = await _call(bus, service.name, "bump", by=2)
            assert result.topic.type is MessageType.CALL_RESULT
            assert result.message.result == service["count"]
        finally:
            await service.stop()
            await store.stop()
            database.close()

    asyncio.run(life({"count": 0, "label": "x", "scratch": 0}, {"label": "y", "scratch": 5}))
    asyncio.run(life({"count": 2, "label": "y", "scratch": 0}, {}))


def test_without_a_store_the_service_does_not_start_and_a_persisted_set_is_refused(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        bus = LocalBus("m")
        service = counter("Store")
        service.request_timeout = 0.2
        with pytest.raises(StoreUnavailable, match="did not answer Startup"):
            await service.start(bus)
        await service.stop()
        database = Database.open_sqlite(tmp_path / "camnet.db")
        store = Store(DatabaseStoreBackend(database))
        await store.start(bus)
        await service.start(bus)
        await store.stop()  # the Store goes away while the service runs
        reply = await _set(bus, service.name, "State.count", 9)
        assert reply.topic.type is MessageType.LOG
        assert "did not acknowledge" in reply.message.value["message"]
        assert service["count"] == 0
        reply = await _set(bus, service.name, "State.scratch", 9)  # not persisted: applies
        assert reply.message.value == 9
        await service.stop()
        database.close()

    asyncio.run(scenario())


# --- JetStream KV (the machine's nats-server) -----------------------------------------------


def test_service_data_survives_restarts_with_the_jetstream_store() -> None:
    url = require_nats()
    suffix = secrets.token_hex(4)
    bucket, store_name = f"camnet-test-{suffix}", f"Store{suffix}"

    async def scenario() -> None:
        store_bus = NatsBus(url, f"s{suffix}")
        await store_bus.start()
        try:
            store = Store(KvStoreBackend(store_bus.jetstream, bucket), name=store_name)
            await store.start(store_bus)
            for expect, label in (("x", "kv"), ("kv", "kv2")):
                bus = NatsBus(url, f"c{suffix}")
                await bus.start()
                service = counter(store_name, machine=f"m{suffix}")
                await service.start(bus)
                assert service["label"] == expect
                reply = await _set(bus, service.name, "State.label", label)
                assert reply.message.value == label
                await service.stop()
                await bus.stop()
            # the Store itself restarts: the data is in JetStream, not in the process
            await store.stop()
            store = Store(KvStoreBackend(store_bus.jetstream, bucket), name=store_name)
            await store.start(store_bus)
            got = await store_bus.request(
                Envelope(Topic(MessageType.GET, target=store_name, name=f"m{suffix}-Counter"))
            )
            assert got.message.value == {"label": "kv2"}  # defaults are not stored
            await store.stop()
        finally:
            await store_bus.jetstream().delete_key_value(bucket)
            await store_bus.stop()

    asyncio.run(scenario())


def test_two_stores_on_one_bucket_answer_each_request_once() -> None:
    url = require_nats()
    suffix = secrets.token_hex(4)
    bucket, store_name = f"camnet-test-{suffix}", f"Store{suffix}"

    async def scenario() -> None:
        buses = [NatsBus(url, f"n{i}{suffix}") for i in range(3)]
        for bus in buses:
            await bus.start()
        stores = [
            Store(KvStoreBackend(bus.jetstream, bucket), name=store_name) for bus in buses[:2]
        ]
        try:
            for store, bus in zip(stores, buses, strict=False):
                await store.start(bus)
            asker = buses[2]
            inbox = f"asker{suffix}"
            replies: list[Envelope] = []
            asker.subscribe(TopicFilter(target=inbox), replies.append)
            for index in range(10):
                await asker.publish(
                    Envelope(
                        Topic(
                            MessageType.SET,
                            target=store_name,
                            name=f"m-S.k{index}",
                            respond_to=inbox,
                            id=str(index),
                        ),
                        Message(value=index),
                    )
                )
            for _ in range(50):
                if len(replies) >= 10:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            assert sorted(int(r.topic.id) for r in replies) == list(range(10))
            got = await asker.request(
                Envelope(Topic(MessageType.GET, target=store_name, name="m-S"))
            )
            assert got.message.value == {f"k{i}": i for i in range(10)}
        finally:
            for store in stores:
                await store.stop()
            await buses[0].jetstream().delete_key_value(bucket)
            for bus in buses:
                await bus.stop()

    asyncio.run(scenario())
