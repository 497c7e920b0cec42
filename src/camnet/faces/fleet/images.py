"""``GET /api/v1/images/{link}``: a signed image link. Open at the gate: the signature is
the credential (a browser or a webhook receiver fetches it without a token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.fleet.common import FleetContext, fleet
from camnet.faces.fleet.errors import FleetError
from camnet.fleet.images import NotReady
from camnet.fleet.links import LinkError


def image_routes(context: FleetContext) -> list[Route]:
    images = context.fleet.images

    async def image(request: Request) -> Response:
        try:
            jpeg = await images.fetch(request.path_params["link"])
        except LinkError as exc:
            raise FleetError(exc.status, exc.message) from None
        except NotReady as wait:
            raise FleetError(
                503,
                f"the image is not ready yet; try again in {wait.retry_after} s",
                headers={"Retry-After": str(wait.retry_after)},
            ) from None
        return Response(
            jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=60"}
        )

    return [Route("/api/v1/images/{link}", fleet(image), methods=["GET"], name="fleet_image")]
