"""The Store: the network's one service that keeps other services' data.

Named bare ``Store`` (the vendor's naming for singletons). It keeps one JSON object per
service, addressed by ``Name`` = ``<Service>`` or ``<Service>.<key>[.<key>…]``:

- ``Get`` → an ``Update`` to the asker with the value, or ``"Value":"null"``;
- ``Set`` (with a ``Value``) → stored durably, *then* an ``Update`` to the asker (the
  acknowledgement) and one to everyone; ``<Service>`` alone replaces the whole object;
- ``Reset`` of ``<Service>`` → the service's data is forgotten;
- ``Startup`` from a service → a ``Set`` named ``State`` targeted at it (its
  ``RespondTo``, else its ``Source``) whose ``Value`` is everything stored for it, ``{}``
  when nothing is — this is how a service gets its persisted state back;
- ``Call`` ``Services`` → the names of the services with data; ``Forget`` (``Service``)
  → drops one.

A request the Store cannot carry out is answered with a ``Log`` (level ``error``) to the
asker, carrying the request's ``ID``; nothing is half-stored.

**One Store answers.** Every node runs a Store over the same data: SQLite when the node
is alone, the JetStream KV bucket shared by the whole network otherwise. Its requests are
taken through the queue group ``camnet-Store``, so the NATS server hands each one to
exactly one node's Store; when that node goes away, the next request goes to another.
Writes from two nodes to the same service's object are serialised by the KV revision.
"""

from __future__ import annotations

import logging
from typing import Final

from camnet.bus.base import Bus
from camnet.bus.message import BROADCAST, Envelope, Message, MessageType, Topic
from camnet.network.service import STORE_SERVICE, Service
from camnet.network.store_backends import StoreBackend
from camnet.network.store_paths import MISSING, PathError, parse_name, value_at, with_value
from camnet.state.schema import JsonValue

log = logging.getLogger(__name__)

STORE_QUEUE: Final = "camnet-Store"
"""The queue group every node's Store joins, so that one of them answers each request
(a Store with another name, say in a test, joins ``camnet-<name>``)."""


class Store(Service):
    """The Store service over one backend."""

    def __init__(self, backend: StoreBackend, name: str = STORE_SERVICE) -> None:
        queue = STORE_QUEUE if name == STORE_SERVICE else f"camnet-{name}"
        super().__init__(name, kind="store", store=None, announce=False, queue=queue)
        self.backend = backend
        self.function(self.services, name="Services")
        self.function(self.forget, name="Forget")

    async def start(self, bus: Bus | None = None) -> None:
        await self.backend.start()
        await super().start(bus)

    async def stop(self) -> None:
        await super().stop()
        await self.backend.stop()

    # --- functions ----------------------------------------------------------------------

    async def services(self) -> list[str]:
        """The names of every service the Store keeps data for."""
        return await self.backend.services()

    async def forget(self, Service: str) -> bool:  # noqa: N803 - the vendor's Params key
        """Drop everything stored for one service; whether there was anything."""
        if not isinstance(Service, str) or not Service:
            raise ValueError("Service must be a service name")
        return await self.backend.forget(Service)

    # --- requests -----------------------------------------------------------------------

    def answer_get(self, envelope: Envelope) -> Envelope | None:
        self._spawn(self._get(envelope))
        return None

    async def _get(self, envelope: Envelope) -> None:
        try:
            path = parse_name(envelope.topic.name)
            state = await self.backend.load(path.service)
        except PathError as exc:
            await self.refuse(envelope, str(exc))
            return
        except Exception as exc:
            log.warning("Store: Get %s failed: %s", envelope.topic.name, exc)
            await self.refuse(envelope, f"the Store could not read: {exc}")
            return
        found = value_at(state, path.keys)
        # a service with no data at all answers like an unknown name
        value: JsonValue = "null" if found is MISSING or found == {} else found
        await self._update(envelope, self._reply_to(envelope), value)

    async def apply_set(self, envelope: Envelope) -> None:
        if not envelope.message.has_value:
            await self.refuse(envelope, "a Set to the Store needs a Value")
            return
        value = envelope.message.value
        try:
            path = parse_name(envelope.topic.name)
            stored = await self.backend.change(
                path.service, lambda state: with_value(state, path.keys, value)
            )
        except PathError as exc:
            await self.refuse(envelope, str(exc))
            return
        except Exception as exc:
            log.warning("Store: Set %s not stored: %s", envelope.topic.name, exc)
            await self.refuse(envelope, f"not stored: {exc}")
            return
        now = value_at(stored, path.keys)
        await self._update(envelope, BROADCAST, now)
        reply_to = self._reply_to(envelope)
        if reply_to:
            await self._update(envelope, reply_to, now)

    async def apply_reset(self, envelope: Envelope) -> None:
        try:
            path = parse_name(envelope.topic.name)
            if path.keys:
                raise PathError("Reset takes a service's whole data: Name is <Service>")
            await self.backend.forget(path.service)
        except PathError as exc:
            await self.refuse(envelope, str(exc))
            return
        except Exception as exc:
            await self.refuse(envelope, f"not forgotten: {exc}")
            return
        await self._update(envelope, BROADCAST, "null")

    async def apply_startup(self, envelope: Envelope) -> None:
        service = envelope.topic.source
        reply_to = self._reply_to(envelope)
        if not service or not reply_to:
            await self.refuse(envelope, "a Startup needs the Source of the service starting")
            return
        try:
            state = await self.backend.load(service)
        except Exception as exc:
            await self.refuse(envelope, f"the Store could not read {service}: {exc}")
            return
        await self._bus.publish(
            Envelope(
                Topic(
                    MessageType.SET,
                    target=reply_to,
                    source=self.name,
                    name="State",
                    id=envelope.topic.id,
                ),
                Message(value=state),
            )
        )

    async def _update(self, envelope: Envelope, target: str, value: JsonValue) -> None:
        await self._bus.publish(
            Envelope(
                Topic(
                    MessageType.UPDATE,
                    target=target,
                    source=self.name,
                    name=envelope.topic.name,
                    id=envelope.topic.id if target != BROADCAST else "",
                ),
                Message(value=value),
            )
        )
