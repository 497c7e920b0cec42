"""A tag made "now" is inside a protected recording (the pre-roll), on a real server with
the real clock; without a pre-roll the answer says why no recording holds it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.recording.helpers import state, wait_for
from tests.support import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path, env={"CAMNET_SECOND_HEAD": "false", "CAMNET_BACKUP_PREROLL_SECONDS": "2"}
    )
    process.start()
    yield process
    process.stop()


def _closed_backup(api: httpx.Client) -> list[dict[str, Any]]:
    """Stop Visual Backup and wait until its segments are closed and indexed."""
    assert api.post("/api", json={"backupActive": False}).json() == {"backupActive": False}

    def closed() -> list[dict[str, Any]] | None:
        listing = api.get("/data/recordings", params={"withKind": "backup"}).json()
        found: list[dict[str, Any]] = listing["recordings"]
        return found if found and not any(r["open"] for r in found) else None

    result: list[dict[str, Any]] = wait_for(closed, what="closed backup segments")
    return result


def _holding(recordings: list[dict[str, Any]], moment: float) -> list[dict[str, Any]]:
    return [r for r in recordings if r["start"] <= moment <= r["end"]]


def _preroll_running(api: httpx.Client) -> None:
    """The pre-roll is fed from the backup hub once it runs: wait for its frames."""

    def running() -> bool:
        status = api.get("/media/status").json()["streams"]["backup"]
        return bool(status["running"]) and status["published"] > 10

    wait_for(running, what="the pre-roll capturing")


def test_c2_tag_now_starts_backup_and_its_segment_holds_the_tag(server: ServerProcess) -> None:
    with server.client(auth=("admin", server.admin_password)) as api:
        _preroll_running(api)
        answer = api.post("/api", json={"createTag": {"title": "door opened"}})
        assert answer.status_code == 200, answer.text
        assert state(api, "backupActive") == {"backupActive": True}
        wait_for(
            lambda: api.get("/data/recordings", params={"withKind": "backup"}).json()["recordings"],
            what="a backup segment",
        )
        recordings = _closed_backup(api)
        tag = api.get("/data/tags").json()["tags"][0]
        assert tag["title"] == "door opened"
        holding = _holding(recordings, tag["creationTime"])
        assert holding, (tag, recordings)
        assert all(r["tagged"] for r in holding)
        assert api.get("/data/recordings", params={"withTagged": "true"}).json()["recordings"]


def test_gallery_tag_now_answers_in_recording_and_is_held(server: ServerProcess) -> None:
    with server.client(auth=("admin", server.admin_password)) as api:
        _preroll_running(api)
        created = api.post("/data/tags", json={"title": "now"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["inRecording"] is True
        assert "reason" not in body
        assert state(api, "backupActive") == {"backupActive": True}
        wait_for(
            lambda: api.get("/data/recordings", params={"withKind": "backup"}).json()["recordings"],
            what="a backup segment",
        )
        recordings = _closed_backup(api)
        holding = _holding(recordings, body["creationTime"])
        assert holding, (body, recordings)
        assert all(r["tagged"] for r in holding)
        # A moment no recording holds is answered with why.
        past = api.post("/data/tags", json={"creationTime": 1_000_000, "title": "old"})
        assert past.status_code == 201
        assert past.json()["inRecording"] is False
        assert past.json()["reason"] == "no recording holds this moment"


def test_without_preroll_the_answer_says_why(tmp_path: Path) -> None:
    process = ServerProcess(
        tmp_path, env={"CAMNET_SECOND_HEAD": "false", "CAMNET_BACKUP_PREROLL_SECONDS": "0"}
    )
    process.start()
    try:
        with process.client(auth=("admin", process.admin_password)) as api:
            status = api.get("/media/status").json()["streams"]["backup"]
            assert not status["running"]  # no pre-roll: nothing captured while backup is off
            created = api.post("/data/tags", json={"title": "now"}).json()
            assert created["inRecording"] is False
            assert "backup_preroll_seconds is 0" in created["reason"]
            assert state(api, "backupActive") == {"backupActive": True}
    finally:
        process.stop()
