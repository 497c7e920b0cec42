"""kill -9 during recording: closed segments play, the cut one plays to its last second."""

from __future__ import annotations

import time
from pathlib import Path

from tests.recording.helpers import decoded_frames, wait_for
from tests.support import ServerProcess


def test_kill_during_recording_loses_at_most_a_second(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env={"CAMNET_SEGMENT_SECONDS": "2"}).start()
    try:
        with server.client(auth=("admin", server.admin_password)) as api:
            # At a given time: a tag "now" would also start Visual Backup (as c2's createTag).
            created = api.post(
                "/data/tags", json={"title": "before the crash", "creationTime": time.time()}
            )
            assert created.status_code == 201
            assert api.get("/api", params={"record": "start"}).json() == {"record": "start"}
            time.sleep(5.2)
            killed_at = time.time()
        server.kill()
        storage = tmp_path / "storage"
        cut = max(storage.glob("*.mkv"), key=lambda p: p.stat().st_mtime)
        server.start()
        with server.client(auth=("admin", server.admin_password)) as api:
            page = api.get("/data/recordings", params={"perPage": 100, "sort": "start"}).json()
            items = page["recordings"]
            assert len(items) >= 3
            assert {i["file"] for i in items} == {p.name for p in storage.glob("*.mkv")}
            for item in items:
                assert not item["open"]
                assert decoded_frames(storage / item["file"]) == item["frames"] > 0
                assert (storage / item["file"]).stat().st_size == item["size"]
            last = next(i for i in items if i["file"] == cut.name)
            # The interrupted segment plays to within a second of the kill.
            assert killed_at - last["end"] <= 1.0
            tags = api.get("/data/tags").json()["tags"]
            assert [t["title"] for t in tags] == ["before the crash"]
            wait_for(
                lambda: api.get("/api", params={"get": "[record]"}).json() == {"record": "stop"}
            )
    finally:
        server.stop()
