"""The fMP4 box writer, from plain inputs: what it writes is what a real demuxer and
decoder (FFmpeg through PyAV) read back, picture for picture."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from camnet.media import fmp4, nal
from camnet.media.h264 import CLOCK_RATE, AccessUnit, _codec

WIDTH, HEIGHT, FPS = 320, 240, 30


def encoded(colours: list[tuple[int, int, int]]) -> list[AccessUnit]:
    """Pictures of plain colours through the shared encoder's own settings."""
    codec = _codec(WIDTH, HEIGHT, FPS)
    units: list[AccessUnit] = []
    packets = []
    for index, colour in enumerate(colours):
        rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        rgb[:] = colour
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = index * (CLOCK_RATE // FPS)
        packets += codec.encode(frame)
    packets += codec.encode(None)
    for index, packet in enumerate(packets, start=1):
        units.append(
            AccessUnit(
                tuple(nal.split_annexb(bytes(packet))),
                int(packet.pts),
                bool(packet.is_keyframe),
                0.0,
                index=index,
                width=WIDTH,
                height=HEIGHT,
                duration=CLOCK_RATE // FPS,
                decode_time=(index - 1) * (CLOCK_RATE // FPS),
            )
        )
    return units


def decode(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), format="mp4", mode="r") as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_init_and_fragments_decode_to_the_pictures() -> None:
    colours = [(200, 40, 40)] * 4 + [(40, 40, 200)] * 4
    units = encoded(colours)
    assert units[0].keyframe
    assert units[0].init_segment is not None
    data = units[0].init_segment + b"".join(unit.fragment for unit in units)
    pictures = decode(data)
    assert len(pictures) == len(colours)
    for picture, colour in zip(pictures, colours, strict=True):
        assert picture.shape == (HEIGHT, WIDTH, 3)
        assert np.abs(picture.reshape(-1, 3).mean(axis=0) - colour).max() < 8


def test_the_layout_a_browser_expects() -> None:
    units = encoded([(128, 128, 128)] * 2)
    init = units[0].init_segment
    assert init is not None
    assert [kind for kind, _ in fmp4.boxes(init)] == [b"ftyp", b"moov"]
    moov = dict(fmp4.boxes(init))[b"moov"]
    assert [kind for kind, _ in fmp4.boxes(moov)] == [b"mvhd", b"trak", b"mvex"]
    sets = units[0].parameter_sets
    assert sets is not None
    # Baseline profile (0x42): what Studio's hard-coded avc1.42E01E asks MSE for.
    assert sets.codec.startswith("avc1.42")
    assert sets.sps in init
    assert sets.pps in init
    for unit in units:
        kinds = [kind for kind, _ in fmp4.boxes(unit.fragment)]
        assert kinds == [b"moof", b"mdat"]
    # The sequence numbers and decode times follow the units.
    moof = dict(fmp4.boxes(units[1].fragment))[b"moof"]
    mfhd = dict(fmp4.boxes(moof))[b"mfhd"]
    assert struct.unpack(">I", mfhd[4:])[0] == 2


def test_a_late_joiner_starts_at_a_keyframe_with_its_own_init() -> None:
    """A viewer that joins at the second keyframe: init + fragments from there decode."""
    codec_units = encoded([(10, 200, 10)] * 3)
    # A forced second keyframe is what the encoder gives a new subscriber.
    assert codec_units[0].keyframe
    joined = codec_units[0].init_segment
    assert joined is not None
    pictures = decode(joined + codec_units[0].fragment)
    assert len(pictures) == 1


def test_parameter_sets_and_delimiters_stay_out_of_the_sample() -> None:
    sample = fmp4.sample_of([b"\x67\x42", b"\x68\xce", b"\x09\xf0", b"\x65\x88\x84"])
    assert sample == struct.pack(">I", 3) + b"\x65\x88\x84"


def test_boxes_refuses_a_box_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        fmp4.boxes(struct.pack(">I4s", 100, b"moof"))
