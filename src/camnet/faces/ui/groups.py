"""How the dashboard groups a control unit's variables for a camera operator: data, not
code per variable. Each group is a title and name patterns; the first group whose
pattern matches a variable takes it, and anything unmatched lands in "system". The
schema endpoint adds each variable's ``group`` and a readable ``label`` (from the
schema's own description), so the page lays out whatever the schema declares; a new
variable appears under a group by its name alone, or under "system".

``READING_UNITS``: read-only variables in these units are readings (numbers with their
unit and a sparkline), e.g. head temperatures "40.0°C", sealing air "1150mbar", rpm.
"""

from __future__ import annotations

import re
from typing import Any, Final

GROUPS: Final[tuple[tuple[str, str, str], ...]] = (
    ("lights", "Lights", r"light\d"),
    (
        "picture",
        "Picture",
        r"exposure|whiteBalance|noiseSuppression|redGain|blueGain|brightness|expo|gain"
        r"|sharpness|saturation|contrast|pip|alignmentStream\d",
    ),
    (
        "heads",
        "Camera heads",
        r"cam\dExists|cameraSwitch|lineRate[AB]|ver\d|autoRotate\d|dictRotation\d|rpm\d|RPM\d"
        r"|oct\d|psi\d|psiSetpoint|cfg\d\d|cam\dSelectedSensor|zoom\d|pan\d",
    ),
    (
        "recording",
        "Recording",
        r"record|recordTime|takePicture|jpeg|createTag|change\w*Name|recording\w+|backup\w*"
        r"|diskStorages|netStorages|storageBackupCapacity",
    ),
    ("streaming", "Streaming", r"rtsp\w+|mjpgStreamIsOpen"),
    (
        "network",
        "Network",
        r"hasInternet|macAddr|hostname|netInfo|https?(On|Port|Status)|httpsCertificate"
        r"|connectionUrls",
    ),
    ("system", "System", r".*"),
)
READING_UNITS: Final = frozenset({"°C", "mbar", "rpm"})
_COMPILED: Final = tuple((key, re.compile(f"(?:{pattern})$")) for key, _, pattern in GROUPS)


def group_of(name: str) -> str:
    return next(key for key, pattern in _COMPILED if pattern.match(name))


def label_of(description: str) -> str:
    """The description's first clause, capitalised: "first camera head light" →
    "First camera head light"."""
    first = re.split(r"[;:(]", description, maxsplit=1)[0].strip().rstrip(",.")
    if len(first) > 56:
        first = first[:55].rsplit(" ", 1)[0] + "…"
    return first[:1].upper() + first[1:] if first else ""


def annotate(variables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``group``, ``label`` and ``reading`` to each described variable."""
    for entry in variables:
        entry["group"] = group_of(str(entry["name"]))
        entry["label"] = label_of(str(entry.get("description", ""))) or entry["name"]
        entry["reading"] = "w" not in str(entry["access"]) and entry.get("unit") in READING_UNITS
    return variables


def group_titles() -> list[dict[str, str]]:
    return [{"key": key, "title": title} for key, title, _ in GROUPS]
