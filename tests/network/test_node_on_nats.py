"""A node on the real nats-server: its device answers over NATS and its faces still work."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.bus.nats import NatsBus
from tests.faces.c2.ws_support import open_api, wait_for_key
from tests.inprocess import inprocess_server
from tests.outside import require_nats
from tests.support import TOKEN


def test_a_node_on_nats_answers_get_and_set_from_another_bus_and_its_websocket_follows(
    tmp_path: Path,
) -> None:
    url = require_nats()
    machine = f"n{secrets.token_hex(4)}"
    device = f"{machine}-C2"
    with inprocess_server(tmp_path / "data", bus=url, machine_name=machine) as server:

        async def scenario() -> None:
            remote = NatsBus(url, f"r{secrets.token_hex(4)}")
            await remote.start()
            updates: list[Envelope] = []
            remote.subscribe(TopicFilter(source=device, name="State.light1"), updates.append)
            ws_url = server.url.replace("http://", "ws://") + "/api"
            websocket = await open_api(ws_url, TOKEN)
            try:
                initial = await wait_for_key(websocket, "light1")
                assert initial["light1"] is False
                got = await remote.request(
                    Envelope(Topic(MessageType.GET, target=device, name="State.light0")), timeout=5
                )
                assert got.topic.source == device
                assert isinstance(got.message.value, bool)
                unknown = await remote.request(
                    Envelope(Topic(MessageType.GET, target=device, name="State.nosuch")), timeout=5
                )
                assert unknown.message.value == "null"
                done = await remote.request(
                    Envelope(
                        Topic(MessageType.SET, target=device, name="State.light1"),
                        Message(value=True),
                    ),
                    timeout=5,
                )
                assert done.message.value is True
                pushed = await wait_for_key(websocket, "light1")
                assert pushed["light1"] is True
                await remote.flush()
                await asyncio.sleep(0.1)
                assert [envelope.message.value for envelope in updates][-1] is True
            finally:
                await websocket.close()
                await remote.stop()

        asyncio.run(scenario())
        with server.client() as client:
            state = client.get("/api", params={"token": TOKEN}).json()
        assert state["light1"] is True
