"""``/healthz`` (the loop answers) and ``/readyz`` (the node can do its work: database,
bus, storages), both open at the gate so an orchestrator needs no credentials.

``/readyz`` answers 503 with a JSON body that names each failed check, so an operator
reads what is wrong from the probe itself.

Some checks are *informational*: shown in ``checks`` (and listed in ``informational``)
but never in ``failed``. The MQTT bridge is one: a node whose broker is away still
serves every HTTP face, records and delivers webhooks, and the bridge reconnects by
itself and republishes the current state, so taking the node out of a load balancer
for it would only make things worse.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from camnet.ops.metrics import bus_connected

if TYPE_CHECKING:
    from camnet.node import Node

CHECK_TIMEOUT = 5.0


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "alive"})


def _database(node: Node) -> None:
    with node.database.engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def _writable(directory: Path) -> None:
    """Creates and removes a file: ``os.access`` says yes on a read-only mount."""
    descriptor, name = tempfile.mkstemp(prefix=".camnet-ready-", dir=directory)
    os.close(descriptor)
    os.unlink(name)


async def _check(name: str, work: Any, *args: Any) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(asyncio.to_thread(work, *args), CHECK_TIMEOUT)
    except TimeoutError:
        return name, f"no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:  # any failure is the probe's answer
        return name, f"{type(exc).__name__}: {exc}"
    return name, None


def _informational(node: Node) -> dict[str, str | None]:
    """Checks reported but never failing readiness (see the module's docstring)."""
    if node.mqtt is None:
        return {}
    return {"mqtt": node.mqtt.status()}


def _bus_missing(node: Node) -> str:
    url = getattr(node.bus, "url", "")
    return (
        f"not connected to NATS at {url}; this node serves its own devices alone and "
        "connects in the background"
    )


def readiness_route(node: Node) -> Route:
    async def readyz(_request: Request) -> Response:
        checks = [_check("database", _database, node)]
        checks.extend(
            _check(f"storage {directory}", _writable, directory)
            for directory in node.settings.recording_dirs
        )
        results = dict(await asyncio.gather(*checks))
        results["bus"] = None if bus_connected(node) else _bus_missing(node)
        failed = {name: why for name, why in results.items() if why is not None}
        informational = _informational(node)
        results.update(informational)
        body = {
            "status": "not ready" if failed else "ready",
            "checks": {name: why or "ok" for name, why in sorted(results.items())},
            "failed": sorted(failed),
            "informational": sorted(informational),
        }
        return JSONResponse(body, status_code=503 if failed else 200)

    return Route("/readyz", readyz, methods=["GET"], name="readyz")


def health_routes(node: Node) -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET"], name="healthz"), readiness_route(node)]
