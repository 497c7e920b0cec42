"""Manual recording through the c2 API, seen through the gallery and on disk."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from camnet.events import EventKind
from tests.inprocess import inprocess_server
from tests.recording.helpers import decoded_frames, journal, state, wait_for


def test_record_start_stop_plays_and_is_indexed(tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path, segment_seconds=2) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        assert api.get("/api", params={"changeVideoName": "cell3"}).status_code == 200
        assert api.get("/api", params={"record": "start"}).json() == {"record": "start"}
        time.sleep(2.5)
        assert api.get("/api", params={"record": "pause"}).json() == {"record": "pause"}
        assert api.get("/api", params={"record": "release"}).json() == {"record": "release"}
        time.sleep(0.5)
        assert api.get("/api", params={"record": "stop"}).json() == {"record": "stop"}
        page = wait_for(
            lambda: (
                (body := api.get("/data/recordings").json())["meta"]["totalCount"] >= 2
                and all(not r["open"] for r in body["recordings"])
                and body
            ),
            what="closed recordings",
        )
        storage_dir = tmp_path / "storage"
        for item in page["recordings"]:
            assert item["kind"] == "manual"
            assert item["file"].startswith("cell3_")
            path = storage_dir / item["file"]
            assert path.stat().st_size == item["size"]
            assert decoded_frames(path) == item["frames"] > 0
        first = page["recordings"][0]
        body = api.get(f"/data/recordings/{first['id']}/file", headers={"Range": "bytes=10-109"})
        assert body.status_code == 206
        assert body.headers["content-range"] == f"bytes 10-109/{first['size']}"
        assert body.content == (storage_dir / first["file"]).read_bytes()[10:110]
        tail = api.get(f"/data/recordings/{first['id']}/file", headers={"Range": "bytes=-50"})
        assert tail.content == (storage_dir / first["file"]).read_bytes()[-50:]
        bad = api.get(f"/data/recordings/{first['id']}/file", headers={"Range": "bytes=999999999-"})
        assert bad.status_code == 416
        assert bad.headers["content-range"] == f"bytes */{first['size']}"
    kinds = [e.event.kind for e in journal(tmp_path)]
    assert kinds.count(EventKind.RECORDING) == page["meta"]["totalCount"]


@pytest.mark.parametrize(
    "name", ["changeVideoName", "changeImageName", "changePostName", "changeBackupPostName"]
)
@pytest.mark.parametrize("value", ["../../etc/x", "a/b", "..\\x", "bad\x01name"])
def test_path_traversal_refused_in_every_name_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    with (
        inprocess_server(tmp_path) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        response = api.post("/api", json={name: value, "light0": True})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "refused"
        assert state(api, name, "light0") == {name: "", "light0": False}


def test_take_picture_writes_a_jpeg_named_from_the_variables(tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        api.post("/api", json={"changeImageName": "shot", "changePostName": "left"})
        assert api.post("/api", json={"takePicture": True}).status_code == 200
        assert api.post("/api", json={"jpeg": True}).status_code == 200
        pictures = wait_for(
            lambda: (
                len(found := sorted((tmp_path / "storage").glob("shot_*_left*.jpg"))) == 2 and found
            ),
            what="two pictures",
        )
        assert all(p.read_bytes()[:2] == b"\xff\xd8" for p in pictures)
    images = [e for e in journal(tmp_path) if e.event.kind is EventKind.IMAGE]
    assert {e.event.payload["file"] for e in images} == {p.name for p in pictures}


def test_start_without_usable_storage_stays_stopped(tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path, storage_dirs=[tmp_path / "absent"]) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        assert api.get("/api", params={"record": "start"}).json() == {"record": "stop"}
        assert api.get("/api", params={"record": "pause"}).status_code == 400


def test_storage_full_mid_recording_stops_with_an_event(tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path, storage_quota_bytes=3_000_000) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        assert api.get("/api", params={"record": "start"}).json() == {"record": "start"}
        wait_for(lambda: state(api, "record")["record"] == "stop", what="record stop")
        page = wait_for(
            lambda: (body := api.get("/data/recordings").json())["recordings"] and body,
            what="the recording",
        )
        for item in page["recordings"]:
            assert not item["open"]
            assert decoded_frames(tmp_path / "storage" / item["file"]) == item["frames"]
        assert api.get("/api", params={"get": "[record]"}).status_code == 200
    storage = [e.event.payload for e in journal(tmp_path) if e.event.kind is EventKind.STORAGE]
    assert any(p["reason"] == "full" for p in storage)


def test_storage_removed_mid_recording_stops_with_an_event(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "stick").mkdir(parents=True)
    with (
        inprocess_server(tmp_path, removable_media_root=media) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        disks = wait_for(
            lambda: (
                len(state(api, "diskStorages")["diskStorages"]) == 2
                and state(api, "diskStorages")["diskStorages"]
            )
        )
        stick = next(d for d in disks if d["type"] == "removable")
        assert api.post("/api", json={"recordingStorage": stick["uuid"]}).status_code == 200
        assert api.get("/api", params={"record": "start"}).json() == {"record": "start"}
        time.sleep(1.0)
        shutil.rmtree(media / "stick")
        wait_for(lambda: state(api, "record")["record"] == "stop", what="record stop")
        assert api.get("/data/recordings").status_code == 200
    storage = [e.event.payload for e in journal(tmp_path) if e.event.kind is EventKind.STORAGE]
    assert {"storage": stick["uuid"], "reason": "removed", "free": 0} in storage
