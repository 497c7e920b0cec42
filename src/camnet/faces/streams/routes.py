"""The streams dialect's routes, as FastAPI serves them (Robopipe's choices where the
seed is open: activate 201, deactivate 202, unknown camera or stream 404, FastAPI's 422
``{"detail": [{"loc", "msg", "type"}]}``; other errors ``{"detail": "..."}``).

Every change goes through the camera device (``Device.execute``): the face merges the
update into the current values, validates the whole, and writes the fields that were
sent, all in one execution (nothing half-applied). Authorisation: the gate has found
the principal; reading needs ``streams:cameras:read`` and changing
``streams:cameras:write`` in the account the cameras belong to (the default account);
a principal with nothing in that account sees 404, as for any resource of another
account, and one without the action gets the house 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, FastAPI, Path, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from camnet.devices.device import Write, WriteRefused
from camnet.devices.profiles.stereo import (
    CONFIG_FIELDS,
    CONTROL_FIELDS,
    FOCUS_FIELDS,
    MXID_PATTERN,
    STREAM_PATTERN,
    StreamSpec,
    active_variable,
    focus_variable,
    variable_name,
)
from camnet.devices.surface import DeviceUnavailable
from camnet.faces.identity.errors import ApiError
from camnet.faces.streams import models
from camnet.faces.streams.cameras import cameras_router
from camnet.faces.streams.live import serve_fmp4
from camnet.faces.streams.strict import StrictJsonRoute
from camnet.faces.streams.video import video_response
from camnet.identity.gate import principal_of
from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.media.camera_surface import CameraDirectory
from camnet.media.camera_surface import CameraSurface as CameraStreams
from camnet.media.h264 import EncoderPool
from camnet.media.image_formats import StillFormat
from camnet.ops.limits import ViewerLimits
from camnet.state.coerce import CoercionError, from_json
from camnet.state.schema import JsonValue, Kind, Variable

READ: Final = "streams:cameras:read"
WRITE: Final = "streams:cameras:write"

Mxid = Annotated[str, Path(pattern=MXID_PATTERN)]
StreamName = Annotated[str, Path(pattern=STREAM_PATTERN)]


class StreamsError(Exception):
    """An error of this dialect: ``{"detail": message}`` with ``status``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> Response:
        return JSONResponse({"detail": self.detail}, status_code=self.status)


def streams_refuse(status: int, _code: str, message: str, headers: Mapping[str, str]) -> Response:
    """A limit's refusal (413, 429, 503) in this dialect: ``{"detail": message}``."""
    return JSONResponse({"detail": message}, status_code=status, headers=dict(headers))


class Forbidden(StreamsError):
    """Authenticated but not permitted: the house 403 (as every auth failure)."""

    def response(self) -> Response:
        return ApiError(self.status, self.detail).response()


def _camera(
    cameras: CameraDirectory, request: HTTPConnection, mxid: str, action: str
) -> CameraStreams:
    principal = principal_of(request.scope)
    if principal is None or not principal.permissions.has_tenant(DEFAULT_ACCOUNT):
        raise StreamsError(404, f"Camera {mxid} not found")
    camera = cameras.get(mxid)
    if camera is None:
        raise StreamsError(404, f"Camera {mxid} not found")
    if not principal.may(DEFAULT_ACCOUNT, action):
        raise Forbidden(403, f"this needs the permission {action}")
    return camera


def _stream(camera: CameraStreams, name: str, *, active: bool = False) -> StreamSpec:
    spec = camera.spec(name)
    if spec is None:
        raise StreamsError(404, f"Stream {name} not found on camera {camera.mxid}")
    if active and not camera.is_active(name):
        raise StreamsError(404, f"Stream {name} is not active")
    return spec


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> RequestValidationError:
    errors = []
    for error in exc.errors(include_url=False):
        errors.append({**error, "loc": (*prefix, *error["loc"])})
    return RequestValidationError(errors)


def _problem(field: str, message: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": kind}])


def _values(camera: CameraStreams, stream: str, fields: tuple[Any, ...]) -> dict[str, JsonValue]:
    state = camera.device.state
    return {f.name: state[variable_name(stream, f.name)] for f in fields}


def _control_sensor(camera: CameraStreams, spec: StreamSpec) -> str:
    """Whose control a stream shows: its own; a depth stream its left sensor's."""
    return spec.pair[0] if spec.pair is not None else spec.name


def _control(camera: CameraStreams, spec: StreamSpec) -> dict[str, JsonValue]:
    sensor = _control_sensor(camera, spec)
    control = _values(camera, sensor, CONTROL_FIELDS)
    sensor_spec = camera.spec(sensor)
    focus = None
    if sensor_spec is not None and sensor_spec.autofocus:
        state = camera.device.state
        focus = {f.name: state[focus_variable(sensor, f.name)] for f in FOCUS_FIELDS}
    control["focus"] = focus
    return control


def _config(camera: CameraStreams, spec: StreamSpec) -> dict[str, JsonValue]:
    return _values(camera, spec.name, CONFIG_FIELDS[spec.kind])


def _coerce(variable: Variable, value: JsonValue) -> JsonValue:
    """The schema's coercion; a list (a size) by the variable's own check."""
    if variable.kind is Kind.JSON:
        reason = variable.check(value) if variable.check is not None else None
        if reason is not None:
            raise CoercionError(variable.name, reason)
        return value
    return from_json(variable, value)


async def _execute(camera: CameraStreams, writes: Mapping[str, JsonValue]) -> None:
    device = camera.device
    operations = []
    try:
        for name, value in writes.items():
            variable = device.schema[name]
            operations.append(Write(variable, _coerce(variable, value)))
        await device.execute(operations)
    except (CoercionError, WriteRefused) as exc:  # validated above: a device refusal
        raise StreamsError(409, str(exc)) from None
    except DeviceUnavailable as exc:  # a camera of another node that does not answer
        raise StreamsError(503, str(exc)) from None


def _media_here(camera: CameraStreams, stream: str) -> None:
    """Images of a camera of another node are served by that node, not over the bus."""
    if stream not in camera.hubs:
        raise StreamsError(
            501, f"Camera {camera.mxid} is on another node: its images are served there"
        )


def _plain(value: Any) -> JsonValue:
    return list(value) if isinstance(value, tuple) else value


def _documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route can give, for the OpenAPI document (schemathesis checks
    every response against it): the gate's refusals in the house body, this dialect's
    ``{"detail": ...}`` for the rest."""
    house = {401, 403, 429}
    return {
        code: {"model": models.HouseError if code in house else models.Detail}
        for code in sorted(house | {404, *codes})
    }


READS: Final = _documented()
WRITES: Final = _documented(409, 503)
MEDIA: Final = _documented(501, 503)


def streams_router(
    cameras: CameraDirectory,
    viewers: ViewerLimits | None = None,
    encoders: EncoderPool | None = None,
) -> APIRouter:
    router = APIRouter(
        prefix="/cameras/{mxid}/streams", tags=["streams"], route_class=StrictJsonRoute
    )

    # Robopipe Studio asks without the trailing slash (its api-proxy.js strips it): the
    # same answer there, rather than a redirect a cross-origin fetch would have to follow.
    @router.get("", name="streams_list_bare", include_in_schema=False)
    @router.get("/", name="streams_list", response_model=list[models.StreamInfo], responses=READS)
    async def list_all_streams(request: Request, mxid: Mxid) -> Any:
        camera = _camera(cameras, request, mxid, READ)
        return [
            {"name": spec.name, "active": camera.is_active(spec.name)}
            for spec in camera.model.streams
        ]

    @router.post(
        "/{stream_name}/",
        name="streams_activate",
        response_class=Response,
        status_code=201,
        responses=WRITES,
    )
    async def activate_stream(request: Request, mxid: Mxid, stream_name: StreamName) -> Response:
        camera = _camera(cameras, request, mxid, WRITE)
        _stream(camera, stream_name)
        await _execute(camera, {active_variable(stream_name): True})
        return Response(status_code=201)

    @router.delete(
        "/{stream_name}/",
        name="streams_deactivate",
        response_class=Response,
        status_code=202,
        responses=WRITES,
    )
    async def deactivate_stream(request: Request, mxid: Mxid, stream_name: StreamName) -> Response:
        camera = _camera(cameras, request, mxid, WRITE)
        _stream(camera, stream_name)
        await _execute(camera, {active_variable(stream_name): False})
        return Response(status_code=202)

    @router.get("/{stream_name}/config", name="streams_config", responses=READS)
    async def get_stream_config(request: Request, mxid: Mxid, stream_name: StreamName) -> Any:
        camera = _camera(cameras, request, mxid, READ)
        return _config(camera, _stream(camera, stream_name))

    @router.post("/{stream_name}/config", name="streams_config_update", responses=WRITES)
    async def update_stream_config(
        request: Request, mxid: Mxid, stream_name: StreamName, body: dict[str, Any]
    ) -> Any:
        camera = _camera(cameras, request, mxid, WRITE)
        spec = _stream(camera, stream_name)
        try:
            update = models.CONFIG_UPDATES[spec.kind].model_validate(body)
        except ValidationError as exc:
            raise _invalid(exc) from None
        given = {k: _plain(v) for k, v in update.model_dump(exclude_none=True).items()}
        merged = {**_config(camera, spec), **given}
        try:
            models.CONFIG_MODELS[spec.kind].model_validate(merged)
        except ValidationError as exc:
            raise _invalid(exc) from None
        # No rule across fields, as the vendor's server: a size larger than a (new)
        # resolution is kept and served scaled (docs/streams.md).
        await _execute(camera, {variable_name(spec.name, k): v for k, v in given.items()})
        return _config(camera, spec)

    @router.get(
        "/{stream_name}/control",
        name="streams_control",
        response_model=models.SensorControl,
        responses=READS,
    )
    async def get_stream_control(request: Request, mxid: Mxid, stream_name: StreamName) -> Any:
        camera = _camera(cameras, request, mxid, READ)
        return _control(camera, _stream(camera, stream_name))

    @router.post(
        "/{stream_name}/control",
        name="streams_control_update",
        response_model=models.SensorControl,
        responses=WRITES,
    )
    async def update_stream_control(
        request: Request,
        mxid: Mxid,
        stream_name: StreamName,
        control: models.SensorControlUpdate,  # type: ignore[valid-type]
    ) -> Any:
        camera = _camera(cameras, request, mxid, WRITE)
        spec = _stream(camera, stream_name)
        given: dict[str, Any] = control.model_dump(exclude_none=True)  # type: ignore[attr-defined]
        focus_given = given.pop("focus", None)
        current = _control(camera, spec)
        if focus_given is not None and current["focus"] is None:
            raise _problem("focus", f"{stream_name} has a fixed-focus lens: focus must be null")
        merged = {**current, **given}
        if focus_given is not None:
            assert isinstance(current["focus"], dict)
            merged["focus"] = {**current["focus"], **focus_given}
        try:
            models.SensorControl.model_validate(merged)
        except ValidationError as exc:
            raise _invalid(exc) from None
        sensors = spec.pair if spec.pair is not None else (spec.name,)
        writes = {variable_name(s, k): v for s in sensors for k, v in given.items()}
        for k, v in (focus_given or {}).items():
            writes[focus_variable(spec.name, k)] = v
        await _execute(camera, writes)
        return _control(camera, spec)

    @router.get(
        "/{stream_name}/still",
        name="streams_still",
        response_class=Response,
        responses={
            200: {"description": "Image bytes in the selected format", "content": {"image/*": {}}},
            **MEDIA,
        },
    )
    async def capture_still_image(
        request: Request,
        mxid: Mxid,
        stream_name: StreamName,
        format: Annotated[StillFormat | None, Query()] = "jpeg",
    ) -> Response:
        camera = _camera(cameras, request, mxid, READ)
        _stream(camera, stream_name, active=True)
        _media_here(camera, stream_name)
        data, media_type = await camera.still(stream_name, format or "jpeg")
        return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})

    # Not in /openapi.json: an endless MJPEG stream is no finite response that a document
    # (or schemathesis, which reads a response to its end) can describe; docs/streams.md.
    @router.get(
        "/{stream_name}/video",
        name="streams_video",
        response_class=Response,
        responses=MEDIA,
        include_in_schema=False,
    )
    async def stream_video(request: Request, mxid: Mxid, stream_name: StreamName) -> Response:
        camera = _camera(cameras, request, mxid, READ)
        _stream(camera, stream_name, active=True)
        _media_here(camera, stream_name)
        principal = principal_of(request.scope)
        token = (principal.session or principal.user) if principal is not None else None
        return video_response(camera.hubs[stream_name], viewers, f"{mxid}/{stream_name}", token)

    # The same path as a WebSocket: fragmented MP4 (H.264) from the stream's shared
    # encoder, as the vendor's server sends it to Robopipe Studio (docs/streams.md).
    @router.websocket("/{stream_name}/video", name="streams_video_socket")
    async def stream_video_socket(
        websocket: WebSocket, mxid: Mxid, stream_name: StreamName
    ) -> None:
        try:
            camera = _camera(cameras, websocket, mxid, READ)
            _stream(camera, stream_name, active=True)
            _media_here(camera, stream_name)
            if encoders is None:
                raise StreamsError(501, "this server has no H.264 encoder for live video")
        except StreamsError as refused:
            await websocket.send_denial_response(refused.response())
            return
        principal = principal_of(websocket.scope)
        token = (principal.session or principal.user) if principal is not None else None
        encoder = encoders.encoder(camera.hubs[stream_name])
        await serve_fmp4(websocket, encoder, viewers, f"{mxid}/{stream_name}", token)

    return router


def include_streams(
    app: FastAPI,
    cameras: CameraDirectory,
    viewers: ViewerLimits | None = None,
    encoders: EncoderPool | None = None,
) -> None:
    """Mount the routes and this dialect's error body on ``app``; ``viewers`` caps the
    viewers of ``…/video`` (the node's caps, shared with ``/camera.mjpeg``), MJPEG and
    fMP4 alike; ``encoders`` gives each stream its one H.264 encoder."""
    app.include_router(cameras_router(cameras))
    app.include_router(streams_router(cameras, viewers, encoders))

    async def streams_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StreamsError)
        return exc.response()

    app.add_exception_handler(StreamsError, streams_error)
