"""H.264 over RTP (RFC 6184), sans I/O: NAL units in, RTP packets out.

An access unit (one encoded picture) is a list of NAL units. A NAL unit that fits in one
packet is sent as it is (single NAL unit packet); a larger one is cut into FU-A
fragments. The marker bit is set on the last packet of the access unit. All packets of
one picture carry its 90 kHz timestamp.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from camnet.media.nal import (
    NAL_IDR,
    NAL_PPS,
    NAL_SPS,
    ParameterSets,
    find_parameter_sets,
    nal_type,
    split_annexb,
)

__all__ = [
    "NAL_IDR",
    "NAL_PPS",
    "NAL_SPS",
    "ParameterSets",
    "RtpPacketizer",
    "find_parameter_sets",
    "nal_type",
    "payloads",
    "split_annexb",
]

CLOCK_RATE: Final = 90_000
PAYLOAD_TYPE: Final = 96
MAX_PAYLOAD: Final = 1400
"""Bytes of RTP payload per packet: fits a 1500-byte Ethernet MTU with IP/UDP/RTP."""

NAL_FU_A: Final = 28


def payloads(units: Sequence[bytes], max_payload: int = MAX_PAYLOAD) -> Iterator[bytes]:
    """RTP payloads for one access unit: single NAL unit packets or FU-A fragments."""
    for unit in units:
        if len(unit) <= max_payload:
            yield unit
            continue
        header = unit[0]
        indicator = (header & 0xE0) | NAL_FU_A
        kind = header & 0x1F
        body = memoryview(unit)[1:]
        step = max_payload - 2
        for offset in range(0, len(body), step):
            first = offset == 0
            last = offset + step >= len(body)
            fu_header = (0x80 if first else 0) | (0x40 if last else 0) | kind
            yield bytes((indicator, fu_header)) + body[offset : offset + step]


@dataclass(slots=True)
class RtpPacketizer:
    """One outgoing RTP stream: sequence numbers and SSRC, per client session."""

    ssrc: int
    sequence: int = 0
    packets: int = 0
    octets: int = 0

    def packetize(self, units: Sequence[bytes], timestamp: int) -> list[bytes]:
        chunks = list(payloads(units))
        packets = []
        for index, chunk in enumerate(chunks):
            marker = 0x80 if index == len(chunks) - 1 else 0
            header = struct.pack(
                "!BBHII",
                0x80,
                marker | PAYLOAD_TYPE,
                self.sequence,
                timestamp & 0xFFFFFFFF,
                self.ssrc,
            )
            self.sequence = (self.sequence + 1) & 0xFFFF
            self.packets += 1
            self.octets += len(chunk)
            packets.append(header + chunk)
        return packets

    def sender_report(self, ntp_seconds: float, timestamp: int) -> bytes:
        """An RTCP sender report (RFC 3550 §6.4.1) tying RTP time to wall-clock time."""
        ntp = int((ntp_seconds + 2_208_988_800) * (1 << 32))
        return struct.pack(
            "!BBHIIIIII",
            0x80,
            200,
            6,
            self.ssrc,
            (ntp >> 32) & 0xFFFFFFFF,
            ntp & 0xFFFFFFFF,
            timestamp & 0xFFFFFFFF,
            self.packets & 0xFFFFFFFF,
            self.octets & 0xFFFFFFFF,
        )
