"""Write your own service: declared data and callable functions on the service network.

A ``Service`` is one participant of the network with a name (``MachineName-ServiceName``,
or bare for a singleton such as ``Store``). It declares *data* — typed values with
defaults, each one a ``camnet.state.schema.Variable``, so the same coercion rules apply as
to every camera setting — and *functions* that anyone may call. Started on a bus (a node's
local bus, NATS, or a node's ZeroMQ hub through ``ZmqBus``), it answers what the vendor
asks of a service:

- ``Get`` of ``State.<name>`` → an ``Update`` targeted at the asker; an unknown name
  answers ``"Value":"null"``;
- ``Set`` of ``State.<name>`` → coerced, persisted (when the data is persisted), applied,
  then an ``Update`` to everyone and one targeted at the asker; a refusal is a ``Log``;
- ``Reset`` → every writable value back to its default;
- ``Call`` with ``Method`` and ``Params`` (keyword arguments) → ``CallResult`` with
  ``Result``, the same ``ID`` and ``ExecutedOn``; a failure is a ``Log`` with that ``ID``;
- ``Identify`` → ``Self``, repeated as a heartbeat (unless a node announces it instead).

Persisted data lives in the network's ``Store``: on start the service sends ``Startup``
and applies the state the Store answers with; every later change of persisted data is
written to the Store, and acknowledged by it, before it is applied and reported.

Devices (the c2 control unit, the stereo cameras) and the Store itself are services on
this same class: they override how a Set is applied, nothing of the plumbing.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import (
    BROADCAST,
    Envelope,
    Message,
    MessageType,
    Topic,
    service_name,
    update,
    variable_of,
)
from camnet.state.coerce import CoercionError, from_json
from camnet.state.schema import Access, JsonValue, Kind, Schema, Variable

log = logging.getLogger(__name__)

STORE_SERVICE: Final = "Store"
"""The network's one Store: a singleton, so its name is bare."""

NULL: Final = "null"
"""What a Get of an unknown name answers, as the vendor documents (a string)."""

F = TypeVar("F", bound=Callable[..., Any])


class WriteRefused(Exception):
    """A write that is well-formed but that the service cannot take in its current state."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


class StoreUnavailable(RuntimeError):
    """The Store did not answer or refused: persisted data cannot be read or written."""


@dataclass(frozen=True, slots=True)
class Function:
    """One callable function of a service."""

    name: str
    call: Callable[..., Any]
    description: str

    def describe(self) -> dict[str, JsonValue]:
        signature = inspect.signature(self.call)
        return {
            "name": self.name,
            "description": self.description,
            "params": [name for name in signature.parameters],
        }


def _kind_of(default: JsonValue) -> Kind:
    if isinstance(default, bool):
        return Kind.BOOL
    if isinstance(default, int):
        return Kind.INT
    if isinstance(default, float):
        return Kind.FLOAT
    if isinstance(default, str):
        return Kind.STRING
    return Kind.JSON


def coerce(variable: Variable, value: JsonValue) -> JsonValue:
    """A written value in the variable's type; free-form JSON data takes any JSON value."""
    if variable.effective_write_kind is Kind.JSON and variable.shape is None:
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise CoercionError(variable.name, "expected a JSON value") from None
        return value
    return from_json(variable, value)


class Service:
    """A service on the network: declared data, callable functions, the message protocol."""

    def __init__(
        self,
        name: str,
        *,
        machine: str | None = None,
        kind: str = "service",
        store: str | None = STORE_SERVICE,
        announce: bool = True,
        heartbeat_interval: float = 2.0,
        request_timeout: float = 5.0,
        queue: str | None = None,
    ) -> None:
        """``name``: the service's name, or with ``machine`` its ServiceName part
        (``Service("Greeter", machine="cell3")`` is ``cell3-Greeter``).

        ``store``: the Store that keeps persisted data (None: nothing is persisted).
        ``announce``: answer Identify with Self and heartbeat; a node announces the
        services it hosts itself, so they pass False. ``queue``: on a bus with queue
        groups, share requests with every other member of that group (one answers).
        """
        if machine is not None:
            name = service_name(machine, name)
        if not name or "." in name:
            raise ValueError(f"a service name is non-empty and has no dots: {name!r}")
        self.name = name
        self.machine = machine if machine is not None else name.partition("-")[0]
        self.kind = kind
        self.schema = Schema(())
        self._state: dict[str, JsonValue] = {}
        self._functions: dict[str, Function] = {}
        self._store = store
        self._announce = announce
        self.heartbeat_interval = heartbeat_interval
        self.request_timeout = request_timeout
        self._queue = queue
        self._bus_or_none: Bus | None = None
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[Any]] = []
        self._subscriptions: list[Subscription] = []
        self._heartbeat: asyncio.Task[None] | None = None

    # --- declaring ----------------------------------------------------------------------

    def data(
        self,
        name: str,
        default: JsonValue,
        *,
        kind: Kind | None = None,
        persisted: bool = False,
        writable: bool = True,
        minimum: float | None = None,
        maximum: float | None = None,
        options: tuple[JsonValue, ...] = (),
        description: str = "",
    ) -> Variable:
        """Declare one data value, addressed on the network as ``State.<name>``.

        The kind follows the default (bool, int, float, str; anything else is free-form
        JSON) unless given. ``persisted`` data is kept by the Store across restarts.
        """
        if not name or "." in name or name in self.schema:
            raise ValueError(f"data names are unique, non-empty and have no dots: {name!r}")
        variable = Variable(
            name=name,
            kind=kind or _kind_of(default),
            access=Access.READ_WRITE if writable else Access.READ,
            description=description,
            default=default,
            minimum=minimum,
            maximum=maximum,
            options=options,
            persisted=persisted,
            max_length=64 * 1024,
        )
        self.schema = Schema([*self.schema, variable])
        self._state[name] = default
        return variable

    def function(self, call: F | None = None, *, name: str | None = None) -> Any:
        """Declare a callable function (a decorator, with or without a ``name``).

        Params of a Call arrive as keyword arguments; the function may be sync or async;
        what it returns (JSON) is the CallResult's ``Result``.
        """

        def declare(fn: F) -> F:
            method = name or fn.__name__
            self._functions[method] = Function(method, fn, inspect.getdoc(fn) or "")
            return fn

        return declare(call) if call is not None else declare

    @property
    def functions(self) -> Mapping[str, Function]:
        return self._functions

    # --- reading and changing its own data ----------------------------------------------

    @property
    def state(self) -> Mapping[str, JsonValue]:
        return self._state

    def snapshot(self, names: Iterable[str]) -> dict[str, JsonValue]:
        return {name: self._state[name] for name in names}

    def __getitem__(self, name: str) -> JsonValue:
        return self._state[name]

    async def set(self, name: str, value: JsonValue) -> JsonValue:
        """Change one of the service's own data values as any Set would: coerced,
        persisted first when persisted, then applied and published. Returns the value."""
        variable = self.schema.get(name)
        if variable is None:
            raise WriteRefused(name, "no data of that name")
        result = await self.write(variable, self.coerce(variable, value))
        return result[name]

    def coerce(self, variable: Variable, value: JsonValue) -> JsonValue:
        """A written value in the variable's type, or CoercionError."""
        return coerce(variable, value)

    # --- life cycle ---------------------------------------------------------------------

    @property
    def _bus(self) -> Bus:
        if self._bus_or_none is None:
            raise RuntimeError(f"service {self.name} is not started")
        return self._bus_or_none

    @_bus.setter
    def _bus(self, bus: Bus) -> None:
        self._bus_or_none = bus

    async def start(self, bus: Bus | None = None) -> None:
        """Join the bus: answer requests, restore persisted data from the Store, announce."""
        if bus is not None:
            self._bus = bus
        target = TopicFilter(target=self.name)
        subscribe_queue = getattr(self._bus, "subscribe_queue", None)
        if self._queue is not None and subscribe_queue is not None:
            self._subscriptions.append(subscribe_queue(target, self._queue, self._on_request))
        else:
            self._subscriptions.append(self._bus.subscribe(target, self._on_request))
        if self._announce:
            self._subscriptions.append(
                self._bus.subscribe(TopicFilter(type=MessageType.IDENTIFY), self._on_identify)
            )
        await self.restore()
        if self._announce:
            await self._bus.publish(self.self_message())
            self._heartbeat = asyncio.create_task(self._beat(), name=f"{self.name}-heartbeat")

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions.clear()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def run(self, bus: Bus) -> None:
        """Start the bus and the service, serve until cancelled, then stop both."""
        await bus.start()
        try:
            await self.start(bus)
            try:
                await asyncio.Event().wait()
            finally:
                await self.stop()
        finally:
            await bus.stop()

    # --- the Store ----------------------------------------------------------------------

    def _persisted(self) -> list[Variable]:
        return [variable for variable in self.schema if variable.persisted]

    async def restore(self) -> None:
        """Send Startup to the Store and apply the persisted state it answers with."""
        if self._store is None or not self._persisted():
            return
        startup = Envelope(Topic(MessageType.STARTUP, target=self._store, source=self.name))
        try:
            reply = await self._bus.request(startup, self.request_timeout)
        except TimeoutError:
            raise StoreUnavailable(
                f"{self.name}: the {self._store} did not answer Startup within "
                f"{self.request_timeout:g} s"
            ) from None
        stored = reply.message.value if reply.message.has_value else None
        if reply.topic.type is not MessageType.SET or not isinstance(stored, dict):
            raise StoreUnavailable(f"{self.name}: the {self._store} answered Startup with {reply}")
        changed: dict[str, JsonValue] = {}
        for variable in self._persisted():
            if variable.name not in stored:
                continue
            try:
                value = coerce(variable, stored[variable.name])
            except CoercionError as exc:
                log.warning("%s: stored value not restored: %s", self.name, exc)
                continue
            if self._state[variable.name] != value:
                changed[variable.name] = value
        self._state.update(changed)
        for name, value in changed.items():
            await self._bus.publish(update(self.name, name, value))

    async def persist(self, values: Mapping[str, JsonValue]) -> None:
        """Write persisted values to the Store; returns once the Store acknowledged them.

        One value is one Set of ``<Service>.<name>``; several are one Set of the whole
        ``<Service>`` object, so that they are stored together or not at all.
        """
        if self._store is None or not values:
            return
        if len(values) == 1:
            ((name, value),) = values.items()
            path, stored = f"{self.name}.{name}", value
        else:
            current = {v.name: self._state[v.name] for v in self._persisted()}
            path, stored = self.name, {**current, **values}
        request = Envelope(
            Topic(MessageType.SET, target=self._store, source=self.name, name=path),
            Message(value=stored),
        )
        try:
            reply = await self._bus.request(request, self.request_timeout)
        except TimeoutError:
            raise StoreUnavailable(
                f"the {self._store} did not acknowledge within {self.request_timeout:g} s"
            ) from None
        if reply.topic.type is not MessageType.UPDATE:
            reason = reply.message.value if reply.message.has_value else reply.topic
            raise StoreUnavailable(f"the {self._store} refused: {reason}")

    # --- the one write path of generic data ---------------------------------------------

    async def write(self, variable: Variable, value: JsonValue) -> dict[str, JsonValue]:
        """Apply one coerced write: persist (acknowledged) → apply → publish an Update.

        Devices override this with their own validate → commit → publish path.
        """
        async with self._lock:
            changed = self._state.get(variable.name) != value
            if changed:
                if variable.persisted:
                    await self.persist({variable.name: value})
                self._state[variable.name] = value
        if changed:
            await self._bus.publish(update(self.name, variable.name, value))
        return {variable.name: value}

    # --- answering the network ----------------------------------------------------------

    def _on_request(self, envelope: Envelope) -> None:
        """Dispatch one message addressed to this service; the work runs as a task."""
        kind = envelope.topic.type
        if kind is MessageType.GET:
            reply = self.answer_get(envelope)
            if reply is not None:
                self._publish_soon(reply)
        elif kind is MessageType.SET:
            self._spawn(self.apply_set(envelope))
        elif kind is MessageType.RESET:
            self._spawn(self.apply_reset(envelope))
        elif kind is MessageType.CALL:
            self._spawn(self.apply_call(envelope))
        elif kind is MessageType.STARTUP:
            self._spawn(self.apply_startup(envelope))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[Any]) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)

    def _publish_soon(self, envelope: Envelope) -> None:
        self._spawn(self._bus.publish(envelope))

    def _reply_to(self, envelope: Envelope) -> str:
        return envelope.topic.respond_to or envelope.topic.source

    def lookup(self, name: str) -> JsonValue:
        """The value a Get of ``name`` answers: a readable ``State.<name>``, else ``"null"``."""
        variable_name = variable_of(name)
        variable = self.schema.get(variable_name) if variable_name else None
        if variable is not None and variable.readable:
            return self._state[variable.name]
        return NULL

    def answer_get(self, envelope: Envelope) -> Envelope | None:
        return Envelope(
            Topic(
                MessageType.UPDATE,
                target=self._reply_to(envelope),
                source=self.name,
                name=envelope.topic.name,
                id=envelope.topic.id,
            ),
            Message(value=self.lookup(envelope.topic.name)),
        )

    async def refuse(self, envelope: Envelope, reason: str) -> None:
        """Answer a request this service will not carry out with an error ``Log``."""
        await self._bus.publish(
            Envelope(
                Topic(
                    MessageType.LOG,
                    target=self._reply_to(envelope) or BROADCAST,
                    source=self.name,
                    name=envelope.topic.name,
                    id=envelope.topic.id,
                ),
                Message(value={"level": "error", "message": reason}),
            )
        )

    async def apply_set(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        variable = self.schema.get(name) if name else None
        reply_to = self._reply_to(envelope)
        try:
            if variable is None or not variable.writable:
                raise WriteRefused(envelope.topic.name, "no writable variable of that name")
            if not envelope.message.has_value:
                raise WriteRefused(variable.name, "a Set needs a Value")
            value = self.coerce(variable, envelope.message.value)
            result = await self.write(variable, value)
        except (CoercionError, WriteRefused, StoreUnavailable) as exc:
            await self.refuse(envelope, str(exc))
            return
        if reply_to and variable.readable:
            ack = update(self.name, variable.name, result[variable.name], target=reply_to)
            await self._bus.publish(replace(ack, topic=replace(ack.topic, id=envelope.topic.id)))

    async def apply_reset(self, envelope: Envelope) -> None:
        """Every writable value back to its default: persisted ones first, then applied."""
        async with self._lock:
            defaults = {
                variable.name: variable.default
                for variable in self.schema
                if variable.writable and self._state[variable.name] != variable.default
            }
            persisted = {
                name: value for name, value in defaults.items() if self.schema[name].persisted
            }
            try:
                await self.persist(persisted)
            except StoreUnavailable as exc:
                await self.refuse(envelope, str(exc))
                return
            self._state.update(defaults)
        for name, value in defaults.items():
            await self._bus.publish(update(self.name, name, value))

    async def apply_startup(self, envelope: Envelope) -> None:
        """A Startup addressed to this service: only the Store takes them."""
        await self.refuse(envelope, f"{self.name} keeps no state for others; send Startup to Store")

    async def apply_call(self, envelope: Envelope) -> None:
        method = envelope.topic.method
        function = self._functions.get(method)
        if function is None:
            known = ", ".join(sorted(self._functions)) or "none"
            reason = f"no function {method!r} on {self.name}; functions: {known}"
            await self.refuse(envelope, reason)
            return
        params = envelope.message.to_json().get("Params", {})
        if not isinstance(params, dict):
            await self.refuse(envelope, "Params must be a JSON object of keyword arguments")
            return
        try:
            inspect.signature(function.call).bind(**params)
        except TypeError as exc:
            await self.refuse(envelope, f"{method}: {exc}")
            return
        try:
            result = function.call(**params)
            if inspect.isawaitable(result):
                result = await result
            json.dumps(result)
        except (WriteRefused, CoercionError, StoreUnavailable, ValueError, TypeError) as exc:
            await self.refuse(envelope, f"{method}: {exc}")
            return
        except Exception as exc:
            log.exception("%s: function %s failed", self.name, method)
            await self.refuse(envelope, f"{method} failed: {type(exc).__name__}: {exc}")
            return
        await self._bus.publish(
            Envelope(
                Topic(
                    MessageType.CALL_RESULT,
                    target=self._reply_to(envelope) or BROADCAST,
                    source=self.name,
                    name=envelope.topic.name,
                    method=method,
                    id=envelope.topic.id,
                    executed_on=self.name,
                ),
                Message(result=result),
            )
        )

    # --- presence -----------------------------------------------------------------------

    def self_message(self, target: str = BROADCAST, id: str = "") -> Envelope:
        """The ``Self`` this service answers Identify with (the shape presence reads)."""
        return Envelope(
            Topic(MessageType.SELF, target=target, source=self.name, name="Self", id=id),
            Message(
                value={
                    "Machine": self.machine,
                    "Kind": self.kind,
                    "Interval": self.heartbeat_interval,
                }
            ),
        )

    def _on_identify(self, envelope: Envelope) -> None:
        if envelope.topic.target not in (BROADCAST, self.name):
            return
        reply_to = envelope.topic.respond_to or envelope.topic.source or BROADCAST
        self._publish_soon(self.self_message(reply_to, envelope.topic.id))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self._bus.publish(self.self_message())
            except Exception as exc:  # the bus may be reconnecting; the next beat retries
                log.warning("%s: heartbeat not sent: %s", self.name, exc)
