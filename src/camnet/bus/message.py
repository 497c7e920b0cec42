"""The message model of the service network: typed topics and messages with a JSON codec.

Every part of camnet talks through this one shape, taken from the network seed: a *topic*
(who, to whom, what kind, about which name) and a *message* (a value, parameters or a
result), optionally followed by a binary attachment such as a frame. Topics are built by
the functions here and decoded from JSON into typed objects; nothing parses them by
splitting strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from camnet import strict_json

BROADCAST: Final = "BROADCAST"
STATE_PREFIX: Final = "State"


class MessageType(StrEnum):
    """The kinds of message the network knows."""

    GET = "Get"
    SET = "Set"
    RESET = "Reset"
    UPDATE = "Update"
    IDENTIFY = "Identify"
    SELF = "Self"
    STARTUP = "Startup"
    LOG = "Log"
    CALL = "Call"
    CALL_RESULT = "CallResult"


class MessageError(ValueError):
    """A topic or message that does not follow the model; the text says what is wrong."""


def service_name(machine: str, service: str) -> str:
    """The network name of a service: ``MachineName-ServiceName``."""
    return f"{machine}-{service}"


LOCAL_ALIAS: Final = "~LOCAL~"
"""The network vendor's name for "the machine you asked": ``~LOCAL~-Engine``."""


def resolve_local(target: str, machine: str) -> str:
    """``~LOCAL~-Name`` → ``machine-Name``; any other target as it is."""
    prefix = f"{LOCAL_ALIAS}-"
    if target.startswith(prefix) and len(target) > len(prefix):
        return service_name(machine, target.removeprefix(prefix))
    return target


def state_name(variable: str) -> str:
    """The topic ``Name`` of one state variable: ``State.<variable>``."""
    return f"{STATE_PREFIX}.{variable}"


def variable_of(name: str) -> str | None:
    """The state variable a topic ``Name`` speaks of, or None when it is not a state name."""
    head, sep, rest = name.partition(".")
    if head != STATE_PREFIX or not sep or not rest or "." in rest:
        return None
    return rest


def loads(data: str | bytes) -> Any:
    """Strict JSON from outside the process: no ``NaN``/``Infinity`` (which JSON lacks and
    other bus clients could not read back), and nesting too deep for Python's decoder
    is a MessageError like any other malformed input, not a RecursionError; no lone
    surrogate, no number that overflows (``camnet.strict_json``)."""
    try:
        return strict_json.loads(data)
    except ValueError as exc:  # StrictJsonError, UnicodeDecodeError
        raise MessageError(f"not JSON: {exc}") from None


_TOPIC_FIELDS: Final = (
    ("type", "Type"),
    ("target", "Target"),
    ("source", "Source"),
    ("name", "Name"),
    ("respond_to", "RespondTo"),
    ("method", "Method"),
    ("id", "ID"),
    ("executed_on", "ExecutedOn"),
)


@dataclass(frozen=True, slots=True)
class Topic:
    """Routing information of a message; serialised as compact JSON with the seed's keys."""

    type: MessageType
    target: str = BROADCAST
    source: str = ""
    name: str = ""
    respond_to: str = ""
    method: str = ""
    id: str = ""
    executed_on: str = ""

    def to_json(self) -> dict[str, str]:
        """The wire form; empty optional fields are left out."""
        out: dict[str, str] = {}
        for attr, key in _TOPIC_FIELDS:
            value = getattr(self, attr)
            if value:
                out[key] = str(value)
        return out

    @classmethod
    def from_json(cls, data: object) -> Topic:
        """Decode the wire form, raising MessageError with the reason when it is not valid."""
        if not isinstance(data, dict):
            raise MessageError("topic must be a JSON object")
        raw_type = data.get("Type")
        if raw_type is None:
            raise MessageError("topic has no Type")
        try:
            message_type = MessageType(raw_type)
        except ValueError:
            allowed = ", ".join(t.value for t in MessageType)
            raise MessageError(f"unknown Type {raw_type!r}; allowed: {allowed}") from None
        values: dict[str, Any] = {"type": message_type}
        for attr, key in _TOPIC_FIELDS[1:]:
            if key in data:
                value = data[key]
                if not isinstance(value, str):
                    raise MessageError(f"topic field {key} must be a string")
                values[attr] = value
        unknown = set(data) - {key for _, key in _TOPIC_FIELDS}
        if unknown:
            raise MessageError(f"unknown topic fields: {', '.join(sorted(unknown))}")
        return cls(**values)


_UNSET: Final[Any] = object()


@dataclass(frozen=True, slots=True)
class Message:
    """The payload: a ``Value`` (Get/Set/Update), ``Params`` (Call) or ``Result`` (CallResult)."""

    value: Any = _UNSET
    params: Any = _UNSET
    result: Any = _UNSET

    @property
    def has_value(self) -> bool:
        return self.value is not _UNSET

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.value is not _UNSET:
            out["Value"] = self.value
        if self.params is not _UNSET:
            out["Params"] = self.params
        if self.result is not _UNSET:
            out["Result"] = self.result
        return out

    @classmethod
    def from_json(cls, data: object) -> Message:
        if not isinstance(data, dict):
            raise MessageError("message must be a JSON object")
        unknown = set(data) - {"Value", "Params", "Result"}
        if unknown:
            raise MessageError(f"unknown message fields: {', '.join(sorted(unknown))}")
        return cls(
            value=data.get("Value", _UNSET),
            params=data.get("Params", _UNSET),
            result=data.get("Result", _UNSET),
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """A topic, its message and an optional binary attachment: one unit on the bus."""

    topic: Topic
    message: Message = field(default_factory=Message)
    attachment: bytes | None = None

    def encode(self) -> list[bytes]:
        """The multipart wire form ``[Topic, Message]`` or ``[Topic, Message, Attachment]``."""
        frames = [
            json.dumps(self.topic.to_json(), separators=(",", ":")).encode(),
            json.dumps(self.message.to_json(), separators=(",", ":")).encode(),
        ]
        if self.attachment is not None:
            frames.append(self.attachment)
        return frames

    @classmethod
    def decode(cls, frames: list[bytes]) -> Envelope:
        """Decode the multipart wire form; MessageError says what is wrong."""
        if len(frames) not in (2, 3):
            raise MessageError(f"expected 2 or 3 frames, got {len(frames)}")
        try:
            topic_json = loads(frames[0])
            message_json = loads(frames[1])
        except MessageError as exc:
            raise MessageError(f"frame is {exc}") from None
        return cls(
            topic=Topic.from_json(topic_json),
            message=Message.from_json(message_json),
            attachment=frames[2] if len(frames) == 3 else None,
        )


def update(source: str, variable: str, value: Any, target: str = BROADCAST) -> Envelope:
    """The Update a service publishes when one of its state variables changes."""
    return Envelope(
        Topic(MessageType.UPDATE, target=target, source=source, name=state_name(variable)),
        Message(value=value),
    )
