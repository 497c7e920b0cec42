"""The simulated stereo camera's behaviour: which writes mean what to the hardware.

- Activating a depth stream deactivates its two sensors, and activating a sensor
  deactivates the depth streams that use it (they cannot run together, the streams
  document says); the list of streams always shows all of them.
- Focus: the continuous modes keep the lens on the subject, MACRO moves it near, AUTO
  focuses once when ``auto_focus_trigger`` is written true (a command: it reads back
  false), OFF and AUTO leave ``lens_position`` to the client. The lens position that a
  mode chooses is staged like any write, so clients read where the lens is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from camnet.devices.device import Staging
from camnet.devices.profiles.stereo import (
    CONTINUOUS_FOCUS,
    OAK_D_LIKE,
    CameraModel,
    active_variable,
    focus_variable,
)
from camnet.devices.stereo.scene import StereoGeometry
from camnet.devices.stereo.source import lens_for_distance
from camnet.state.schema import JsonValue, Variable

if TYPE_CHECKING:
    from camnet.devices.device import Device

MACRO_LENS: Final = 0.8
"""Where MACRO puts the lens (focus at 0.125 m)."""


@dataclass(frozen=True, slots=True)
class StereoCameraConfig:
    mxid: str
    geometry: StereoGeometry = field(default_factory=StereoGeometry)
    model: CameraModel = OAK_D_LIKE
    subject_mm: float = 1500.0
    """How far away what the autofocus focuses on is."""

    @property
    def subject_lens(self) -> float:
        return round(lens_for_distance(self.subject_mm), 4)


class SimulatedStereoCamera:
    def __init__(self, config: StereoCameraConfig) -> None:
        self.config = config
        self._suffixes = {active_variable(spec.name): spec.name for spec in config.model.streams}

    def initial_state(self) -> dict[str, JsonValue]:
        return {
            "mxid": self.config.mxid,
            "model": self.config.model.name,
            "baseline_mm": self.config.geometry.baseline_mm,
            "focal_length_px": self.config.geometry.focal_px,
        }

    def stage(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        name = variable.name
        stream = self._suffixes.get(name)
        if stream is not None:
            self._stage_active(stream, bool(value), staging)
            return
        for spec in self.config.model.streams:
            if spec.autofocus and name.startswith(f"{spec.name}_focus_"):
                self._stage_focus(spec.name, name, value, staging)
                return
        staging.set(name, value)

    def _stage_active(self, stream: str, value: bool, staging: Staging) -> None:
        staging.set(active_variable(stream), value)
        if not value:
            return
        model = self.config.model
        spec = model.stream(stream)
        assert spec is not None
        if spec.pair is not None:
            for sensor in spec.pair:
                staging.set(active_variable(sensor), False)
        for depth in model.depth_using(stream):
            staging.set(active_variable(depth.name), False)

    def _stage_focus(self, stream: str, name: str, value: JsonValue, staging: Staging) -> None:
        mode_name = focus_variable(stream, "auto_focus_mode")
        lens_name = focus_variable(stream, "lens_position")
        if name == mode_name:
            staging.set(name, value)
            if value in CONTINUOUS_FOCUS:
                staging.set(lens_name, self.config.subject_lens)
            elif value == "MACRO":
                staging.set(lens_name, MACRO_LENS)
        elif name == focus_variable(stream, "auto_focus_trigger"):
            # A command: it runs one autofocus in AUTO mode and reads back false.
            if value and staging[mode_name] == "AUTO":
                staging.set(lens_name, self.config.subject_lens)
            staging.set(name, False)
        elif name == lens_name:
            if staging[mode_name] in ("OFF", "AUTO"):
                staging.set(name, value)
            else:
                staging.notify(name, f"the lens follows the {staging[mode_name]} focus mode")
        else:
            staging.set(name, value)

    async def run(self, device: Device) -> None:
        """Nothing is measured: the camera's state changes only by writes."""
        await asyncio.Event().wait()
