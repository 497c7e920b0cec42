"""The heads' frame sources, as the settings choose them."""

from __future__ import annotations

from camnet.devices.sources.base import FrameSource
from camnet.devices.sources.opencv import OpenCvHead
from camnet.devices.sources.sim import SimulatedHead
from camnet.settings import Settings


def head_sources(settings: Settings) -> list[FrameSource | None]:
    """One source per head (None: the head does not exist)."""
    if settings.camera_source == "opencv":
        specs = (settings.camera0_opencv, settings.camera1_opencv)
        return [
            None if spec is None else OpenCvHead(head, spec, settings.camera_reconnect_max)
            for head, spec in enumerate(specs)
        ]
    heads = (0, 1) if settings.second_head else (0,)
    sources: list[FrameSource | None] = [
        SimulatedHead(head, f"{settings.machine_name} head {head}", settings.sim_time_code)
        for head in heads
    ]
    return sources + [None] * (2 - len(sources))
