"""The recordings' index and tags on PostgreSQL: a manual recording made by a server with
``db=postgresql://…`` is indexed there, and a restarted server lists it and its tag."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from camnet.store.database import postgres_engine
from tests.inprocess import inprocess_server
from tests.recording.helpers import decoded_frames, wait_for

SETTINGS = {"segment_seconds": 2, "stereo_cameras": [], "second_head": False}


def test_recordings_and_tags_are_indexed_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path, db=pg_url, machine_name="pgrec", **SETTINGS) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        assert api.get("/api", params={"changeVideoName": "pgcell"}).status_code == 200
        assert api.get("/api", params={"record": "start"}).json() == {"record": "start"}
        time.sleep(2.5)
        # At a given moment: a tag "now" would also start Visual Backup (as createTag).
        tag = api.post("/data/tags", json={"title": "in postgres", "creationTime": time.time()})
        assert tag.status_code == 201, tag.text
        assert api.get("/api", params={"record": "stop"}).json() == {"record": "stop"}
        page = wait_for(
            lambda: (
                (body := api.get("/data/recordings").json())["meta"]["totalCount"] >= 1
                and all(not r["open"] for r in body["recordings"])
                and body
            ),
            what="closed recordings",
        )
    engine = postgres_engine(pg_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text('SELECT file, size, frames, "open" FROM recordings ORDER BY id')
            ).all()
            titles = connection.execute(text("SELECT title FROM tags")).scalars().all()
    finally:
        engine.dispose()
    assert sorted(row.file for row in rows) == sorted(item["file"] for item in page["recordings"])
    for row in rows:
        assert row.open is False
        assert row.file.startswith("pgcell_")
        assert (tmp_path / "storage" / row.file).stat().st_size == row.size
        assert decoded_frames(tmp_path / "storage" / row.file) == row.frames > 0
    assert titles == ["in postgres"]
    with (
        inprocess_server(tmp_path, db=pg_url, machine_name="pgrec", **SETTINGS) as again,
        again.client(auth=("admin", again.admin_password)) as api,
    ):
        listed = api.get("/data/recordings").json()["recordings"]
        assert sorted(item["file"] for item in listed) == sorted(row.file for row in rows)
        assert [t["title"] for t in api.get("/data/tags").json()["tags"]] == ["in postgres"]
