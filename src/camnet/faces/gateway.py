"""The Gateway: publish onto the bus over HTTP, as the network vendor's Gateway does.

``POST /gateway/{version}/publish`` takes ``{"Topic": {...}, "Message": {...}}``;
``GET`` the same as query parameters (``Type``, ``Target``, ``Name``, ``Method``, ``ID``,
``Value=``, ``Param<Key>=``; values are JSON-decoded when they parse, else taken as
text, so ``Value=true`` is a boolean and ``Value=abc`` a string). As the vendor documents,
the Gateway fills ``Source`` and ``RespondTo`` itself and always sets the ``ID`` of a
Call, then answers with a JSON array of the messages that came back to it: the reply to a
Get, Set or Call (and any ``Log`` the target sent instead), every ``Self`` that answers an
``Identify`` within the collection window, nothing for a plain Update or Log. Attachments
are not supported by the Gateway (the vendor's neither).

Unlike the vendor's Gateway, camnet's requires authentication (the identity policy point
at the gate) unless ``bus_anonymous_role`` lets requests without credentials in
(``identity.anonymous``): reading (Get, Identify) needs ``network:bus:read``, anything
else ``network:bus:write``. A ``Target`` of ``~LOCAL~-Name`` (the vendor's alias of the
machine asked) is ``MachineName-Name``. Errors are a JSON array holding one ``Log``, as
every answer of the Gateway is an array (``gateway_errors``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.bus.base import Bus
from camnet.bus.filters import TopicFilter
from camnet.bus.message import (
    Envelope,
    Message,
    MessageError,
    MessageType,
    Topic,
    loads,
    resolve_local,
)
from camnet.faces.gateway_errors import error_response
from camnet.faces.identity.errors import ApiError
from camnet.identity.gate import principal_of
from camnet.identity.permissions import DEFAULT_ACCOUNT

READING: Final = frozenset({MessageType.GET, MessageType.IDENTIFY})
ANSWERED: Final = frozenset({MessageType.GET, MessageType.SET, MessageType.CALL})
TOPIC_KEYS: Final = ("Type", "Target", "Name", "Method", "ID")


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    service: str
    """The Gateway's own service name, ``MachineName-Gateway``."""
    reply_timeout: float = 2.0
    """How long a Get, Set or Call waits for its answer."""
    collect_window: float = 0.5
    """How long an Identify collects the ``Self`` answers of the network."""
    max_body_bytes: int = 1024 * 1024


def parse_query_value(text: str) -> Any:
    """A query value JSON-decoded when it parses (``true``, ``3``, ``{"a":1}``), else text."""
    try:
        return loads(text)
    except MessageError:
        return text


def envelope_from_query(query: Mapping[str, str]) -> Envelope:
    """The GET form: topic fields, ``Value=`` and ``Param<Key>=`` as the vendor documents."""
    topic = {key: query[key] for key in TOPIC_KEYS if key in query}
    message: dict[str, Any] = {}
    if "Value" in query:
        message["Value"] = parse_query_value(query["Value"])
    params = {
        key.removeprefix("Param"): parse_query_value(value)
        for key, value in query.items()
        if key.startswith("Param") and len(key) > len("Param")
    }
    if params:
        message["Params"] = params
    unknown = (
        set(query)
        - {*TOPIC_KEYS, "Value", "token", "access_token"}
        - {key for key in query if key.startswith("Param")}
    )
    if unknown:
        raise MessageError(f"unknown query parameters: {', '.join(sorted(unknown))}")
    return Envelope(Topic.from_json(topic), Message.from_json(message))


def envelope_from_body(body: object) -> Envelope:
    if not isinstance(body, dict):
        raise MessageError("the body must be a JSON object with Topic and Message")
    unknown = set(body) - {"Topic", "Message"}
    if unknown:
        raise MessageError(f"unknown body fields: {', '.join(sorted(unknown))}")
    if "Topic" not in body:
        raise MessageError("the body has no Topic")
    return Envelope(Topic.from_json(body["Topic"]), Message.from_json(body.get("Message", {})))


class Gateway:
    def __init__(self, bus: Bus, config: GatewayConfig) -> None:
        self._bus = bus
        self._config = config

    async def publish(self, envelope: Envelope) -> list[dict[str, Any]]:
        """Publish as the Gateway and return the messages that answered, in order."""
        inbox = f"{self._config.service}-{secrets.token_hex(6)}"
        machine = self._config.service.rpartition("-")[0]
        topic = replace(
            envelope.topic,
            target=resolve_local(envelope.topic.target, machine),
            source=self._config.service,
            respond_to=inbox,
        )
        if topic.type is MessageType.CALL or (topic.type in ANSWERED and not topic.id):
            topic = replace(topic, id=secrets.token_hex(8))
        replies: list[Envelope] = []
        answered = asyncio.Event()

        def on_reply(reply: Envelope) -> None:
            replies.append(reply)
            if reply.topic.type is not MessageType.SELF:
                answered.set()

        subscription = self._bus.subscribe(TopicFilter(target=inbox), on_reply)
        try:
            await self._bus.publish(Envelope(topic, envelope.message))
            if topic.type in ANSWERED:
                try:
                    await asyncio.wait_for(answered.wait(), self._config.reply_timeout)
                except TimeoutError:
                    replies.append(self._no_answer(topic))
            elif topic.type is MessageType.IDENTIFY:
                await asyncio.sleep(self._config.collect_window)
        finally:
            subscription.unsubscribe()
        return [
            {"Topic": reply.topic.to_json(), "Message": reply.message.to_json()}
            for reply in replies
        ]

    def _no_answer(self, asked: Topic) -> Envelope:
        """The Log the Gateway adds when nothing answered: an unknown or silent Target."""
        return Envelope(
            Topic(
                MessageType.LOG,
                target=asked.respond_to,
                source=self._config.service,
                name=asked.name,
                id=asked.id,
            ),
            Message(
                value={
                    "level": "error",
                    "message": f"no answer from {asked.target!r} within "
                    f"{self._config.reply_timeout:g} s: no such service, or it is not running",
                }
            ),
        )


def gateway_route(bus: Bus, config: GatewayConfig) -> Route:
    gateway = Gateway(bus, config)

    async def publish(request: Request) -> Response:
        try:
            envelope = await _envelope_of(request, config.max_body_bytes)
            _authorise(request, envelope)
            replies = await gateway.publish(envelope)
        except MessageError as exc:
            return error_response(config.service, 400, str(exc))
        except ApiError as error:
            return error_response(config.service, error.status, error.message, error.headers)
        return Response(json.dumps(replies), media_type="application/json")

    return Route(
        "/gateway/{version}/publish", publish, methods=["GET", "POST"], name="gateway_publish"
    )


async def _envelope_of(request: Request, max_body_bytes: int) -> Envelope:
    if request.method in ("GET", "HEAD"):
        return envelope_from_query(dict(request.query_params))
    body = await request.body()
    if len(body) > max_body_bytes:
        raise ApiError(413, f"the body is over {max_body_bytes} bytes")
    try:
        decoded = loads(body)
    except MessageError as exc:
        raise MessageError(f"the body is {exc}") from None
    return envelope_from_body(decoded)


def _authorise(request: Request, envelope: Envelope) -> None:
    principal = principal_of(request.scope)
    if principal is None:  # the gate lets no anonymous request through; be explicit
        raise ApiError(401, "authentication required")
    operation = "read" if envelope.topic.type in READING else "write"
    if operation == "write" and request.method == "HEAD":
        raise ApiError(
            405, "HEAD never publishes a change; use POST", headers={"Allow": "GET, POST"}
        )
    if operation == "write" and request.method == "GET" and principal.browser:
        raise ApiError(
            403,
            "a dashboard session publishes changes only by POST with its X-Camnet-CSRF header",
        )
    if not principal.permissions.allows(DEFAULT_ACCOUNT, f"network:bus:{operation}"):
        raise ApiError(
            403, f"publishing a {envelope.topic.type.value} needs network:bus:{operation}"
        )
