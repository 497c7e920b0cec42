"""NATS subjects for the message model, derived from topics by functions.

A subject is ``camnet.<Type>.<Target>.<Source>.<Name segments…>``. Each field becomes one
subject token (the name one per dot segment), escaped so that any character a topic may
hold — dots, spaces, ``*``, ``>`` — survives the trip: a token is the field's bytes with
everything outside ``[A-Za-z0-9_-]`` written as ``~XX`` (hex), and the empty string as
``~``. A subscription filter maps to a subject pattern with NATS wildcards in the places
the filter leaves open, so the server routes only what a subscriber wants; the transport
still applies the filter itself on arrival, which makes the pattern an optimisation and
never a second definition of what matches.
"""

from __future__ import annotations

import re
from typing import Final

from camnet.bus.filters import TopicFilter
from camnet.bus.message import Topic

ROOT: Final = "camnet"
_PLAIN: Final = re.compile(rb"[A-Za-z0-9_-]")
_EMPTY: Final = "~"


def escape_token(value: str) -> str:
    """One subject token holding ``value`` exactly; ``unescape_token`` reverses it."""
    if not value:
        return _EMPTY
    out: list[str] = []
    for byte in value.encode():
        char = bytes((byte,))
        out.append(char.decode() if _PLAIN.fullmatch(char) else f"~{byte:02X}")
    return "".join(out)


def unescape_token(token: str) -> str:
    if token == _EMPTY:
        return ""
    raw = bytearray()
    index = 0
    while index < len(token):
        if token[index] == "~":
            raw.append(int(token[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.append(ord(token[index]))
            index += 1
    return raw.decode()


def _name_tokens(name: str) -> list[str]:
    # The name's dot segments stay separate tokens so name wildcards map to subject ones.
    return [escape_token(segment) for segment in name.split(".")] if name else [_EMPTY]


def root_of(network: str = "") -> str:
    """The first subject token of a network: ``camnet`` for the default network, and
    ``camnet-<network>`` (escaped) for a named one, so that several camnet networks share
    one NATS server without hearing each other (one token: a wildcard of one network's
    subscriber can never reach into another network's subjects)."""
    return ROOT if not network else f"{ROOT}-{escape_token(network)}"


def subject_of(topic: Topic, root: str = ROOT) -> str:
    """The subject an envelope with this topic is published on."""
    head = [root, escape_token(topic.type.value), escape_token(topic.target)]
    head.append(escape_token(topic.source))
    return ".".join([*head, *_name_tokens(topic.name)])


def pattern_of(topic_filter: TopicFilter, root: str = ROOT) -> str:
    """The subject pattern that carries at least every envelope the filter matches."""

    def field_token(value: str | None) -> str:
        return "*" if value is None else escape_token(value)

    head = [
        root,
        "*" if topic_filter.type is None else escape_token(topic_filter.type.value),
        field_token(topic_filter.target),
        field_token(topic_filter.source),
    ]
    if topic_filter.name is None:
        return ".".join([*head, ">"])
    parts = topic_filter.name.split(".")
    tokens = [
        part if part == "*" or (part == ">" and i == len(parts) - 1) else escape_token(part)
        for i, part in enumerate(parts)
    ]
    return ".".join([*head, *tokens])
