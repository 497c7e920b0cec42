"""The OpenCV source against a real server reading a video file the test writes:
pictures come from the file, and removing the file ("unplugging") sets ``cam0Exists``
false and shows the no-signal card until the file is back."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from camnet.devices.sources.opencv import SourceSpec, redacted
from tests.media_support import MjpegClient, Picture, mean, picture
from tests.support import ServerProcess

FILE_COLOUR = (40, 200, 60)  # RGB of the test video's left half
FILE_SIZE = (320, 240)


def write_video(path: Path, frames: int = 30) -> None:
    """A short MJPG .avi: green left half, a moving white bar on the right half."""
    width, height = FILE_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (width, height))
    assert writer.isOpened()
    for index in range(frames):
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[:, : width // 2] = FILE_COLOUR[::-1]  # BGR
        x = width // 2 + (index * 5) % (width // 2 - 10)
        frame[:, x : x + 10] = 255
        writer.write(frame)
    writer.release()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def from_file(image: Picture) -> bool:
    return float(np.abs(mean(image, (0.1, 0.2, 0.4, 0.8)) - np.array(FILE_COLOUR)).max()) < 40


def no_signal(image: Picture) -> bool:
    return float(np.abs(mean(image, (0.0, 0.0, 1.0, 0.3)) - 40).max()) < 8


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "head0.avi"
    write_video(path)
    return path


@pytest.fixture
def opencv_server(tmp_path: Path, video: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path / "data",
        env={
            "CAMNET_CAMERA_SOURCE": "opencv",
            "CAMNET_CAMERA0_OPENCV": str(video),
            "CAMNET_CAMERA_RECONNECT_MAX": "0.5",
        },
    ).start()
    # The file is green: keep the grey-world white balance from taking the green out.
    assert process.post({"recordingResolution": "HD", "whiteBalance": False}).status_code == 200
    yield process
    process.stop()


def exists(server: ServerProcess) -> dict[str, bool]:
    result: dict[str, bool] = server.api({"get": "[cam0Exists,cam1Exists]"}).json()
    return result


def unplug(video: Path) -> Path:
    parked = video.with_suffix(".parked")
    os.replace(video, parked)
    return parked


def test_pictures_come_from_the_file(opencv_server: ServerProcess) -> None:
    assert exists(opencv_server) == {"cam0Exists": True, "cam1Exists": False}
    image = picture(opencv_server)
    assert image.shape == (720, 1280, 3)
    assert from_file(image)


def test_unplugging_while_streaming_and_plugging_back(
    opencv_server: ServerProcess, video: Path
) -> None:
    with MjpegClient(opencv_server) as viewer:
        assert from_file(viewer.frame())
        parked = unplug(video)
        wait_for(lambda: not exists(opencv_server)["cam0Exists"], "cam0Exists false")
        wait_for(lambda: no_signal(viewer.frame()), "the no-signal card")
        os.replace(parked, video)
        wait_for(lambda: exists(opencv_server)["cam0Exists"], "cam0Exists true")
        wait_for(lambda: from_file(viewer.frame()), "pictures from the file again")


def test_presence_is_watched_while_nobody_captures(
    opencv_server: ServerProcess, video: Path
) -> None:
    parked = unplug(video)
    wait_for(lambda: not exists(opencv_server)["cam0Exists"], "cam0Exists false")
    assert no_signal(picture(opencv_server))
    os.replace(parked, video)
    wait_for(lambda: exists(opencv_server)["cam0Exists"], "cam0Exists true")
    wait_for(lambda: from_file(picture(opencv_server)), "pictures from the file again")


def test_source_names() -> None:
    assert SourceSpec.parse("0") == SourceSpec(0, "/dev/video0", url=False, looping=False)
    assert SourceSpec.parse("/dev/video2").looping is False
    assert SourceSpec.parse("clip.mp4").looping is True
    rtsp = SourceSpec.parse("rtsp://user:secret@127.0.0.1:8554/cam")
    assert rtsp.url
    assert rtsp.path is None
    assert redacted(rtsp.target) == "rtsp://***@127.0.0.1:8554/cam"
