"""What a face needs of a device, whether it runs here or on another node.

The c2 and streams faces read a device's schema and state and send it operations; they
never care where it runs. ``Device`` (a device of this node) and ``RemoteDevice`` (a
device of another node, reached over the bus: ``camnet.network.remote``) both have this
surface, so the faces serve either with the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from camnet.devices.device import Operation
from camnet.state.schema import JsonValue, Schema


class DeviceSurface(Protocol):
    @property
    def name(self) -> str:
        """The device's service name, ``MachineName-ServiceName``."""
        ...

    @property
    def schema(self) -> Schema: ...

    @property
    def state(self) -> Mapping[str, JsonValue]:
        """The current values (for a remote device: its mirror, kept by its Updates)."""
        ...

    def snapshot(self, names: Iterable[str]) -> dict[str, JsonValue]: ...

    async def execute(self, operations: Sequence[Operation]) -> dict[str, JsonValue]:
        """Reads and writes as one unit; raises ``WriteRefused`` with nothing applied."""
        ...


class DeviceUnavailable(Exception):
    """The device did not answer: it runs on another node that is offline or unreachable.

    Nothing is known to have been applied; the faces answer 503 in their dialect.
    """

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"{device}: {reason}")
        self.device = device
        self.reason = reason
