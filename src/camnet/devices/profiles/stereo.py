"""The state of a multi-sensor (stereo) camera, declared once for every face.

A camera has sensors ``CAM_A``…``CAM_H`` and stereo depth streams ``DEPTH_X_Y``. Each
stream's settings are device variables named ``<stream>_<field>`` (``CAM_A_contrast``),
so a change takes the same path as any device's: validate → stage → commit → publish.
The *fields* are declared here once, as ``Variable`` templates: the streams face builds
its request and response models from them (ranges included; that face answers 422 out
of range, it does not saturate), the docs list them, and ``stereo_schema`` instantiates
them per stream of a camera model.

Three stream-configuration shapes exist, by sensor kind (as the Robopipe server that
implements the streams document has them): *colour* (named sensor resolution, still /
preview / video sizes, sensor crop, fps), *mono* (named resolution, fps) and *generic*
(``resolution`` as ``[w, h]``, sizes, fps), which the depth streams use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from camnet.state.schema import Access, JsonValue, Kind, Schema, Variable

RW: Final = Access.READ_WRITE
R: Final = Access.READ

MXID_PATTERN: Final = r"^[A-Z0-9]+$"
STREAM_PATTERN: Final = r"^(CAM_[A-H]|DEPTH_[A-H]_[A-H])$"
_DEPTH_NAME: Final = re.compile(r"^DEPTH_([A-H])_([A-H])$")


class SensorKind(StrEnum):
    COLOUR = "colour"
    MONO = "mono"
    DEPTH = "depth"
    """A stereo depth stream (configured with the generic shape)."""


COLOUR_RESOLUTIONS: Final[Mapping[str, tuple[int, int]]] = {
    "THE_1080_P": (1920, 1080),
    "THE_1200_P": (1920, 1200),
    "THE_12_MP": (4056, 3040),
    "THE_1352X1012": (1352, 1012),
    "THE_13_MP": (4208, 3120),
    "THE_1440X1080": (1440, 1080),
    "THE_2024X1520": (2024, 1520),
    "THE_4000X3000": (4000, 3000),
    "THE_48_MP": (8000, 6000),
    "THE_4_K": (3840, 2160),
    "THE_5312X6000": (5312, 6000),
    "THE_5_MP": (2592, 1944),
    "THE_720_P": (1280, 720),
    "THE_800_P": (1280, 800),
}
MONO_RESOLUTIONS: Final[Mapping[str, tuple[int, int]]] = {
    "THE_1200_P": (1920, 1200),
    "THE_400_P": (640, 400),
    "THE_480_P": (640, 480),
    "THE_720_P": (1280, 720),
    "THE_800_P": (1280, 800),
}
WHITE_BALANCE_MODES: Final = (
    "AUTO",
    "CLOUDY_DAYLIGHT",
    "DAYLIGHT",
    "FLUORESCENT",
    "INCANDESCENT",
    "OFF",
    "SHADE",
    "TWILIGHT",
    "WARM_FLUORESCENT",
)
FOCUS_MODES: Final = ("OFF", "AUTO", "MACRO", "CONTINUOUS_VIDEO", "CONTINUOUS_PICTURE", "EDOF")
CONTINUOUS_FOCUS: Final = frozenset({"CONTINUOUS_VIDEO", "CONTINUOUS_PICTURE"})

SIZE_MIN: Final = 16
"""Smallest width or height of a still, preview or video size, or a generic resolution."""
SIZE_MAX: Final = 8000
FPS_MIN: Final = 1.0
FPS_MAX: Final = 60.0

# -- control fields --------------------------------------------------------------------


def _int(
    name: str, low: int, high: int, default: int, description: str, unit: str = ""
) -> Variable:
    return Variable(name, Kind.INT, RW, description, default, low, high, unit=unit, persisted=True)


def _bool(name: str, default: bool, description: str) -> Variable:
    return Variable(name, Kind.BOOL, RW, description, default, persisted=True)


CONTROL_FIELDS: Final = (
    _int(
        "exposure_time",
        1,
        33000,
        1,
        "Exposure time in microseconds. Ignored if auto_exposure_enable is set to true. "
        "Value must be between 1 and 33000",
        "µs",
    ),
    _int("sensitivity_iso", 100, 5000, 850, "Value must be between 100 and 5000", "ISO"),
    _bool("auto_exposure_enable", True, "Automatic exposure (time and sensitivity)"),
    _int(
        "auto_exposure_compensation",
        -9,
        9,
        0,
        "Value must be between -9 and 9 (steps of 1/3 EV)",
    ),
    _int(
        "auto_exposure_limit",
        1,
        1_000_000,
        33000,
        "Maximum exposure time limit for auto-exposure in microseconds",
        "µs",
    ),
    _bool("auto_exposure_lock", False, "Hold the exposure automatic exposure has reached"),
    _int("contrast", -10, 10, 0, "Value must be between -10 and 10"),
    _int("brightness", -10, 10, 0, "Value must be between -10 and 10"),
    _int("saturation", -10, 10, 0, "Value must be between -10 and 10"),
    _int("chroma_denoise", 0, 4, 0, "Value must be between 0 and 4"),
    _int("luma_denoise", 0, 4, 0, "Value must be between 0 and 4"),
    _bool("auto_whitebalance_lock", False, "Hold the white balance automatic mode has reached"),
    Variable(
        "auto_whitebalance_mode",
        Kind.ENUM,
        RW,
        "White balance: automatic, a preset light, or OFF for manual_whitebalance",
        "AUTO",
        options=WHITE_BALANCE_MODES,
        persisted=True,
    ),
    _int(
        "manual_whitebalance",
        1000,
        12000,
        6500,
        "Value must be between 1000 and 12000 (colour temperature, used when the mode is OFF)",
        "K",
    ),
)
"""The ``control`` object of every sensor, in the seed's order."""

FOCUS_FIELDS: Final = (
    Variable(
        "auto_focus_mode",
        Kind.ENUM,
        RW,
        "OFF: lens_position holds; AUTO: focus once per auto_focus_trigger; MACRO: near; "
        "CONTINUOUS_*: follow the subject; EDOF: extended depth of field",
        "CONTINUOUS_VIDEO",
        options=FOCUS_MODES,
        persisted=True,
    ),
    _bool("auto_focus_trigger", False, "Start one autofocus run (AUTO mode); a command"),
    Variable(
        "lens_position",
        Kind.FLOAT,
        RW,
        "Lens position: 0.0 focuses at infinity, 1.0 at 0.1 m (the nearest)",
        0.0,
        0.0,
        1.0,
        persisted=True,
    ),
)
"""The ``focus`` object of a sensor with a movable lens (``null`` for fixed focus)."""


def _check_size(value: JsonValue) -> str | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and all(SIZE_MIN <= v <= SIZE_MAX for v in value)
    ):
        return None
    return f"a size is [width, height], integers between {SIZE_MIN} and {SIZE_MAX}"


def _check_crop(value: JsonValue) -> str | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(0.0 <= float(v) <= 1.0 for v in value)
    ):
        return None
    return "sensor_crop is [x, y], fractions between 0 and 1"


def _size(name: str, default: list[int], description: str) -> Variable:
    return Variable(name, Kind.JSON, RW, description, default, persisted=True, check=_check_size)


def _fps(default: float) -> Variable:
    return Variable(
        "fps",
        Kind.FLOAT,
        RW,
        "Frames per second",
        default,
        FPS_MIN,
        FPS_MAX,
        persisted=True,
    )


SIZE_FIELDS: Final = frozenset({"still_size", "preview_size", "video_size"})

COLOUR_CONFIG_FIELDS: Final = (
    Variable(
        "resolution",
        Kind.ENUM,
        RW,
        "The sensor's resolution",
        "THE_1080_P",
        options=tuple(COLOUR_RESOLUTIONS),
        persisted=True,
    ),
    _size("still_size", [1920, 1080], "Size of a still (the whole sensor, scaled)"),
    _size("preview_size", [300, 300], "Size of the preview output"),
    _size(
        "video_size",
        [1280, 720],
        "Size of the video output (a window of the sensor at sensor_crop, scaled)",
    ),
    Variable(
        "sensor_crop",
        Kind.JSON,
        RW,
        "Top-left corner of the video crop on the sensor, fractions [x, y] of the free margin",
        [0.0, 0.0],
        persisted=True,
        check=_check_crop,
    ),
    _fps(30.0),
)
MONO_CONFIG_FIELDS: Final = (
    Variable(
        "resolution",
        Kind.ENUM,
        RW,
        "The sensor's resolution (also the size of its frames)",
        "THE_400_P",
        options=tuple(MONO_RESOLUTIONS),
        persisted=True,
    ),
    _fps(30.0),
)
GENERIC_CONFIG_FIELDS: Final = (
    Variable(
        "resolution",
        Kind.JSON,
        RW,
        "Size [width, height] the stream is computed at",
        [640, 400],
        persisted=True,
        check=_check_size,
    ),
    _size("still_size", [640, 400], "Size of a still"),
    _size("preview_size", [640, 400], "Size of the preview output"),
    _size("video_size", [640, 400], "Size of the video (MJPEG) output"),
    _fps(10.0),
)

CONFIG_FIELDS: Final[Mapping[SensorKind, tuple[Variable, ...]]] = {
    SensorKind.COLOUR: COLOUR_CONFIG_FIELDS,
    SensorKind.MONO: MONO_CONFIG_FIELDS,
    SensorKind.DEPTH: GENERIC_CONFIG_FIELDS,
}


# -- camera models -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    kind: SensorKind
    autofocus: bool = False
    pair: tuple[str, str] | None = None
    """For a depth stream: its left and right sensors."""
    active: bool = True
    """Whether the stream is active on a new camera."""


@dataclass(frozen=True, slots=True)
class CameraModel:
    name: str
    streams: tuple[StreamSpec, ...]

    def stream(self, name: str) -> StreamSpec | None:
        for spec in self.streams:
            if spec.name == name:
                return spec
        return None

    def depth_using(self, sensor: str) -> list[StreamSpec]:
        return [s for s in self.streams if s.pair is not None and sensor in s.pair]


OAK_D_LIKE: Final = CameraModel(
    "camnet-sim OAK-D",
    (
        StreamSpec("CAM_A", SensorKind.COLOUR, autofocus=True),
        StreamSpec("CAM_B", SensorKind.MONO),
        StreamSpec("CAM_C", SensorKind.MONO),
        StreamSpec("DEPTH_B_C", SensorKind.DEPTH, pair=("CAM_B", "CAM_C"), active=False),
    ),
)
"""The simulated camera: a colour sensor with autofocus in the middle, a mono pair."""


def depth_pair(name: str) -> tuple[str, str] | None:
    """``DEPTH_B_C`` → ``("CAM_B", "CAM_C")``."""
    match = _DEPTH_NAME.match(name)
    return None if match is None else (f"CAM_{match[1]}", f"CAM_{match[2]}")


def variable_name(stream: str, field: str) -> str:
    """The device variable of one field of one stream: ``CAM_A_contrast``."""
    return f"{stream}_{field}"


def focus_variable(stream: str, field: str) -> str:
    return f"{stream}_focus_{field}"


def active_variable(stream: str) -> str:
    return f"{stream}_active"


def _instances(prefix: str, fields: Iterable[Variable], **defaults: JsonValue) -> list[Variable]:
    return [
        replace(f, name=f"{prefix}_{f.name}", default=defaults.get(f.name, f.default))
        for f in fields
    ]


def stereo_schema(model: CameraModel = OAK_D_LIKE, *, lens_default: float = 0.0) -> Schema:
    """Every variable of one camera of ``model``; ``lens_default`` is where the lens
    starts (the simulated camera passes the position that focuses on its subject)."""
    variables: list[Variable] = [
        Variable("mxid", Kind.STRING, R, "The camera's id"),
        Variable("model", Kind.STRING, R, "The camera model", model.name),
        Variable("baseline_mm", Kind.FLOAT, R, "Distance between the stereo pair", unit="mm"),
        Variable(
            "focal_length_px", Kind.FLOAT, R, "Focal length of the pair at 640 px width", unit="px"
        ),
    ]
    for spec in model.streams:
        variables.append(
            Variable(
                active_variable(spec.name),
                Kind.BOOL,
                RW,
                f"Whether {spec.name} streams",
                spec.active,
                persisted=True,
            )
        )
        variables.extend(_instances(spec.name, CONFIG_FIELDS[spec.kind]))
        if spec.kind is not SensorKind.DEPTH:
            variables.extend(_instances(spec.name, CONTROL_FIELDS))
        if spec.autofocus:
            variables.extend(
                _instances(f"{spec.name}_focus", FOCUS_FIELDS, lens_position=lens_default)
            )
    return Schema(variables)
