"""Fragmented MP4 (ISO BMFF) for H.264, sans I/O: an init segment and one fragment per
picture, as a browser's Media Source Extensions and the streams dialect's WebSocket
clients (Robopipe Studio) play them.

A small box writer rather than PyAV's ``mp4`` muxer, because a live view needs what the
muxer does not give: each picture leaves as its own fragment the moment it is encoded
(``movflags=frag_keyframe`` holds a whole group of pictures, two seconds here; and
``frag_every_frame`` holds each picture until the next one arrives to learn its
duration), the init segment follows from the SPS/PPS alone (so it is rebuilt exactly when
the encoder's picture size changes), and the bytes of a fragment are built once and sent
as they are to every viewer. The layout (ISO/IEC 14496-12 and -15):

- init segment: ``ftyp``, ``moov`` (``mvhd``, one video ``trak`` whose ``stsd`` holds an
  ``avc1`` entry with the ``avcC`` record, empty sample tables) with ``mvex``/``trex``;
- fragment: ``moof`` (``mfhd`` sequence number, ``traf`` with ``tfhd``
  default-base-is-moof, ``tfdt`` decode time, ``trun`` of one sample: duration, size,
  sync flags, data offset) and ``mdat`` holding the sample: the picture's NAL units,
  each behind a four-byte length, parameter sets and delimiters left out (they are in
  ``avcC``).

Times are in the encoder's 90 kHz clock (the RTP clock), so a fragment's decode time is
the picture's RTP timestamp.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Final

from camnet.media.nal import NAL_AUD, NAL_PPS, NAL_SPS, ParameterSets, nal_type

TIMESCALE: Final = 90_000
TRACK_ID: Final = 1
_OUT_OF_BAND: Final = frozenset({NAL_SPS, NAL_PPS, NAL_AUD})
_MATRIX: Final = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_SYNC_SAMPLE: Final = 0x02000000
"""sample_depends_on = 2: depends on no other picture (a keyframe)."""
_OTHER_SAMPLE: Final = 0x01010000
"""sample_depends_on = 1 and sample_is_non_sync_sample."""


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def avc_configuration(sets: ParameterSets) -> bytes:
    """The ``avcC`` record: profile, compatibility and level from the SPS; four-byte
    NAL unit lengths; one SPS and one PPS."""
    sps, pps = sets.sps, sets.pps
    return box(
        b"avcC",
        bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1)),
        struct.pack(">H", len(sps)),
        sps,
        bytes((1,)),
        struct.pack(">H", len(pps)),
        pps,
    )


def _sample_entry(sets: ParameterSets, width: int, height: int) -> bytes:
    return box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),  # pre_defined, reserved
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressorname
        struct.pack(">Hh", 0x18, -1),  # depth, pre_defined
        avc_configuration(sets),
    )


def init_segment(sets: ParameterSets, width: int, height: int) -> bytes:
    """``ftyp`` + ``moov`` for one H.264 track of ``width``×``height``."""
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso6avc1mp41")
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0),  # created, modified, timescale, duration
        struct.pack(">IH", 0x10000, 0x100),  # rate 1.0, volume 1.0
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", TRACK_ID + 1),  # next_track_ID
    )
    tkhd = full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIII", 0, 0, TRACK_ID, 0),
        struct.pack(">I", 0),  # duration
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),  # layer, alternate group, volume, reserved
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(
        b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0)
    )  # language "und"
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"camnet video\x00")
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _sample_entry(sets, width, height)),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0))
    return ftyp + box(b"moov", mvhd, trak, box(b"mvex", trex))


def sample_of(units: Iterable[bytes]) -> bytes:
    """One picture as an MP4 sample: each NAL unit behind its four-byte length, the
    parameter sets and access unit delimiters left out (they belong to ``avcC``)."""
    parts = []
    for unit in units:
        if unit and nal_type(unit) not in _OUT_OF_BAND:
            parts.append(struct.pack(">I", len(unit)))
            parts.append(unit)
    return b"".join(parts)


def fragment(
    sequence: int, decode_time: int, duration: int, sample: bytes, keyframe: bool
) -> bytes:
    """``moof`` + ``mdat`` carrying one sample that starts at ``decode_time`` (90 kHz)."""
    flags = _SYNC_SAMPLE if keyframe else _OTHER_SAMPLE

    def moof(data_offset: int) -> bytes:
        trun = full_box(
            b"trun",
            0,
            0x000001 | 0x000100 | 0x000200 | 0x000400,  # offset, duration, size, flags
            struct.pack(">IiIII", 1, data_offset, duration, len(sample), flags),
        )
        traf = box(
            b"traf",
            full_box(b"tfhd", 0, 0x020000, struct.pack(">I", TRACK_ID)),  # base is moof
            full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
            trun,
        )
        return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), traf)

    # The data offset counts from the start of moof to the sample (after mdat's header).
    header = moof(0)
    return moof(len(header) + 8) + box(b"mdat", sample)


def boxes(data: bytes) -> Sequence[tuple[bytes, bytes]]:
    """The top-level boxes of ``data`` as ``(type, body)`` (for tests and checks)."""
    found = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size < 8 or offset + size > len(data):
            raise ValueError(f"a box {kind!r} of {size} bytes does not fit at {offset}")
        found.append((kind, data[offset + 8 : offset + size]))
        offset += size
    if offset != len(data):
        raise ValueError("trailing bytes after the last box")
    return found
