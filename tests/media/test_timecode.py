"""The capture-time code survives the simulated head, the ISP and lossy compression."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import numpy as np
import pytest
import simplejpeg

from camnet.devices.sources.sim import SimulatedHead
from camnet.media import isp, timecode
from camnet.media.config import HeadView, ImageControls

WIDTH, HEIGHT = 1280, 720
VALUES = (0, 1, timecode.MODULUS - 1, 0xA5A5_5A5A_F00F, 1_717_171_717_171)


def frame(value: int, controls: ImageControls | None = None, moment: float = 1.0) -> np.ndarray:
    """A simulated frame as the server composes it, with ``value`` in its time code."""
    image = SimulatedHead(0, "test head").capture(
        HeadView(head=0), controls or ImageControls(), WIDTH, HEIGHT, moment
    )
    assert image is not None
    timecode.draw(image, value)
    return isp.apply(image, controls or ImageControls())


@pytest.mark.parametrize("value", VALUES)
def test_round_trip_through_jpeg_quality_75(value: int) -> None:
    jpeg = simplejpeg.encode_jpeg(np.ascontiguousarray(frame(value)), quality=75)
    assert timecode.read(simplejpeg.decode_jpeg(jpeg)) == value


def test_round_trip_through_noisy_high_gain_frame() -> None:
    controls = ImageControls(auto_exposure=False, exposure_ms=10.0, gain_db=30)
    value = 0x1234_5678_9ABC
    jpeg = simplejpeg.encode_jpeg(np.ascontiguousarray(frame(value, controls)), quality=75)
    assert timecode.read(simplejpeg.decode_jpeg(jpeg)) == value


def test_round_trip_through_h264() -> None:
    values = [1_717_171_717_000 + 33 * i for i in range(12)] + list(VALUES)
    buffer = av.open("pipe:", mode="w", format="h264")
    encoder = buffer.add_stream("libx264", rate=30)
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.options = {"preset": "veryfast", "tune": "zerolatency", "crf": "28"}
    encoder.codec_context.time_base = Fraction(1, 30)
    packets = []
    for index, value in enumerate(values):
        picture = av.VideoFrame.from_ndarray(frame(value, moment=index / 30), format="rgb24")
        picture.pts = index
        packets.extend(encoder.encode(picture))
    packets.extend(encoder.encode(None))
    decoder = av.CodecContext.create("h264", "r")
    read = []
    for packet in packets:
        for decoded in decoder.decode(av.Packet(bytes(packet))):
            read.append(timecode.read(decoded.to_ndarray(format="gray")))
    for decoded in decoder.decode(None):
        read.append(timecode.read(decoded.to_ndarray(format="gray")))
    assert read == values


def test_a_frame_without_the_code_reads_none() -> None:
    image = SimulatedHead(0, "test head").capture(
        HeadView(head=0), ImageControls(), WIDTH, HEIGHT, 1.0
    )
    assert image is not None
    assert timecode.read(image) is None


def test_the_head_stamps_its_wall_clock_only_when_asked() -> None:
    view, controls = HeadView(head=0), ImageControls()
    plain = SimulatedHead(0, "test head").capture(view, controls, WIDTH, HEIGHT, 2.0)
    before = round(time.time() * 1000)
    stamped = SimulatedHead(0, "test head", time_code=True).capture(
        view, controls, WIDTH, HEIGHT, 2.0
    )
    after = round(time.time() * 1000)
    assert plain is not None
    assert stamped is not None
    stamp = timecode.read(stamped)
    assert stamp is not None
    assert before <= stamp <= after
    block = timecode.block_size(WIDTH)
    # only the row of blocks differs: the rest of the picture is unchanged
    differs = np.argwhere((plain != stamped).any(axis=2))
    assert differs[:, 0].min() >= HEIGHT - 2 * block
    assert differs[:, 0].max() < HEIGHT - block
    assert differs[:, 1].min() >= block
    assert differs[:, 1].max() < (timecode.BLOCKS + 1) * block


def test_age_wraps_on_the_ring() -> None:
    assert timecode.age_ms(5, timecode.MODULUS - 5) == 10
    assert timecode.age_ms(100, 90) == 10
    assert timecode.age_ms(90, 100) == -10
