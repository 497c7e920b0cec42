"""How a device's schema travels to another node: its profile, in its ``Self`` value.

A schema holds code (range checks, the validators of structured values), so it does not
travel as data. Every node runs camnet, which declares each kind of device once; what
travels is which declaration and its parameters, and the other node builds the same
schema from them:

- the control unit: ``{"Profile": "c2"}`` (the c2 variable table, fixed by the c2 seed);
- a stereo camera: ``{"Profile": "stereo", "Mxid": …, "Model": …, "Streams": [{"Name",
  "Kind", "Autofocus", "Pair", "Active"}…]}``, the camera model in full, so a camera
  with other sensors than the simulated one travels too.

A profile a node does not know (a newer camnet) is ignored: that device is not served
remotely by this node, and the rest of the network is unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.profiles.stereo import CameraModel, SensorKind, StreamSpec, stereo_schema
from camnet.state.schema import Schema

C2: Final = "c2"
STEREO: Final = "stereo"


def c2_profile() -> dict[str, Any]:
    return {"Profile": C2}


def stereo_profile(mxid: str, model: CameraModel) -> dict[str, Any]:
    return {
        "Profile": STEREO,
        "Mxid": mxid,
        "Model": model.name,
        "Streams": [
            {
                "Name": spec.name,
                "Kind": spec.kind.value,
                "Autofocus": spec.autofocus,
                "Pair": list(spec.pair) if spec.pair is not None else None,
                "Active": spec.active,
            }
            for spec in model.streams
        ],
    }


@dataclass(frozen=True, slots=True)
class Profile:
    """A device's declaration, rebuilt from its ``Self`` details."""

    kind: str
    schema: Schema
    mxid: str = ""
    model: CameraModel | None = None


def _model(details: Mapping[str, Any]) -> CameraModel:
    specs: list[StreamSpec] = []
    for item in details["Streams"]:
        pair = item.get("Pair")
        specs.append(
            StreamSpec(
                str(item["Name"]),
                SensorKind(item["Kind"]),
                autofocus=bool(item.get("Autofocus", False)),
                pair=(str(pair[0]), str(pair[1])) if pair else None,
                active=bool(item.get("Active", True)),
            )
        )
    return CameraModel(str(details["Model"]), tuple(specs))


def profile_of(details: Mapping[str, Any]) -> Profile | None:
    """The profile a ``Self`` describes, or None when it names none this node knows."""
    kind = details.get("Profile")
    try:
        if kind == C2:
            return Profile(C2, c2_schema())
        if kind == STEREO:
            model = _model(details)
            return Profile(STEREO, stereo_schema(model), str(details["Mxid"]), model)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return None
