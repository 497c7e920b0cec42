"""Conformance of the streams dialect: every endpoint and status code, the three config
shapes and a merge, and every range bound of every control (min−1, min, max, max+1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from camnet.devices.profiles.stereo import CONTROL_FIELDS, FOCUS_FIELDS
from tests.streams.conftest import BASE
from tests.streams.test_media import decode, read_parts


def detail_locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail"}
    for item in body["detail"]:
        assert {"loc", "msg", "type"} <= set(item)
    return [item["loc"] for item in body["detail"]]


def test_list_shows_every_stream(admin: httpx.Client) -> None:
    response = admin.get(f"{BASE}/")
    assert response.status_code == 200
    streams = response.json()
    assert [s["name"] for s in streams] == ["CAM_A", "CAM_B", "CAM_C", "DEPTH_B_C"]
    assert all(set(s) == {"name", "active"} and isinstance(s["active"], bool) for s in streams)


def test_unknown_camera_and_stream_are_404(admin: httpx.Client) -> None:
    assert admin.get("/cameras/0000AAAA/streams/").json() == {"detail": "Camera 0000AAAA not found"}
    assert admin.get("/cameras/0000AAAA/streams/").status_code == 404
    for method, suffix in (
        ("POST", "CAM_D/"),
        ("DELETE", "CAM_H/"),
        ("GET", "DEPTH_A_B/config"),
        ("POST", "CAM_E/control"),
        ("GET", "CAM_F/still"),
        ("GET", "CAM_G/video"),
    ):
        kwargs: dict[str, Any] = {"json": {}} if method == "POST" and "control" in suffix else {}
        response = admin.request(method, f"{BASE}/{suffix}", **kwargs)
        assert response.status_code == 404, (suffix, response.text)
        assert "detail" in response.json()


@pytest.mark.parametrize("mxid", ["abc", "14442c10", "AB-12"])
def test_mxid_outside_its_pattern_is_422(admin: httpx.Client, mxid: str) -> None:
    assert detail_locs(admin.get(f"/cameras/{mxid}/streams/")) == [["path", "mxid"]]


@pytest.mark.parametrize("stream", ["CAM_I", "cam_a", "DEPTH_B", "CAM_A1", "DEPTH_B_CX"])
def test_stream_outside_its_pattern_is_422(admin: httpx.Client, stream: str) -> None:
    assert detail_locs(admin.get(f"{BASE}/{stream}/config")) == [["path", "stream_name"]]


def active(client: httpx.Client) -> dict[str, bool]:
    return {s["name"]: s["active"] for s in client.get(f"{BASE}/").json()}


def test_depth_and_its_sensors_exclude_each_other(admin: httpx.Client) -> None:
    response = admin.post(f"{BASE}/DEPTH_B_C/")
    assert response.status_code == 201
    assert response.content == b""
    assert active(admin) == {"CAM_A": True, "CAM_B": False, "CAM_C": False, "DEPTH_B_C": True}
    assert admin.get(f"{BASE}/CAM_B/still").status_code == 404
    assert admin.post(f"{BASE}/CAM_C/").status_code == 201
    assert active(admin) == {"CAM_A": True, "CAM_B": False, "CAM_C": True, "DEPTH_B_C": False}
    response = admin.delete(f"{BASE}/CAM_A/")
    assert response.status_code == 202
    assert active(admin)["CAM_A"] is False
    assert admin.post(f"{BASE}/CAM_A/").status_code == 201
    assert admin.post(f"{BASE}/CAM_B/").status_code == 201
    assert active(admin) == {"CAM_A": True, "CAM_B": True, "CAM_C": True, "DEPTH_B_C": False}


def test_three_config_shapes(admin: httpx.Client) -> None:
    colour = admin.get(f"{BASE}/CAM_A/config").json()
    assert set(colour) == {
        "resolution",
        "still_size",
        "preview_size",
        "video_size",
        "sensor_crop",
        "fps",
    }
    assert isinstance(colour["resolution"], str)
    mono = admin.get(f"{BASE}/CAM_B/config").json()
    assert set(mono) == {"resolution", "fps"}
    generic = admin.get(f"{BASE}/DEPTH_B_C/config").json()
    assert set(generic) == {"resolution", "still_size", "preview_size", "video_size", "fps"}
    assert generic["resolution"] == [640, 400]


def test_config_update_merges_and_validates_the_whole(admin: httpx.Client) -> None:
    before = admin.get(f"{BASE}/CAM_A/config").json()
    response = admin.post(f"{BASE}/CAM_A/config", json={"fps": 15, "still_size": [640, 360]})
    assert response.status_code == 200
    after = response.json()
    assert after == {**before, "fps": 15.0, "still_size": [640, 360]}
    assert admin.get(f"{BASE}/CAM_A/config").json() == after
    # a field that is invalid alone refuses the whole update
    response = admin.post(f"{BASE}/CAM_A/config", json={"resolution": "THE_9_P", "fps": 20})
    assert detail_locs(response) == [["body", "resolution"]]
    assert admin.get(f"{BASE}/CAM_A/config").json() == after
    assert detail_locs(admin.post(f"{BASE}/CAM_A/config", json={"resolution": "THE_400_P"}))
    mono = admin.post(f"{BASE}/CAM_C/config", json={"resolution": "THE_480_P"}).json()
    assert mono == {"resolution": "THE_480_P", "fps": 30.0}
    assert detail_locs(admin.post(f"{BASE}/CAM_C/config", json={"resolution": "THE_4_K"})) == [
        ["body", "resolution"]
    ]
    admin.post(f"{BASE}/CAM_C/config", json={"resolution": "THE_400_P"})
    for body in ({"fps": 0}, {"fps": 61}, {"video_size": [8, 8]}, {"resolution": [640]}):
        assert detail_locs(admin.post(f"{BASE}/DEPTH_B_C/config", json=body))
    generic = admin.post(f"{BASE}/DEPTH_B_C/config", json={"still_size": [320, 200]}).json()
    assert generic["still_size"] == [320, 200]
    assert generic["resolution"] == [640, 400]
    admin.post(f"{BASE}/DEPTH_B_C/config", json={"still_size": [640, 400]})


def test_shrinking_the_resolution_below_the_sizes_keeps_them(admin: httpx.Client) -> None:
    """As the vendor's server (Robopipe API ``SensorConfig.properties`` setter): the
    merged configuration is written as it is, with no rule across fields; camnet then
    scales the still up to ``still_size`` and the video window to ``video_size``."""
    before = admin.get(f"{BASE}/CAM_A/config").json()
    sizes = {"still_size": [1920, 1080], "video_size": [1920, 1080]}
    try:
        response = admin.post(f"{BASE}/CAM_A/config", json={**sizes, "resolution": "THE_720_P"})
        assert response.status_code == 200, response.text
        assert response.json() == {**before, **sizes, "resolution": "THE_720_P"}
        still = admin.get(f"{BASE}/CAM_A/still")
        image = decode(still.content)
        assert image.shape == (1080, 1920, 3)
        # The video: the whole 1280x720 sensor (the window cannot be larger), scaled.
        frame = decode(read_parts(admin, f"{BASE}/CAM_A/video", 1)[0])
        assert frame.shape == (1080, 1920, 3)
        assert 20 < frame.mean() < 235
    finally:
        admin.post(f"{BASE}/CAM_A/config", json=before)
    assert admin.get(f"{BASE}/CAM_A/config").json() == before


def _bounds() -> list[tuple[str, float, float]]:
    return [(f.name, f.minimum, f.maximum) for f in CONTROL_FIELDS if f.ranged]  # type: ignore[misc]


@pytest.fixture
def restore_cam_b(admin: httpx.Client) -> Iterator[None]:
    yield
    defaults = {f.name: f.default for f in CONTROL_FIELDS}
    assert admin.post(f"{BASE}/CAM_B/control", json=defaults).status_code == 200


@pytest.mark.parametrize(("field", "low", "high"), _bounds())
@pytest.mark.usefixtures("restore_cam_b")
def test_every_control_bound(admin: httpx.Client, field: str, low: int, high: int) -> None:
    url = f"{BASE}/CAM_B/control"
    for value in (low - 1, high + 1):
        assert detail_locs(admin.post(url, json={field: value})) == [["body", field]]
    for value in (low, high):
        response = admin.post(url, json={field: value})
        assert response.status_code == 200, response.text
        assert response.json()[field] == value
        assert admin.get(url).json()[field] == value


def test_lens_position_bounds(admin: httpx.Client) -> None:
    url = f"{BASE}/CAM_A/control"
    off = {"auto_focus_mode": "OFF"}
    for value in (-0.01, 1.01):
        locs = detail_locs(admin.post(url, json={"focus": {**off, "lens_position": value}}))
        assert locs == [["body", "focus", "lens_position"]]
    for value in (0.0, 1.0):
        response = admin.post(url, json={"focus": {**off, "lens_position": value}})
        assert response.status_code == 200
        assert response.json()["focus"]["lens_position"] == value
    admin.post(url, json={"focus": {"auto_focus_mode": "CONTINUOUS_VIDEO"}})


def test_control_shape_defaults_and_enums(admin: httpx.Client) -> None:
    control = admin.get(f"{BASE}/CAM_C/control").json()
    assert set(control) == {f.name for f in CONTROL_FIELDS} | {"focus"}
    assert control["focus"] is None
    assert control["exposure_time"] == 1
    assert control["sensitivity_iso"] == 850
    assert control["manual_whitebalance"] == 6500
    assert control["auto_whitebalance_mode"] == "AUTO"
    focus = admin.get(f"{BASE}/CAM_A/control").json()["focus"]
    assert set(focus) == {f.name for f in FOCUS_FIELDS}
    url = f"{BASE}/CAM_C/control"
    assert detail_locs(admin.post(url, json={"auto_whitebalance_mode": "SUNNY"})) == [
        ["body", "auto_whitebalance_mode"]
    ]
    assert detail_locs(admin.post(url, json={"focus": {"auto_focus_mode": "OFF"}})) == [
        ["body", "focus"]
    ]
    assert detail_locs(
        admin.post(f"{BASE}/CAM_A/control", json={"focus": {"auto_focus_mode": "X"}})
    )
    for mode in ("SHADE", "OFF", "AUTO"):
        response = admin.post(url, json={"auto_whitebalance_mode": mode})
        assert response.json()["auto_whitebalance_mode"] == mode


def test_control_update_merges_non_null_fields(admin: httpx.Client) -> None:
    url = f"{BASE}/CAM_C/control"
    admin.post(url, json={"contrast": 3, "brightness": -2})
    response = admin.post(url, json={"contrast": None, "saturation": 4})
    assert response.status_code == 200
    body = response.json()
    assert (body["contrast"], body["brightness"], body["saturation"]) == (3, -2, 4)
    # one bad field: nothing of the request is applied
    detail_locs(admin.post(url, json={"contrast": 5, "luma_denoise": 5}))
    assert admin.get(url).json()["contrast"] == 3
    admin.post(url, json={"contrast": 0, "brightness": 0, "saturation": 0})


def test_depth_control_is_the_pairs(admin: httpx.Client) -> None:
    response = admin.post(f"{BASE}/DEPTH_B_C/control", json={"luma_denoise": 2})
    assert response.status_code == 200
    for sensor in ("CAM_B", "CAM_C"):
        assert admin.get(f"{BASE}/{sensor}/control").json()["luma_denoise"] == 2
    admin.post(f"{BASE}/DEPTH_B_C/control", json={"luma_denoise": 0})


def test_autofocus_modes_move_the_lens(admin: httpx.Client) -> None:
    url = f"{BASE}/CAM_A/control"
    subject = admin.post(url, json={"focus": {"auto_focus_mode": "CONTINUOUS_VIDEO"}}).json()
    lens = subject["focus"]["lens_position"]
    assert 0.0 < lens < 0.2
    macro = admin.post(url, json={"focus": {"auto_focus_mode": "MACRO"}}).json()
    assert macro["focus"]["lens_position"] > 0.5
    auto = admin.post(url, json={"focus": {"auto_focus_mode": "AUTO", "lens_position": 0.9}})
    assert auto.json()["focus"]["lens_position"] == 0.9
    triggered = admin.post(url, json={"focus": {"auto_focus_trigger": True}}).json()
    assert triggered["focus"] == {
        "auto_focus_mode": "AUTO",
        "auto_focus_trigger": False,
        "lens_position": lens,
    }
    admin.post(url, json={"focus": {"auto_focus_mode": "CONTINUOUS_VIDEO"}})
