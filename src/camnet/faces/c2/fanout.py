"""Push state changes to every c2 WebSocket client, serialised once per permission set.

Updates published on the bus within one turn of the event loop are gathered into one
message per client (a request that sets three variables arrives as one message). Each
client keeps at most one send in flight; changes that arrive meanwhile are merged into
one pending message holding the newest value of each variable, so a slow client gets
fewer, fuller messages and never grows memory beyond one value per variable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.faces.eager import start_eagerly
from camnet.identity.permissions import VariableGrant
from camnet.state.schema import JsonValue

log = logging.getLogger(__name__)

SendText = Callable[[str], Coroutine[Any, Any, None]]


def dumps(values: Mapping[str, JsonValue]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


class StateClient:
    """One connected client: its permissions and its single in-flight send."""

    __slots__ = ("_inflight", "_pending", "_send", "_texts", "closed", "grant")

    def __init__(self, send: SendText, grant: VariableGrant) -> None:
        self._send = send
        self.grant = grant
        self._inflight: asyncio.Task[None] | None = None
        self._pending: dict[str, JsonValue] = {}
        self._texts: list[str] = []
        self.closed = False

    def offer(self, values: Mapping[str, JsonValue], text: str | None = None) -> None:
        """Send ``values`` now if idle (``text`` is their serialisation), else merge them."""
        if self.closed:
            return
        if self._inflight is not None:
            self._pending.update(values)
            return
        self._start(text if text is not None else dumps(values))

    def offer_text(self, text: str) -> None:
        """Send a message that is not state (an error), in order with the rest."""
        if self.closed:
            return
        if self._inflight is not None:
            self._texts.append(text)
            return
        self._start(text)

    def _start(self, text: str) -> None:
        try:
            task = start_eagerly(self._send(text))
        except Exception:
            self.closed = True
            return
        if task is not None:
            self._inflight = task
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._inflight = None
        if task.cancelled() or task.exception() is not None:
            self.closed = True
            return
        if self._texts:
            self._start(self._texts.pop(0))
        elif self._pending:
            values, self._pending = self._pending, {}
            self._start(dumps(values))

    def close(self) -> None:
        self.closed = True
        if self._inflight is not None:
            self._inflight.cancel()


class StateFanout:
    """Subscribes to one device's Updates and delivers them to its WebSocket clients."""

    def __init__(self, bus: Bus, device_name: str) -> None:
        self._bus = bus
        self._device_name = device_name
        self._groups: dict[VariableGrant, set[StateClient]] = {}
        self._batch: dict[str, JsonValue] = {}
        self._flush_scheduled = False
        self._subscription: Subscription | None = None
        self.messages_sent = 0

    def start(self) -> None:
        self._subscription = self._bus.subscribe(
            TopicFilter(
                type=MessageType.UPDATE,
                source=self._device_name,
                target=BROADCAST,
                name=state_name("*"),
            ),
            self._on_update,
        )

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for group in self._groups.values():
            for client in group:
                client.close()
        self._groups.clear()

    @property
    def client_count(self) -> int:
        return sum(len(group) for group in self._groups.values())

    def join(self, client: StateClient, initial: Mapping[str, JsonValue]) -> None:
        """Register a client and send it ``initial`` before any later change."""
        self._groups.setdefault(client.grant, set()).add(client)
        client.offer(initial)

    def leave(self, client: StateClient) -> None:
        client.close()
        group = self._groups.get(client.grant)
        if group is not None:
            group.discard(client)
            if not group:
                del self._groups[client.grant]

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name is None:
            return
        self._batch[name] = envelope.message.value
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._batch = self._batch, {}
        for grant, clients in list(self._groups.items()):
            visible = {k: v for k, v in batch.items() if grant.may_read(k)}
            if not visible:
                continue
            text = dumps(visible)
            for client in tuple(clients):
                client.offer(visible, text)
                self.messages_sent += 1
