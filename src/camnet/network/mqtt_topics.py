"""MQTT names and payloads of the bridge (no I/O): broker URL, topics, value text.

Topics are built by functions here and parsed in one place, so the bridge, the docs and
the tests agree on ``{prefix}/{device}/{variable}``, ``…/set``, ``…/error``,
``{prefix}/{device}/image`` and ``{prefix}/{node}/availability``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

from camnet import strict_json
from camnet.state.schema import JsonValue

ONLINE: Final = "online"
OFFLINE: Final = "offline"
_SEGMENT = re.compile(r"^[^/#+\x00]+$")


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """Where the broker is: ``mqtt://[user:pass@]host[:port]`` (TLS is not supported)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url)
        if parts.scheme != "mqtt":
            raise ValueError("expected mqtt://[USER:PASSWORD@]HOST[:PORT]")
        try:
            port = parts.port or 1883
        except ValueError:
            raise ValueError("expected a port from 1 to 65535") from None
        if not parts.hostname:
            raise ValueError("expected a host: mqtt://HOST[:PORT]")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("expected no path, query or fragment: mqtt://HOST[:PORT]")
        return cls(
            parts.hostname,
            port,
            unquote(parts.username) if parts.username is not None else None,
            unquote(parts.password) if parts.password is not None else None,
        )

    def __str__(self) -> str:
        """The URL without its credentials, for logs."""
        return f"mqtt://{self.host}:{self.port}"


def valid_prefix(prefix: str) -> bool:
    """A topic prefix: one or more ``/``-separated segments without wildcards."""
    return all(_SEGMENT.match(segment) for segment in prefix.split("/"))


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    def state(self, device: str, variable: str) -> str:
        return f"{self.prefix}/{device}/{variable}"

    def set(self, device: str, variable: str) -> str:
        return f"{self.state(device, variable)}/set"

    def error(self, device: str, variable: str) -> str:
        return f"{self.state(device, variable)}/error"

    def image(self, device: str) -> str:
        return f"{self.prefix}/{device}/image"

    def availability(self, node: str) -> str:
        return f"{self.prefix}/{node}/availability"

    def set_filter(self) -> str:
        return f"{self.prefix}/+/+/set"

    def parse_set(self, topic: str) -> tuple[str, str] | None:
        """``(device, variable)`` of a ``…/set`` topic under this prefix, else None."""
        head = f"{self.prefix}/"
        if not topic.startswith(head) or not topic.endswith("/set"):
            return None
        parts = topic[len(head) : -len("/set")].split("/")
        if len(parts) != 2 or not all(parts):
            return None
        return parts[0], parts[1]


EMPTY_STRING: Final = '""'
"""The payload of an empty string: JSON ``""``. An empty *retained* payload is MQTT's way
to delete a topic (MQTT 3.1.1 §3.3.1.3), so an empty value must not be sent as one."""


def value_text(value: JsonValue) -> str:
    """A state payload: strings as they are (the empty string as JSON ``""``, which keeps
    the topic), everything else as JSON (``true``, ``1.5``)."""
    if isinstance(value, str):
        return value or EMPTY_STRING
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_payload(payload: bytes) -> JsonValue:
    """A ``/set`` payload: JSON when it parses, else the text itself (``auto``, ``ON``)."""
    text = payload.decode("utf-8")
    try:
        value: JsonValue = strict_json.loads(text)
    except ValueError:
        return text
    return value
