"""Stills in every format, depth as 16-bit millimetres, live MJPEG per stream, controls
that visibly act, and the identity policy on every route."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import httpx
import numpy as np
import pytest

from camnet.devices.stereo.scene import SceneRenderer, StereoGeometry
from camnet.media.mjpeg import PartParser
from tests.streams.conftest import BASE

MAGIC = {
    "jpeg": b"\xff\xd8\xff",
    "png": b"\x89PNG",
    "webp": b"RIFF",
    "bmp": b"BM",
    "tiff": b"II*\x00",
}


def decode(data: bytes, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    assert image is not None
    return image


@pytest.fixture
def small_colour(admin: httpx.Client) -> Iterator[None]:
    admin.post(f"{BASE}/CAM_A/config", json={"still_size": [640, 360]})
    yield
    admin.post(f"{BASE}/CAM_A/control", json=DEFAULTS)
    admin.post(f"{BASE}/CAM_A/control", json={"focus": {"auto_focus_mode": "CONTINUOUS_VIDEO"}})


DEFAULTS = {
    "auto_exposure_enable": True,
    "auto_exposure_compensation": 0,
    "auto_exposure_lock": False,
    "contrast": 0,
    "brightness": 0,
    "saturation": 0,
    "chroma_denoise": 0,
    "luma_denoise": 0,
    "auto_whitebalance_mode": "AUTO",
    "auto_whitebalance_lock": False,
}


@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_still_in_every_format(admin: httpx.Client, small_colour: None, fmt: str) -> None:
    response = admin.get(f"{BASE}/CAM_A/still", params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"image/{fmt}"
    assert response.content.startswith(MAGIC[fmt])
    assert decode(response.content).shape == (360, 640, 3)


def test_default_still_is_jpeg_and_unknown_format_is_422(admin: httpx.Client) -> None:
    response = admin.get(f"{BASE}/CAM_B/still")
    assert response.headers["content-type"] == "image/jpeg"
    assert decode(response.content).shape == (400, 640, 3)
    for fmt in ("gif", "JPEG", ""):
        response = admin.get(f"{BASE}/CAM_B/still", params={"format": fmt})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "format"]


def test_depth_still_lighter_is_closer_and_png_is_millimetres(admin: httpx.Client) -> None:
    assert admin.post(f"{BASE}/DEPTH_B_C/").status_code == 201
    try:
        shown = decode(admin.get(f"{BASE}/DEPTH_B_C/still").content, cv2.IMREAD_GRAYSCALE)
        png = admin.get(f"{BASE}/DEPTH_B_C/still", params={"format": "png"})
        assert png.headers["content-type"] == "image/png"
        depth = decode(png.content, cv2.IMREAD_UNCHANGED)
    finally:
        admin.post(f"{BASE}/CAM_B/")
        admin.post(f"{BASE}/CAM_C/")
    assert depth.dtype == np.uint16
    assert depth.shape == (400, 640)
    geometry = StereoGeometry()
    truth = SceneRenderer(geometry).render(0.0, 640, 400, colour=False).depth_mm
    valid = depth > 0
    assert valid.mean() > 0.9
    relative = np.abs(depth[valid].astype(np.float32) - truth[valid]) / truth[valid]
    assert np.median(relative) < 0.03
    # the crate (0.95 m) is lighter than the wall (4 m) behind it
    crate = shown[300:360, 500:600]
    wall = shown[20:60, 420:620]
    assert np.median(crate) > np.median(wall) + 60


def read_parts(client: httpx.Client, url: str, count: int) -> list[bytes]:
    parser = PartParser()
    parts: list[bytes] = []
    with client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        for chunk in response.iter_bytes():
            parts.extend(body for _, body in parser.feed(chunk))
            if len(parts) >= count:
                break
    return parts


@pytest.mark.parametrize("stream", ["CAM_A", "CAM_B", "DEPTH_B_C"])
def test_live_mjpeg_per_stream(admin: httpx.Client, stream: str) -> None:
    if stream == "DEPTH_B_C":
        admin.post(f"{BASE}/DEPTH_B_C/")
    try:
        parts = read_parts(admin, f"{BASE}/{stream}/video", 2)
    finally:
        admin.post(f"{BASE}/CAM_B/")
        admin.post(f"{BASE}/CAM_C/")
    sizes = {"CAM_A": (720, 1280, 3), "CAM_B": (400, 640, 3), "DEPTH_B_C": (400, 640, 3)}
    for part in parts:
        assert decode(part).shape == sizes[stream]


def test_video_of_an_inactive_stream_is_404(admin: httpx.Client) -> None:
    response = admin.get(f"{BASE}/DEPTH_B_C/video")
    assert response.status_code == 404
    assert response.json() == {"detail": "Stream DEPTH_B_C is not active"}


def still(client: httpx.Client, **control: object) -> np.ndarray:
    if control:
        response = client.post(f"{BASE}/CAM_A/control", json=control)
        assert response.status_code == 200, response.text
    data = client.get(f"{BASE}/CAM_A/still", params={"format": "png"}).content
    return cv2.cvtColor(decode(data), cv2.COLOR_BGR2RGB).astype(np.float32)


def sharpness(image: np.ndarray) -> float:
    grey = cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def noise(client: httpx.Client, **control: object) -> float:
    """Frame-to-frame noise: two stills of a still scene differ only by it."""
    first = still(client, **control)
    second = still(client)
    return float((first - second).std())


def test_every_control_visibly_acts(admin: httpx.Client, small_colour: None) -> None:
    base = still(admin)
    brighter = still(admin, brightness=6)
    assert brighter.mean() > base.mean() + 30
    still(admin, brightness=0)
    flat = still(admin, contrast=-10)
    assert flat.std() < base.std() * 0.7
    grey = still(admin, contrast=0, saturation=-10)
    assert np.abs(grey[..., 0] - grey[..., 2]).mean() < 3
    vivid = still(admin, saturation=10)
    assert np.abs(vivid[..., 0] - vivid[..., 2]).mean() > np.abs(base[..., 0] - base[..., 2]).mean()
    still(admin, saturation=0)
    # manual exposure: 1 µs is black; time and ISO brighten
    dark = still(admin, auto_exposure_enable=False, exposure_time=1, sensitivity_iso=100)
    assert dark.mean() < 5
    lit = still(admin, exposure_time=20000, sensitivity_iso=400)
    assert lit.mean() > base.mean() + 20
    clean = noise(admin, exposure_time=10000, sensitivity_iso=400)
    noisy = noise(admin, exposure_time=800, sensitivity_iso=5000)
    assert noisy > clean * 2
    assert noise(admin, luma_denoise=4, chroma_denoise=4) < noisy * 0.6
    # automatic exposure: compensation and the time limit
    auto = still(admin, auto_exposure_enable=True, luma_denoise=0, chroma_denoise=0)
    assert abs(auto.mean() - base.mean()) < 5
    assert still(admin, auto_exposure_compensation=6).mean() > auto.mean() + 30
    assert still(admin, auto_exposure_limit=500).mean() < auto.mean() - 20
    # the lock holds what automatic exposure had reached
    still(admin, auto_exposure_limit=33000, auto_exposure_compensation=0)
    still(admin, auto_exposure_lock=True)
    held = still(admin, auto_exposure_compensation=9)
    assert abs(held.mean() - auto.mean()) < 5
    still(admin, auto_exposure_lock=False, auto_exposure_compensation=0)
    # white balance: presets and manual temperature tint the picture
    warm = still(admin, auto_whitebalance_mode="OFF", manual_whitebalance=12000)
    cool = still(admin, manual_whitebalance=1000)
    assert warm[..., 0].mean() - warm[..., 2].mean() > cool[..., 0].mean() - cool[..., 2].mean()
    shade = still(admin, auto_whitebalance_mode="SHADE")
    tungsten = still(admin, auto_whitebalance_mode="INCANDESCENT")
    assert shade[..., 0].mean() > tungsten[..., 0].mean() + 10
    still(admin, auto_whitebalance_mode="AUTO")
    # focus: the subject is sharpest where the autofocus puts the lens
    focused = still(admin, focus={"auto_focus_mode": "CONTINUOUS_VIDEO"})
    blurred = still(admin, focus={"auto_focus_mode": "OFF", "lens_position": 0.6})
    assert sharpness(focused) > sharpness(blurred) * 2


def test_persisted_controls_survive_in_the_state(admin: httpx.Client) -> None:
    admin.post(f"{BASE}/CAM_C/control", json={"contrast": 4})
    # the device state is the one path: the c2-independent value is on the device
    assert admin.get(f"{BASE}/CAM_C/control").json()["contrast"] == 4
    admin.post(f"{BASE}/CAM_C/control", json={"contrast": 0})


def test_identity_on_every_route(
    server: object, admin: httpx.Client, viewer: httpx.Client, stranger: httpx.Client
) -> None:
    from tests.inprocess import InProcessServer

    assert isinstance(server, InProcessServer)
    with server.client() as anonymous:
        response = anonymous.get(f"{BASE}/")
        assert response.status_code == 401
        assert response.json()["statusCode"] == 401
    assert viewer.get(f"{BASE}/").status_code == 200
    assert viewer.get(f"{BASE}/CAM_B/control").status_code == 200
    refused = viewer.post(f"{BASE}/CAM_B/control", json={"contrast": 1})
    assert refused.status_code == 403
    assert refused.json()["statusCode"] == 403
    assert viewer.delete(f"{BASE}/CAM_B/").status_code == 403
    assert admin.get(f"{BASE}/CAM_B/control").json()["contrast"] == 0
    for method, suffix in (
        ("GET", ""),
        ("POST", "CAM_B/"),
        ("DELETE", "CAM_B/"),
        ("GET", "CAM_B/config"),
        ("GET", "CAM_B/control"),
        ("GET", "CAM_B/still"),
        ("GET", "CAM_B/video"),
    ):
        response = stranger.request(method, f"{BASE}/{suffix}")
        assert response.status_code == 404, suffix
    assert stranger.post(f"{BASE}/CAM_B/control", json={}).status_code == 404
    assert stranger.post(f"{BASE}/CAM_B/config", json={}).status_code == 404
