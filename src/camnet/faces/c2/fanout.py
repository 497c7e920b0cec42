"""Push state changes to every c2 WebSocket client, serialised once per permission set.

Updates published on the bus within one turn of the event loop are gathered into one
batch (a request that sets three variables arrives as one message). Each client holds at
most one pending message and one send in flight; a batch is *merged* into the pending
message, so a slow client gets fewer, fuller messages holding the newest value of each
variable and never grows memory beyond one value per variable.

Delivery drains the clients with pending messages in chunks (``CHUNK`` per turn of the
loop), so a push to a thousand clients never holds the loop for long: an HTTP setter
arriving meanwhile is served between chunks, and its change merges into the message of
every client still waiting, instead of queueing behind the whole push.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.faces.eager import start_eagerly
from camnet.identity.permissions import VariableGrant
from camnet.state.schema import JsonValue

SendText = Callable[[str], Coroutine[Any, Any, None]]
Values = Mapping[str, JsonValue]
MergeCache = dict[tuple[int, int], tuple[Values, str]]
"""Merged pending messages of one flush, keyed by the identities of the two parts."""

CHUNK: Final = 100


def dumps(values: Values) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


class StateClient:
    """One connected client: its permissions, its pending message, its send in flight."""

    __slots__ = (
        "_inflight", "_pending", "_pending_text", "_send", "_texts", "closed", "grant",
        "queued",
    )  # fmt: skip

    def __init__(self, send: SendText, grant: VariableGrant) -> None:
        self._send = send
        self.grant = grant
        self._inflight: asyncio.Task[None] | None = None
        self._pending: Values = {}
        self._pending_text: str | None = None
        """The pending message's serialisation; None when nothing is pending."""
        self._texts: list[str] = []
        self.closed = False
        self.queued = False

    def enqueue(self, values: Values, text: str, merged: MergeCache) -> None:
        """Merge ``values`` (serialised as ``text``) into the pending message.

        Pending mappings are shared between clients and never mutated; clients holding
        the same pending message share one merge and one serialisation via ``merged``.
        """
        if self._pending_text is None:
            self._pending, self._pending_text = values, text
            return
        key = (id(self._pending), id(values))
        hit = merged.get(key)
        if hit is None:
            combined = {**self._pending, **values}
            hit = merged[key] = (combined, dumps(combined))
        self._pending, self._pending_text = hit

    def offer(self, values: Values) -> None:
        """Send ``values`` as soon as this client's previous send is done."""
        if not self.closed:
            self.enqueue(values, dumps(values), {})
            self.flush()

    def offer_text(self, text: str) -> None:
        """Send a message that is not state (an error), in order with the rest."""
        if not self.closed:
            self._texts.append(text)
            self.flush()

    def flush(self) -> bool:
        """Start sending what is pending unless a send is in flight; True if one started."""
        if self.closed or self._inflight is not None:
            return False
        if self._texts:
            text = self._texts.pop(0)
        elif self._pending_text is not None:
            text = self._pending_text
            self._pending, self._pending_text = {}, None
        else:
            return False
        try:
            task = start_eagerly(self._send(text))
        except Exception:
            self.closed = True
            return False
        if task is not None:
            self._inflight = task
            task.add_done_callback(self._sent)
        return True

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._inflight = None
        if task.cancelled() or task.exception() is not None:
            self.closed = True
            return
        self.flush()

    def close(self) -> None:
        self.closed = True
        if self._inflight is not None:
            self._inflight.cancel()

    async def last_word(self, text: str) -> None:
        """Send ``text`` as this client's last message: after the send in flight (never
        interleaved with it), instead of anything still pending; nothing is sent after."""
        inflight = self._inflight
        self.closed = True
        self._pending, self._pending_text, self._texts = {}, None, []
        if inflight is not None:
            await asyncio.wait({inflight})
        await self._send(text)


Watch = Callable[[Callable[[Values], None]], Callable[[], None]]
"""Hands a device's changes to a callback until the returned call (``RemoteDevice.watch``)."""


class StateFanout:
    """Subscribes to one device's Updates and delivers them to its WebSocket clients.

    With ``watch`` (a device of another node) the changes come from the device's mirror
    instead of the bus, and only while at least one client is connected: the mirror's
    refreshes (after an outage) reach the clients like any Update, and a node follows a
    remote device's every change only while someone here watches it."""

    def __init__(self, bus: Bus, device_name: str, watch: Watch | None = None) -> None:
        self._bus = bus
        self._device_name = device_name
        self._watch = watch
        self._unwatch: Callable[[], None] | None = None
        self._groups: dict[VariableGrant, set[StateClient]] = {}
        self._batch: dict[str, JsonValue] = {}
        self._ready: deque[StateClient] = deque()
        self._flush_scheduled = False
        self._drain_scheduled = False
        self._subscription: Subscription | None = None
        self.messages_sent = 0

    def start(self) -> None:
        if self._watch is not None:
            return  # fed by the watch while clients are connected
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
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        for group in self._groups.values():
            for client in group:
                client.close()
        self._groups.clear()
        self._ready.clear()

    @property
    def client_count(self) -> int:
        return sum(len(group) for group in self._groups.values())

    def join(self, client: StateClient, initial: Values) -> None:
        """Register a client and send it ``initial`` before any later change."""
        if self._watch is not None and self._unwatch is None:
            self._unwatch = self._watch(self.feed)
        self._groups.setdefault(client.grant, set()).add(client)
        client.offer(initial)

    def leave(self, client: StateClient) -> None:
        client.close()
        group = self._groups.get(client.grant)
        if group is not None:
            group.discard(client)
            if not group:
                del self._groups[client.grant]
        if not self._groups and self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    def feed(self, values: Values) -> None:
        """Changes of the device, from its watch: delivered as the bus's Updates are."""
        self._batch.update(values)
        if values and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

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
        merged: MergeCache = {}
        for grant, clients in self._groups.items():
            visible = {k: v for k, v in batch.items() if grant.may_read(k)}
            if not visible:
                continue
            text = dumps(visible)
            for client in clients:
                client.enqueue(visible, text, merged)
                if not client.queued:
                    client.queued = True
                    self._ready.append(client)
        if not self._drain_scheduled:
            self._drain()

    def _drain(self) -> None:
        """Start the sends of up to CHUNK waiting clients, then give the loop a turn."""
        self._drain_scheduled = False
        ready = self._ready
        for _ in range(min(CHUNK, len(ready))):
            client = ready.popleft()
            client.queued = False
            if client.flush():
                self.messages_sent += 1
        if ready:
            self._drain_scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)
