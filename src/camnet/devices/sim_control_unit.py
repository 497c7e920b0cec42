"""The simulated C2 control unit: the default device, behaving like the hardware.

Head temperatures drift towards a target that depends on the light and the disk
rotation, measured RPM follows its setpoint while rotation is on, the sealing air hovers
near its setpoint, and the clock variables follow the (injectable) clock. Host facts
(hostname, MAC address, interfaces) are read from the real machine.

What the control unit cannot do yet it says, instead of pretending: with no usable
storage, ``record`` stays ``stop`` and a notification explains why, exactly as the seed
describes a unit without a storage medium.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from camnet import __version__
from camnet.adapters import hostinfo
from camnet.clock import Clock
from camnet.devices import readings
from camnet.devices.device import Staging, WriteRefused
from camnet.state.schema import JsonValue, Variable

if TYPE_CHECKING:
    from camnet.devices.device import Device

StageHandler = Callable[[Variable, JsonValue, Staging], None]
"""Takes over the writes of some variables: sets the staging, notifies, or refuses.

Services that give a variable its real effect (recording, the server's own listeners)
register one with ``SimulatedControlUnit.handle`` instead of growing ``stage``; a handler
runs synchronously under the device lock and must not block. The effect itself follows
the committed ``Update`` on the bus.
"""


@dataclass(frozen=True, slots=True)
class ControlUnitConfig:
    second_head: bool = True
    interval: float = 1.0
    seed: int = 2
    listen_urls: tuple[str, ...] = ()


class SimulatedControlUnit:
    def __init__(self, config: ControlUnitConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._rng = random.Random(config.seed)
        self._heads = (0, 1) if config.second_head else (0,)
        self._handlers: dict[str, StageHandler] = {}

    def handle(self, names: Iterable[str], handler: StageHandler) -> None:
        """Route the writes of these variables to ``handler`` (the last one registered wins)."""
        for name in names:
            self._handlers[name] = handler

    def initial_state(self) -> dict[str, JsonValue]:
        interfaces = hostinfo.net_info()
        urls = list(self._config.listen_urls)
        state: dict[str, JsonValue] = {
            "hostname": hostinfo.hostname(),
            "netInfo": interfaces,
            "macAddr": hostinfo.mac_address(interfaces),
            "hasInternet": hostinfo.has_default_route(),
            "systemDescription": {**hostinfo.system_description(), "device": "camnet-sim C2"},
            "swVersion": f"camnet {__version__}",
            "cam1Exists": self._config.second_head,
            "connectionUrls": {"http": urls, "https": []},
            "httpStatus": {"state": "listening" if urls else "stopped", "urls": urls},
            "httpsStatus": {"state": "stopped", "reason": "HTTPS is not enabled on this node"},
            "rtspStatus": {
                "state": "stopped",
                "clients": 0,
                "reason": "the RTSP server is not enabled on this node",
            },
            "ntpStatus": {
                "synchronized": False,
                "message": "camnet uses the host clock; NTP is the host's job",
            },
            "seconds": int(self._clock.now()),
        }
        if not self._config.second_head:
            state.update({"cfg31": "0", "cfg41": "0", "ver1": "", "lineRateB": ""})
        return state

    # --- writes -------------------------------------------------------------------------

    def stage(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        name = variable.name
        handler = self._handlers.get(name)
        if handler is not None:
            handler(variable, value, staging)
        elif name == "record":
            self._stage_record(value, staging)
        elif name in ("takePicture", "jpeg"):
            if value:
                staging.notify(name, "no recording storage is available; no picture taken")
        elif name == "createTag":
            staging.notify(name, "no backup storage is available; the tag was not created")
        elif name == "backupActive":
            if value and not _available(staging["backupStorage"]):
                staging.notify(name, "no backup storage is available; Visual Backup is off")
                value = False
            staging.set(name, value)
        elif name in ("backupStorage", "recordingStorage"):
            staging.set(name, self._storage_by_uuid(name, str(value), staging))
        elif name == "cameraSwitch" and value and not staging["cam1Exists"]:
            staging.notify(name, "there is no second camera head")
            staging.set(name, False)
        else:
            staging.set(name, value)

    def _stage_record(self, value: JsonValue, staging: Staging) -> None:
        if value != "stop" and not _available(staging["recordingStorage"]):
            staging.notify("record", "no recording storage is available; recording stays stopped")
            staging.set("record", "stop")
            return
        staging.set("record", value)

    def _storage_by_uuid(self, name: str, uuid: str, staging: Staging) -> dict[str, Any]:
        for storage in [*staging["diskStorages"], *staging["netStorages"]]:
            if isinstance(storage, dict) and storage.get("uuid") == uuid:
                return storage
        raise WriteRefused(name, f"no storage with uuid {uuid!r} in diskStorages or netStorages")

    # --- readings -----------------------------------------------------------------------

    async def run(self, device: Device) -> None:
        interval = self._config.interval
        temps = {
            h: readings.parse_leading_number(str(device.state[f"oct{h}"])) for h in self._heads
        }
        fpga = readings.parse_leading_number(str(device.state["fpgaTemp"]))
        last = self._clock.monotonic()
        while True:
            now = self._clock.monotonic()
            elapsed, last = now - last, now
            state = device.state
            values: dict[str, JsonValue] = {}
            for head in self._heads:
                rotating = bool(state[f"dictRotation{head}"])
                target = readings.head_temperature_target(bool(state[f"light{head}"]), rotating)
                temps[head] = readings.drift(temps[head], target, self._rng)
                values[f"oct{head}"] = readings.celsius(temps[head])
                values[f"RPM{head}"] = readings.follow_setpoint(
                    int(state[f"RPM{head}"]), int(state[f"rpm{head}"]), rotating
                )
                setpoint = readings.parse_leading_number(str(state["psiSetpoint"]))
                values[f"psi{head}"] = readings.millibar(setpoint + self._rng.gauss(0, 8))
            fpga = readings.drift(fpga, 52.0, self._rng)
            values["fpgaTemp"] = readings.celsius(fpga)
            values["recordTime"] = readings.advance_record_time(
                float(state["recordTime"]), str(state["record"]), elapsed
            )
            epoch = self._clock.now()
            values["seconds"] = int(epoch)
            values["time"] = readings.time_fields(epoch, str(state["timezone"]))
            await device.report(values)
            await asyncio.sleep(interval)


def _available(storage: JsonValue) -> bool:
    return isinstance(storage, dict) and bool(storage.get("available"))
