"""Visual Backup retention on a small configured storage quota (no real full disk)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from camnet.store import tables
from camnet.store.database import Database
from tests.inprocess import inprocess_server
from tests.recording.helpers import state, wait_for

SEGMENT = 600_000
RATE = 1000.0  # bytes per second: one hour is 3.6 MB


def seed(data_dir: Path, count: int, seconds: float, tagged: set[int]) -> tuple[str, list[str]]:
    """Earlier backup segments on the default storage, a calibration, tags."""
    storage = data_dir / "storage"
    storage.mkdir(parents=True)
    storage_id = str(uuid.uuid4())
    (storage / ".camnet-storage").write_text(json.dumps({"uuid": storage_id}))
    database = Database.open_sqlite(data_dir / "camnet.sqlite3")
    start = time.time() - 100_000
    files = []
    try:
        with database.engine.begin() as connection:
            for key in ("1920x1080@15q75", "1280x720@15q75"):
                connection.execute(
                    insert(tables.recording_calibration).values(
                        settings=key, bytes=RATE * 3600, seconds=3600
                    )
                )
            for i in range(count):
                name = f"backup_old_{i:02d}.mkv"
                (storage / name).write_bytes(b"\0" * SEGMENT)
                files.append(name)
                begin = start + i * seconds
                connection.execute(
                    insert(tables.recordings).values(
                        kind="backup", storage=storage_id, file=name, start=begin,
                        end=begin + seconds, size=SEGMENT, frames=1, width=1920, height=1080,
                        fps=15, quality=75, open=False, version=2,
                    )
                )  # fmt: skip
                if i in tagged:
                    connection.execute(
                        insert(tables.tags).values(
                            time=begin + seconds / 2, title="keep", note="", created=begin,
                            version=1,
                        )
                    )  # fmt: skip
    finally:
        database.close()
    return storage_id, files


def old_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "storage").glob("backup_old_*.mkv")}


def test_deletes_oldest_untagged_at_start_and_at_each_split(tmp_path: Path) -> None:
    _, files = seed(tmp_path, 10, 60, tagged={1})
    # 6 MB used of 9.3 MB: 3.3 MB free is less than an hour, one segment frees enough.
    with (
        inprocess_server(tmp_path, storage_quota_bytes=9_300_000, segment_seconds=1) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        assert api.post("/api", json={"backupActive": True}).json() == {"backupActive": True}
        wait_for(lambda: files[0] not in old_files(tmp_path), what="deletion at start")
        assert set(files[1:]) <= old_files(tmp_path) | {files[2]}
        # Each split writes new video, so later splits must delete further, oldest first.
        wait_for(lambda: files[3] not in old_files(tmp_path), timeout=30, what="split deletes")
        left = old_files(tmp_path)
        assert files[1] in left  # tagged: never deleted
        assert files[2] not in left
        kept = [f for f in files if f in left]
        assert kept == [files[1], *files[files.index(kept[1]) :]]
        assert api.post("/api", json={"backupActive": False}).status_code == 200
        listing = api.get("/data/recordings", params={"withKind": "backup", "perPage": 100})
        indexed = {r["file"] for r in listing.json()["recordings"]}
        assert {f for f in files if f in old_files(tmp_path)} == {
            f for f in indexed if f.startswith("backup_old_")
        }
        tagged = api.get("/data/recordings", params={"withTagged": "true"}).json()
        assert [r["file"] for r in tagged["recordings"]] == [files[1]]
        deleted = api.delete(f"/data/recordings/{tagged['recordings'][0]['id']}")
        assert deleted.status_code == 409


def test_maximum_hours_rule(tmp_path: Path) -> None:
    _, files = seed(tmp_path, 10, 900, tagged={1})  # 2.5 h recorded, 1 h allowed
    with (
        inprocess_server(tmp_path, storage_quota_bytes=1_000_000_000) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        api.post("/api", json={"backupUseCompleteSpace": False})
        api.post("/api", json={"backupMaximumRecordingTimeCapacity": 1})
        api.post("/api", json={"backupActive": True})
        wait_for(lambda: files[6] not in old_files(tmp_path), what="max-hours deletion")
        assert old_files(tmp_path) == {files[1], files[7], files[8], files[9]}


def test_refuses_to_start_without_an_hour_that_can_be_freed(tmp_path: Path) -> None:
    seed(tmp_path, 5, 60, tagged={0, 1, 2, 3, 4})
    with (
        inprocess_server(tmp_path, storage_quota_bytes=4_000_000) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        api.post("/api", json={"backupActive": True})
        wait_for(lambda: state(api, "backupActive") == {"backupActive": False}, what="refusal")
        time.sleep(1.5)
        assert state(api, "backupActive") == {"backupActive": False}
        assert len(old_files(tmp_path)) == 5
        capacity = state(api, "backupRemainingCapacitySeconds", "backupFileCapacity")
        assert int(capacity["backupRemainingCapacitySeconds"]) < 3600
        assert capacity["backupFileCapacity"] == "0:00h"
