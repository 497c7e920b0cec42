"""``/cameras/`` and ``/cameras/{mxid}/``: the cameras of the streams dialect, in the
shape of the vendor's server (Robopipe API's ``DeviceInfo``), which Robopipe Studio
reads first to find a camera's ``mxid``.

The seed documents only the streams below a camera; the listing is the vendor's. Each
camera is ``{mxid, name, camera_name, platform, protocol, state, status}`` with the
depthai XLink names the vendor uses. camnet's cameras are not XLink devices, so the
values say what camnet knows (docs/streams.md): ``name`` is the camera's service name
on the network, ``camera_name`` its model, ``platform`` ``X_LINK_MYRIAD_X`` (the OAK
family the model imitates), ``protocol`` ``X_LINK_ANY_PROTOCOL`` (no XLink link),
``state`` ``X_LINK_BOOTED`` (it streams) and ``status`` ``X_LINK_SUCCESS``.

Authorisation as for every streams route: ``streams:cameras:read`` in the account the
cameras belong to; a principal with nothing in that account sees an empty list, and
404 for each camera.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from camnet.devices.profiles.stereo import MXID_PATTERN
from camnet.faces.identity.errors import ApiError
from camnet.faces.streams import models
from camnet.identity.gate import principal_of
from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.media.camera_surface import CameraDirectory, CameraSurface

READ: Final = "streams:cameras:read"

Mxid = Annotated[str, Path(pattern=MXID_PATTERN)]


class DeviceInfo(BaseModel):
    """One camera, as the vendor's ``GET /cameras/`` lists it."""

    mxid: str
    name: str
    camera_name: str
    platform: str
    protocol: str
    state: str
    status: str


def device_info(camera: CameraSurface) -> dict[str, str]:
    return {
        "mxid": camera.mxid,
        "name": camera.device.name,
        "camera_name": camera.model.name,
        "platform": "X_LINK_MYRIAD_X",
        "protocol": "X_LINK_ANY_PROTOCOL",
        "state": "X_LINK_BOOTED",
        "status": "X_LINK_SUCCESS",
    }


def _readable(request: Request) -> bool | None:
    """True: may read; False: authenticated without the action (403); None: nothing in
    the cameras' account (sees no camera)."""
    principal = principal_of(request.scope)
    if principal is None or not principal.permissions.has_tenant(DEFAULT_ACCOUNT):
        return None
    return principal.may(DEFAULT_ACCOUNT, READ)


def _forbidden() -> Response:
    return ApiError(403, f"this needs the permission {READ}").response()


RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": models.HouseError},
    403: {"model": models.HouseError},
    404: {"model": models.Detail},
    429: {"model": models.HouseError},
}


def cameras_router(cameras: CameraDirectory) -> APIRouter:
    router = APIRouter(prefix="/cameras", tags=["cameras"])

    # Studio asks for "/cameras" (its api-proxy.js strips the trailing slash): answered
    # there too, not redirected.
    @router.get("", name="cameras_list_bare", include_in_schema=False)
    @router.get("/", name="cameras_list", response_model=list[DeviceInfo], responses=RESPONSES)
    async def list_cameras(request: Request) -> Any:
        readable = _readable(request)
        if readable is None:
            return []
        if not readable:
            return _forbidden()
        found = (cameras.get(mxid) for mxid in cameras.mxids())
        return [device_info(camera) for camera in found if camera is not None]

    @router.get("/{mxid}", name="camera_bare", include_in_schema=False)
    @router.get("/{mxid}/", name="camera", response_model=DeviceInfo, responses=RESPONSES)
    async def get_camera(request: Request, mxid: Mxid) -> Any:
        readable = _readable(request)
        camera = cameras.get(mxid) if readable is not None else None
        if camera is None:
            return JSONResponse({"detail": f"Camera {mxid} not found"}, status_code=404)
        if not readable:
            return _forbidden()
        return device_info(camera)

    return router
