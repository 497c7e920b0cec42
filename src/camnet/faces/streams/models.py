"""Request and response models of the streams dialect, derived from the stereo schema.

Nothing here restates a range or an option: each model field comes from the field's
``Variable`` in ``devices.profiles.stereo``, so the 422s, the OpenAPI document and the
device's own validation agree. Updates have every field optional (``None``: keep).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from camnet.devices.profiles.stereo import (
    CONFIG_FIELDS,
    CONTROL_FIELDS,
    FOCUS_FIELDS,
    SIZE_MAX,
    SIZE_MIN,
    SensorKind,
)
from camnet.faces.identity.errors import HouseError as HouseError
from camnet.state.schema import Kind, Variable

SizeMember = Annotated[int, Field(ge=SIZE_MIN, le=SIZE_MAX)]
Size = tuple[SizeMember, SizeMember]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
JSON_TYPES: Mapping[str, Any] = {
    "still_size": Size,
    "preview_size": Size,
    "video_size": Size,
    "resolution": Size,
    "sensor_crop": tuple[Fraction, Fraction],
}


def field_type(variable: Variable) -> Any:
    """The pydantic type of one schema field (with its range as constraints)."""
    bounds: dict[str, Any] = {"description": variable.description}
    if variable.ranged:
        bounds.update(ge=variable.minimum, le=variable.maximum)
    if variable.kind is Kind.INT:
        return Annotated[int, Field(**bounds)]
    if variable.kind is Kind.FLOAT:
        return Annotated[float, Field(**bounds)]
    if variable.kind is Kind.BOOL:
        return Annotated[bool, Field(**bounds)]
    if variable.kind is Kind.ENUM:
        return Annotated[Literal[variable.options], Field(**bounds)]
    return Annotated[JSON_TYPES[variable.name], Field(**bounds)]


def _model(name: str, variables: Iterable[Variable], optional: bool, **extra: Any) -> Any:
    fields: dict[str, Any] = {}
    for v in variables:
        kind = field_type(v)
        fields[v.name] = (kind | None, None) if optional else (kind, v.default)
    fields.update(extra)
    return create_model(name, **fields)


SensorFocus: type[BaseModel] = _model("SensorFocus", FOCUS_FIELDS, optional=False)
SensorFocusUpdate: type[BaseModel] = _model("SensorFocusUpdate", FOCUS_FIELDS, optional=True)
SensorControl: type[BaseModel] = _model(
    "SensorControl", CONTROL_FIELDS, optional=False, focus=(SensorFocus | None, None)
)
SensorControlUpdate: type[BaseModel] = _model(
    "SensorControlUpdate", CONTROL_FIELDS, optional=True, focus=(SensorFocusUpdate | None, None)
)

_NAMES = {
    SensorKind.COLOUR: "ColorCameraConfig",
    SensorKind.MONO: "MonoCameraConfig",
    SensorKind.DEPTH: "CameraConfig",
}
CONFIG_MODELS: Mapping[SensorKind, type[BaseModel]] = {
    kind: _model(_NAMES[kind], fields, optional=False) for kind, fields in CONFIG_FIELDS.items()
}
CONFIG_UPDATES: Mapping[SensorKind, type[BaseModel]] = {
    kind: _model(f"{_NAMES[kind]}Update", fields, optional=True)
    for kind, fields in CONFIG_FIELDS.items()
}


class StreamInfo(BaseModel):
    name: str
    active: bool


class Detail(BaseModel):
    """This dialect's error body other than a 422: ``{"detail": "..."}``."""

    detail: str
