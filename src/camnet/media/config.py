"""What a stream should look like, derived from the c2 state (pure, no I/O).

The c2 state is the one place the operator configures images; this module turns it into
immutable snapshots that the capture thread reads without locks: ``ImageControls`` (the
picture settings shared by both heads), ``HeadView`` (what one head looks at) and
``StreamConfig`` (one stream: size, rate, quality, stamps, head selection, picture in
picture). A new snapshot replaces the old one whole, so a frame never mixes two settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from camnet.state.schema import JsonValue

RESOLUTIONS: Final[Mapping[str, tuple[int, int]]] = {
    "4K": (3840, 2160),
    "FullHD": (1920, 1080),
    "HD": (1280, 720),
}

HEADS: Final = (0, 1)

IMAGE_VARIABLES: Final = frozenset(
    {
        "exposure",
        "expo",
        "gain",
        "brightness",
        "contrast",
        "saturation",
        "sharpness",
        "whiteBalance",
        "redGain",
        "blueGain",
        "noiseSuppression",
    }
)
HEAD_VARIABLES: Final = frozenset(
    name.format(head)
    for head in HEADS
    for name in (
        "cam{}Exists",
        "cam{}SelectedSensor",
        "cfg3{}",
        "cfg4{}",
        "light{}",
        "pan{}",
        "zoom{}",
        "alignmentStream{}",
    )
)
STREAM_VARIABLES: Final = (
    IMAGE_VARIABLES
    | HEAD_VARIABLES
    | frozenset(
        {
            "cameraSwitch",
            "pip",
            "timezone",
            "recordingResolution",
            "recordingFps",
            "recordingPictureQuality",
            "recordingWithTimeStamp",
            "recordingWithDateStamp",
            "backupResolution",
            "backupFps",
            "backupPictureQuality",
            "backupWithTimeStamp",
            "backupWithDateStamp",
        }
    )
)
"""Variables whose change alters a stream's picture: a change rebuilds the snapshots."""


@dataclass(frozen=True, slots=True)
class ImageControls:
    """The c2 picture settings. Manual values act only with their automatic mode off."""

    auto_exposure: bool = True
    exposure_ms: float = 10.0
    gain_db: int = 0
    brightness: int = 0
    contrast: float = 1.0
    saturation: float = 0.0
    sharpness: int = 8
    auto_white_balance: bool = True
    red_gain: int = 0
    blue_gain: int = 0
    noise_suppression: bool = False


@dataclass(frozen=True, slots=True)
class HeadView:
    """What one head looks at: its light, digital pan and zoom, sensor and rotation."""

    head: int
    exists: bool = True
    light: bool = False
    pan_x: float = 50.0
    pan_y: float = 50.0
    zoom: int = 0
    sensor: int = 0
    sensors: int = 2
    """How many optical sensors the head has (from cfg3x/cfg4x); 1 → sensor 1 mirrors."""
    rotate_180: bool = False


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """One stream's whole setting: everything the capture thread needs for one frame."""

    width: int = 1920
    height: int = 1080
    fps: int = 30
    quality: int = 75
    time_stamp: bool = False
    date_stamp: bool = False
    timezone: str = "UTC"
    head: int = 0
    pip: int = 0
    """0: the selected head only; 1-4: the other head in the top-left, top-right,
    bottom-left or bottom-right corner."""
    views: tuple[HeadView, HeadView] = (HeadView(0), HeadView(1))
    controls: ImageControls = ImageControls()

    @property
    def main(self) -> HeadView:
        return self.views[self.head]

    @property
    def inset(self) -> HeadView | None:
        """The head shown in the picture-in-picture corner, if any (whether it exists is
        the source's to say: an absent head shows the no-signal card)."""
        return None if self.pip == 0 else self.views[1 - self.head]


def _bool(state: Mapping[str, JsonValue], name: str) -> bool:
    return bool(state[name])


def image_controls(state: Mapping[str, JsonValue]) -> ImageControls:
    return ImageControls(
        auto_exposure=_bool(state, "exposure"),
        exposure_ms=float(state["expo"]),
        gain_db=int(state["gain"]),
        brightness=int(state["brightness"]),
        contrast=float(state["contrast"]),
        saturation=float(state["saturation"]),
        sharpness=int(state["sharpness"]),
        auto_white_balance=_bool(state, "whiteBalance"),
        red_gain=int(state["redGain"]),
        blue_gain=int(state["blueGain"]),
        noise_suppression=_bool(state, "noiseSuppression"),
    )


def head_view(state: Mapping[str, JsonValue], head: int) -> HeadView:
    pan = state[f"pan{head}"]
    assert isinstance(pan, dict)
    sensors = sum(1 for name in (f"cfg3{head}", f"cfg4{head}") if state[name] != "0")
    return HeadView(
        head=head,
        exists=_bool(state, f"cam{head}Exists"),
        light=_bool(state, f"light{head}"),
        pan_x=float(pan["x"]),
        pan_y=float(pan["y"]),
        zoom=int(state[f"zoom{head}"]),
        sensor=int(state[f"cam{head}SelectedSensor"]),
        sensors=max(1, sensors),
        rotate_180=state[f"alignmentStream{head}"] == "1",
    )


def _stream(state: Mapping[str, JsonValue], prefix: str, stamp_prefix: str) -> StreamConfig:
    width, height = RESOLUTIONS[str(state[f"{prefix}Resolution"])]
    return StreamConfig(
        width=width,
        height=height,
        fps=int(state[f"{prefix}Fps"]),
        quality=int(state[f"{prefix}PictureQuality"]),
        time_stamp=_bool(state, f"{stamp_prefix}WithTimeStamp"),
        date_stamp=_bool(state, f"{stamp_prefix}WithDateStamp"),
        timezone=str(state["timezone"]),
        head=1 if state["cameraSwitch"] else 0,
        pip=int(state["pip"]),
        views=(head_view(state, 0), head_view(state, 1)),
        controls=image_controls(state),
    )


def live_config(state: Mapping[str, JsonValue]) -> StreamConfig:
    """The stream of ``/camera.jpeg``, ``/camera.mjpeg`` and manual recording."""
    return _stream(state, "recording", "recording")


def backup_config(state: Mapping[str, JsonValue]) -> StreamConfig:
    """The Visual Backup's stream: its own size, rate, quality and stamps; same heads."""
    return _stream(state, "backup", "backup")
