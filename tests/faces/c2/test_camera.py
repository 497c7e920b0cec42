"""``/camera.jpeg`` and ``/camera.mjpeg`` against a real server: credentials, framing,
and every stream and picture setting, asserted on pixels of the simulated scene."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from camnet.devices.sources.scene import MARKER_BOX
from camnet.media.compose import pip_rect
from camnet.media.overlay import STAMP_BOX
from tests.media_support import (
    MARKER,
    MjpegClient,
    Picture,
    decode,
    inner,
    is_colour,
    mean,
    mirrored,
    picture,
    region,
    state,
)
from tests.support import ServerProcess


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server streaming HD (quicker to encode and decode than the FullHD default)."""
    process = ServerProcess(tmp_path_factory.mktemp("camnet-camera")).start()
    assert process.post({"recordingResolution": "HD"}).status_code == 200
    yield process
    process.stop()


def grey(image: Picture) -> Picture:
    result: Picture = image.astype(np.float32).mean(axis=2)
    return result


# --- credentials -----------------------------------------------------------------------


def test_jpeg_needs_credentials(camera: ServerProcess) -> None:
    with camera.client() as client:
        anonymous = client.get("/camera.jpeg")
        wrong = client.get("/camera.jpeg", params={"token": "nope-nope"})
        basic = client.get("/camera.jpeg", auth=("API-User", camera.token))
        admin = client.get(
            "/camera.jpeg", params={"user": "admin", "password": camera.admin_password}
        )
    for response in (anonymous, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Basic")
    for response in (basic, admin):
        assert response.status_code == 200
        assert decode(response.content).shape == (720, 1280, 3)


def test_mjpeg_needs_credentials_unless_the_stream_is_open(camera: ServerProcess) -> None:
    with camera.client() as client:
        response = client.get("/camera.mjpeg")
        assert response.status_code == 401
        assert response.json()["error"]["status"] == 401
    with state(camera, admin=True, mjpgStreamIsOpen=True), MjpegClient(camera, params={}) as viewer:
        assert viewer.response.status_code == 200
        assert viewer.frame().shape == (720, 1280, 3)
    with camera.client() as client:
        assert client.get("/camera.mjpeg").status_code == 401


def test_wrong_method_answers_in_the_c2_error_body(camera: ServerProcess) -> None:
    with camera.client() as client:
        response = client.post("/camera.jpeg", params={"token": camera.token})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- the stream ------------------------------------------------------------------------


def test_mjpeg_parts_carry_type_and_length_and_the_picture_moves(camera: ServerProcess) -> None:
    with MjpegClient(camera) as viewer:
        content_type = viewer.response.headers["content-type"]
        assert content_type.startswith("multipart/x-mixed-replace; boundary=")
        headers, first = viewer.part()
        assert headers["content-type"] == "image/jpeg"
        assert int(headers["content-length"]) == len(first)
        frames = [decode(first)] + [viewer.frame() for _ in range(9)]
    assert all(frame.shape == (720, 1280, 3) for frame in frames)
    moving = (0.3, 0.3, 0.7, 0.7)  # the ball and the sweeping bar
    differences = [
        float(np.abs(grey(region(a, moving)) - grey(region(b, moving))).mean())
        for a, b in itertools.pairwise(frames)
    ]
    assert max(differences) > 1.0
    # ...while the still part of the scene stays put.
    assert is_colour(mean(frames[0], MARKER), 0)
    assert is_colour(mean(frames[-1], MARKER), 0)


def test_frame_rate_follows_recording_fps(camera: ServerProcess) -> None:
    with state(camera, recordingFps=5), MjpegClient(camera) as viewer:
        viewer.part()
        start = time.monotonic()
        count = 0
        while time.monotonic() - start < 1.5:
            viewer.part()
            count += 1
    assert 5 <= count <= 10, count


def test_resolution_and_quality(camera: ServerProcess) -> None:
    with state(camera, recordingResolution="FullHD"):
        assert picture(camera).shape == (1080, 1920, 3)
    sizes = {}
    for quality in (10, 95):
        with state(camera, recordingPictureQuality=quality), camera.client() as client:
            sizes[quality] = len(client.get("/camera.jpeg", params={"token": camera.token}).content)
    assert sizes[10] * 3 < sizes[95]


def test_camera_switch_selects_the_second_head(camera: ServerProcess) -> None:
    assert is_colour(mean(picture(camera), MARKER), 0)
    with state(camera, cameraSwitch=True):
        assert is_colour(mean(picture(camera), MARKER), 1)


def test_alignment_rotates_the_stream_by_180_degrees(camera: ServerProcess) -> None:
    opposite = mirrored(MARKER, horizontal=True, vertical=True)
    with state(camera, alignmentStream0="1"):
        rotated = picture(camera)
    assert is_colour(mean(rotated, opposite), 0)
    assert not is_colour(mean(rotated, MARKER), 0)
    with state(camera, cameraSwitch=True, alignmentStream1="1"):
        assert is_colour(mean(picture(camera), opposite), 1)


@pytest.mark.parametrize("corner", [1, 2, 3, 4])
def test_pip_shows_the_other_head_in_its_corner(camera: ServerProcess, corner: int) -> None:
    with state(camera, pip=corner):
        image = picture(camera)
    x, y, w, h = pip_rect(corner, 1280, 720)
    inset = image[y : y + h, x : x + w]
    assert is_colour(mean(inset, MARKER), 1)
    if corner != 1:
        assert is_colour(mean(image, MARKER), 0)


def test_stamps_are_drawn_only_when_switched_on(camera: ServerProcess) -> None:
    def stamp_area() -> Picture:
        result: Picture = grey(region(picture(camera), STAMP_BOX))
        return result

    plain = stamp_area()
    with state(camera, recordingWithTimeStamp=True):
        timed = stamp_area()
    with state(camera, recordingWithTimeStamp=True, recordingWithDateStamp=True):
        dated = stamp_area()
    assert float(np.abs(timed - plain).mean()) > 5
    # The date makes the stamp longer: more of the area changes.
    assert float(np.abs(dated - plain).mean()) > float(np.abs(timed - plain).mean())
    assert float(np.abs(stamp_area() - plain).mean()) < 3


def test_one_sensor_head_mirrors_on_sensor_1(camera: ServerProcess) -> None:
    with state(camera, cameraSwitch=True, cam1SelectedSensor=1):
        image = picture(camera)
    assert is_colour(mean(image, mirrored(MARKER)), 1)
    assert not is_colour(mean(image, MARKER), 1)


def test_two_sensor_head_shows_its_second_sensor(camera: ServerProcess) -> None:
    top, bottom = (0.3, 0.02, 0.7, 0.1), (0.3, 0.9, 0.7, 0.98)
    left, right = (0.02, 0.4, 0.1, 0.6), (0.9, 0.4, 0.98, 0.6)

    def lit_from(image: Picture) -> tuple[float, float]:
        """(top minus bottom, left minus right) brightness: where the light comes from."""
        return (
            float(mean(image, top).mean() - mean(image, bottom).mean()),
            float(mean(image, left).mean() - mean(image, right).mean()),
        )

    first = lit_from(picture(camera))
    with state(camera, cam0SelectedSensor=1):
        second_image = picture(camera)
    second = lit_from(second_image)
    assert is_colour(mean(second_image, MARKER), 0), "not mirrored"
    assert first[0] > 30 > abs(first[1])
    assert second[1] > 30 > abs(second[0])


# --- picture settings --------------------------------------------------------------------

MANUAL = {"exposure": False}
SCENE = (0.25, 0.05, 0.75, 0.35)  # the background around the clock


def test_brightness_works_with_manual_exposure(camera: ServerProcess) -> None:
    with state(camera, brightness=-7):
        automatic = mean(picture(camera)).mean()
    with state(camera, **MANUAL, brightness=-7):
        dark = mean(picture(camera)).mean()
    with state(camera, **MANUAL, brightness=7):
        bright = mean(picture(camera)).mean()
    assert bright > dark + 80
    assert abs(automatic - mean(picture(camera)).mean()) < 3, "ignored with auto exposure"


def test_light_exposure_time_and_gain_brighten(camera: ServerProcess) -> None:
    def brightness(**values: Any) -> float:
        with state(camera, **MANUAL, **values):
            return float(mean(picture(camera), SCENE).mean())

    assert brightness(light0=True) > brightness(light0=False) + 20
    assert brightness(expo=20.0) > brightness(expo=5.0) + 20
    assert brightness(expo=2.0, gain=12) > brightness(expo=2.0, gain=0) + 10


def test_gain_adds_noise_and_noise_suppression_removes_it(camera: ServerProcess) -> None:
    flat = (0.30, 0.80, 0.45, 0.86)  # background between grid lines, below the name

    def noise(**values: Any) -> float:
        with state(camera, **MANUAL, expo=0.5, gain=36, **values):
            area = grey(region(picture(camera), flat))
        return float(np.abs(np.diff(area, axis=1)).mean())

    with state(camera, **MANUAL):
        clean = float(np.abs(np.diff(grey(region(picture(camera), flat)), axis=1)).mean())
    noisy = noise()
    assert noisy > clean * 3
    assert noise(noiseSuppression=True) < noisy / 2


def test_contrast_and_saturation(camera: ServerProcess) -> None:
    def spread() -> float:
        return float(grey(picture(camera)).std())

    def colourfulness() -> float:
        image = picture(camera).astype(np.float32)
        return float((image.max(axis=2) - image.min(axis=2)).mean())

    normal_spread, normal_colour = spread(), colourfulness()
    with state(camera, contrast=2.5):
        assert spread() > normal_spread * 1.5
    with state(camera, saturation=-7):
        assert colourfulness() < 3
    with state(camera, saturation=7):
        assert colourfulness() > normal_colour * 1.5


def test_white_balance_gains_work_when_automatic_is_off(camera: ServerProcess) -> None:
    with state(camera, redGain=127, blueGain=-128):
        red, _, blue = mean(picture(camera), SCENE)
        assert abs(red - blue) < 15, "ignored with automatic white balance"
    with state(camera, whiteBalance=False, redGain=127, blueGain=-128):
        red, _, blue = mean(picture(camera), SCENE)
        assert red > blue * 2
    with state(camera, whiteBalance=False, redGain=-128, blueGain=127):
        red, _, blue = mean(picture(camera), SCENE)
        assert blue > red * 2


def test_sharpness(camera: ServerProcess) -> None:
    def detail(**values: Any) -> float:
        with state(camera, **values):
            area = grey(region(picture(camera), (0.1, 0.5, 0.9, 0.8)))
        return float(np.abs(np.diff(area, axis=1)).mean())

    assert detail(sharpness=15) > detail(sharpness=8) * 1.2 > detail(sharpness=1) * 1.4


def test_pan_and_zoom_crop_the_sensor(camera: ServerProcess) -> None:
    centre = picture(camera)
    assert is_colour(mean(centre, MARKER), 0)
    with state(camera, pan0={"x": -25, "y": 0}):  # relative: x 50 → 25
        panned = picture(camera)
    # The view moved left by an eighth of the picture, so the scene moved right.
    left, top, right, bottom = MARKER_BOX
    shift = 0.125
    assert is_colour(mean(panned, inner((left + shift, top, right + shift, bottom))), 0)
    assert not is_colour(mean(panned, inner((left, top, left + shift, bottom))), 0)
    with state(camera, zoom0=31424):
        zoomed = picture(camera)
    assert not is_colour(mean(zoomed, MARKER), 0)
    assert float(np.abs(grey(zoomed) - grey(centre)).mean()) > 5


def test_invalid_settings_answer_with_the_c2_error_body(camera: ServerProcess) -> None:
    response = camera.post({"recordingResolution": "8K"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["key"] == "recordingResolution"
    with httpx.Client(base_url=camera.url) as client:
        assert client.get("/camera.jpeg", params={"token": camera.token}).status_code == 200
