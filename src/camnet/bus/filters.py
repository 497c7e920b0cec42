"""Subscription filters: which envelopes a subscriber wants, with NATS-like wildcards.

A filter constrains some topic fields. ``None`` means any value. For ``name`` the pattern
is a dot path in which ``*`` matches exactly one segment and a trailing ``>`` matches one
or more remaining segments, the same rules a subject-based transport applies, so that a
filter means the same on every bus.
"""

from __future__ import annotations

from dataclasses import dataclass

from camnet.bus.message import MessageType, Topic


def name_matches(pattern: str, name: str) -> bool:
    """Whether a dot path matches a pattern with ``*`` (one segment) and ``>`` (the rest)."""
    pattern_parts = pattern.split(".")
    name_parts = name.split(".")
    for index, part in enumerate(pattern_parts):
        if part == ">" and index == len(pattern_parts) - 1:
            return len(name_parts) > index
        if index >= len(name_parts):
            return False
        if part != "*" and part != name_parts[index]:
            return False
    return len(name_parts) == len(pattern_parts)


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """A conjunction of constraints on topic fields; unset fields match anything."""

    type: MessageType | None = None
    target: str | None = None
    source: str | None = None
    name: str | None = None

    def matches(self, topic: Topic) -> bool:
        if self.type is not None and topic.type is not self.type:
            return False
        if self.target is not None and topic.target != self.target:
            return False
        if self.source is not None and topic.source != self.source:
            return False
        return self.name is None or name_matches(self.name, topic.name)
