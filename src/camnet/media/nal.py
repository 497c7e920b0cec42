"""H.264 NAL units, sans I/O: Annex B byte streams in, units and parameter sets out.

The shared H.264 encoder (``media/h264.py``) hands out each picture as a list of NAL
units; RTSP packetises them (RFC 6184) and the fMP4 live view writes them as an ISO BMFF
sample (``media/fmp4.py``). Both need the SPS/PPS, which this module finds.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

NAL_IDR: Final = 5
NAL_SPS: Final = 7
NAL_PPS: Final = 8
NAL_AUD: Final = 9


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes 00 00 01 / 00 00 00 01)."""
    units: list[bytes] = []
    start = -1
    index = 0
    length = len(data)
    while True:
        found = data.find(b"\x00\x00\x01", index)
        if found < 0:
            break
        if start >= 0:
            end = found
            # A four-byte start code leaves its leading zero at the end of the unit.
            while end > start and data[end - 1] == 0:
                end -= 1
            if end > start:
                units.append(data[start:end])
        start = found + 3
        index = start
    if 0 <= start < length:
        units.append(data[start:])
    return units


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F


@dataclass(frozen=True, slots=True)
class ParameterSets:
    sps: bytes
    pps: bytes

    @property
    def profile_level_id(self) -> str:
        """The three bytes after the SPS header: profile, constraints, level (hex)."""
        return self.sps[1:4].hex()

    @property
    def codec(self) -> str:
        """The RFC 6381 codecs parameter (``avc1.42c01f``) a browser's MSE asks for."""
        return f"avc1.{self.profile_level_id}"

    @property
    def sprop(self) -> str:
        return ",".join(base64.b64encode(unit).decode() for unit in (self.sps, self.pps))


def find_parameter_sets(units: Sequence[bytes]) -> ParameterSets | None:
    sps = next((u for u in units if nal_type(u) == NAL_SPS), None)
    pps = next((u for u in units if nal_type(u) == NAL_PPS), None)
    if sps is None or pps is None:
        return None
    return ParameterSets(sps, pps)
