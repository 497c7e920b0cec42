"""The wire form of a device's operations, for a device served by another node.

A face on node B turns a request into ``Read``/``Write`` operations exactly as it does for
a device of its own; when the device lives on node A, the operations travel in the
``Params`` of one ``Call`` (``Method: "Execute"``) to ``A-Devices`` and run there as one
unit (``Device.execute``): all applied and committed, or none. This module is the codec,
pure and without I/O:

- ``{"Read": ["light0", "light1"]}`` reads variables;
- ``{"Write": {"Name": "light0", "Value": true}}`` writes one (a relative variable's
  value is the change, as for ``Write``).

Beside ``Device`` and ``Operations`` the ``Params`` carry ``Deadline`` (wall-clock
seconds after which the serving node drops the call unapplied) and ``Key`` (an
idempotency key: a call that arrives twice is applied once); ``network/device_server.py``.

The receiving side coerces every value again with the schema (a node trusts the bus's
shape, never its values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from camnet.devices.device import Operation, Read, Write
from camnet.state.coerce import CoercionError, from_json
from camnet.state.schema import JsonValue, Kind, Schema, Variable

EXECUTE: Final = "Execute"
"""The Call method that runs operations on a device of the node."""


class OperationError(ValueError):
    """Operations that do not decode; the text says what is wrong."""


def encode_operations(
    device: str, operations: Sequence[Operation], *, deadline: float | None = None, key: str = ""
) -> dict[str, Any]:
    """The ``Params`` of an ``Execute`` call.

    ``deadline``: wall-clock time (seconds since the epoch) after which the serving node
    must not start the operations (the caller has answered 503 by then); ``key``: the
    idempotency key, so a request that arrives twice is applied once."""
    encoded: list[dict[str, Any]] = []
    for operation in operations:
        if isinstance(operation, Read):
            encoded.append({"Read": list(operation.names)})
        else:
            encoded.append({"Write": {"Name": operation.variable.name, "Value": operation.value}})
    params: dict[str, Any] = {"Device": device, "Operations": encoded}
    if deadline is not None:
        params["Deadline"] = deadline
    if key:
        params["Key"] = key
    return params


def coerce(variable: Variable, value: JsonValue) -> JsonValue:
    """The schema's coercion of a written value (a shapeless JSON value by its own check)."""
    if variable.kind is Kind.JSON and variable.shape is None:
        reason = variable.check(value) if variable.check is not None else None
        if reason is not None:
            raise CoercionError(variable.name, reason)
        return value
    return from_json(variable, value)


def decode_operations(params: object, schema: Schema) -> list[Operation]:
    """The operations of ``Params``, checked against the device's schema.

    Raises ``OperationError`` for a malformed list or an unknown, unreadable or
    unwritable variable, and ``CoercionError`` for a value the variable does not take.
    """
    if not isinstance(params, dict) or not isinstance(params.get("Operations"), list):
        raise OperationError('Params must be {"Device": …, "Operations": [...]}')
    operations: list[Operation] = []
    for item in params["Operations"]:
        if not isinstance(item, dict) or len(item) != 1:
            raise OperationError('each operation is {"Read": [...]} or {"Write": {...}}')
        if "Read" in item:
            names = item["Read"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise OperationError("Read takes a list of variable names")
            for name in names:
                variable = schema.get(name)
                if variable is None or not variable.readable:
                    raise OperationError(f"{name}: no readable variable of that name")
            operations.append(Read(tuple(names)))
            continue
        write = item.get("Write")
        if not isinstance(write, dict) or set(write) != {"Name", "Value"}:
            raise OperationError('Write takes {"Name": …, "Value": …}')
        name = write["Name"]
        variable = schema.get(name) if isinstance(name, str) else None
        if variable is None or not variable.writable:
            raise OperationError(f"{name}: no writable variable of that name")
        operations.append(Write(variable, coerce(variable, write["Value"])))
    return operations
