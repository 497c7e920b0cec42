"""Every route of the fleet dialect, under ``/api/v1``."""

from __future__ import annotations

from starlette.routing import Route

from camnet.faces.fleet.auth import auth_routes
from camnet.faces.fleet.common import FleetContext
from camnet.faces.fleet.devices import device_routes
from camnet.faces.fleet.images import image_routes
from camnet.faces.fleet.webhooks import webhook_routes


def fleet_routes(context: FleetContext) -> list[Route]:
    return [
        *auth_routes(context),
        *device_routes(context),
        *webhook_routes(context),
        *image_routes(context),
    ]
