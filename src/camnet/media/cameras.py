"""The node's multi-sensor cameras: one device and one set of stream hubs per mxid.

Each camera is a ``Device`` with the stereo schema (persisted through the settings
store, published on the bus like every device) and a ``CameraStreams``. The node adds
the devices to ``node.devices`` and starts this service after the bus.
"""

from __future__ import annotations

from collections.abc import Sequence

from camnet.bus.base import Bus
from camnet.bus.message import service_name
from camnet.clock import Clock
from camnet.devices.device import Device
from camnet.devices.profiles.stereo import stereo_schema
from camnet.devices.stereo.camera import SimulatedStereoCamera, StereoCameraConfig
from camnet.devices.stereo.scene import StereoGeometry
from camnet.devices.stereo.source import SimulatedStereoSource
from camnet.events import EventJournal
from camnet.media.sensor_streams import CameraStreams
from camnet.store.settings_store import SettingsStore


def camera_service(mxid: str) -> str:
    """The ServiceName of a stereo camera: ``Stereo<mxid>``."""
    return f"Stereo{mxid}"


class StereoCameras:
    def __init__(
        self,
        machine: str,
        mxids: Sequence[str],
        geometry: StereoGeometry,
        bus: Bus,
        settings: SettingsStore,
        journal: EventJournal | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.cameras: dict[str, CameraStreams] = {}
        for mxid in mxids:
            config = StereoCameraConfig(mxid, geometry)
            device = Device(
                service_name(machine, camera_service(mxid)),
                stereo_schema(config.model, lens_default=config.subject_lens),
                bus,
                settings,
                SimulatedStereoCamera(config),
                journal=journal,
                clock=clock,
            )
            self.cameras[mxid] = CameraStreams(
                device, config.model, SimulatedStereoSource(geometry), bus
            )

    @property
    def devices(self) -> list[Device]:
        return [camera.device for camera in self.cameras.values()]

    def get(self, mxid: str) -> CameraStreams | None:
        return self.cameras.get(mxid)

    def mxids(self) -> list[str]:
        return list(self.cameras)

    async def start(self) -> None:
        for camera in self.cameras.values():
            await camera.device.start()
            await camera.start()

    async def stop(self) -> None:
        for camera in self.cameras.values():
            await camera.stop()
            await camera.device.stop()
