"""The blocking client against a real server: every area of the SDK."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from camnet.client import (
    ApiKey,
    Client,
    Conflict,
    NotFound,
    PreconditionFailed,
    ValidationError,
)
from tests.client.helpers import Setup, record_once, wait_until
from tests.fleet.receiver import Receiver


def test_state_get_and_set_all_or_nothing(setup: Setup) -> None:
    with setup.admin() as client:
        assert client.set(light0=True, gain=99) == {"light0": True, "gain": 42}
        assert client.get("light0", "gain") == {"light0": True, "gain": 42}
        assert "record" in client.get()
        with pytest.raises(ValidationError) as refused:
            client.set({"light0": False, "warpDrive": 9})
        assert refused.value.status == 400
        assert refused.value.code == "invalid_request"
        assert [p.key for p in refused.value.details] == ["warpDrive"]
        assert client.get("light0") == {"light0": True}  # nothing was applied


def test_watch_sees_a_change_made_elsewhere(setup: Setup) -> None:
    with setup.admin() as watcher, setup.admin() as writer:
        writer.set(light1=False)
        changes = watcher.watch()
        first = next(changes)
        assert first.initial
        assert first.values["light1"] is False
        writer.set(light1=True)
        change = next(c for c in changes if "light1" in c.values)
        assert change.values["light1"] is True
        assert not change.initial
        changes.close()


def test_snapshot_and_mjpeg_frames_as_numpy(setup: Setup) -> None:
    with setup.admin() as client:
        client.set(recordingResolution="HD")
        still = client.snapshot()
        assert still[:2] == b"\xff\xd8"
        assert client.snapshot_array().shape == (720, 1280, 3)
        frames = list(client.frames(limit=3))
        assert len(frames) == 3
        for frame in frames:
            picture = frame.array()
            assert picture.shape == (720, 1280, 3)
            assert picture.dtype == np.uint8
            assert frame.timestamp is not None
            assert abs(frame.timestamp - time.time()) < 60
        assert frames[0].timestamp < frames[2].timestamp  # type: ignore[operator]


def test_recordings_tags_and_download_with_resume(setup: Setup, tmp_path: Path) -> None:
    with setup.admin() as client:
        recording = record_once(client)
        assert client.recording(recording.id).file == recording.file
        assert recording.id in [r.id for r in client.recordings(sort="-start").items]
        assert recording.size is not None

        seen: list[tuple[int, int | None]] = []
        target = tmp_path / "whole.mkv"
        whole = client.download(recording.id, target, progress=lambda d, t: seen.append((d, t)))
        assert whole.size == recording.size
        assert whole.resumed_from == 0
        assert seen[-1] == (recording.size, recording.size)
        content = target.read_bytes()

        # An interrupted download left a part file: only the rest is fetched.
        resumed = tmp_path / "resumed.mkv"
        resumed.with_name("resumed.mkv.part").write_bytes(content[:1000])
        seen.clear()
        again = client.download(recording.id, resumed, progress=lambda d, t: seen.append((d, t)))
        assert again.resumed_from == 1000
        assert resumed.read_bytes() == content
        assert not resumed.with_name("resumed.mkv.part").exists()
        assert seen[-1][0] == recording.size

        tag = client.create_tag("door opened", note="north", creation_time=recording.start + 0.5)
        assert tag.title == "door opened"
        assert client.recording(recording.id).tagged
        with pytest.raises(Conflict) as tagged:
            client.delete_recording(recording.id)
        assert tagged.value.status == 409
        changed = client.update_tag(tag, title="door closed")
        assert changed.version == tag.version + 1
        with pytest.raises(PreconditionFailed):
            client.update_tag(tag, title="stale")  # read at the old version
        assert [t.title for t in client.tags().items if t.id == tag.id] == ["door closed"]
        client.delete_tag(tag.id, changed.version)
        with pytest.raises(NotFound):
            client.tag(tag.id)
        client.delete_recording(recording.id)
        with pytest.raises(NotFound) as gone:
            client.recording(recording.id)
        assert gone.value.dialect == "identity"
        assert gone.value.body["statusCode"] == 404


def test_devices_and_versioned_edit(setup: Setup) -> None:
    with Client(setup.url, ApiKey(setup.api_key)) as client:
        page = client.devices(sort="name")
        assert page.total >= 1
        unit = next(d for d in page.items if d.name.endswith("-C2"))
        assert unit.is_online
        device = client.device(unit.uuid)
        assert device.version is not None
        edited = client.update_device(unit.uuid, {"geo_city": "Basel"}, version=device.version)
        assert edited.geo_city == "Basel"
        with pytest.raises(PreconditionFailed) as stale:
            client.update_device(unit.uuid, {"geo_city": "Bern"}, version=device.version)
        assert stale.value.dialect == "fleet"
        assert stale.value.body["httpError"] == 412


def test_webhooks_and_their_delivery_log(setup: Setup) -> None:
    receiver = Receiver().start()
    try:
        with setup.admin() as client:
            unit = next(d for d in client.devices().items if d.name.endswith("-C2"))
            hook = client.create_webhook(receiver.url, device_uuid=unit.uuid, actions=["state"])
            assert hook.secret is not None
            assert hook.secret.startswith("whsec_")
            assert hook.id in [h.id for h in client.webhooks()]
            client.set(light0=not client.get("light0")["light0"])

            def delivered() -> bool:
                return any(d.response_code == 200 for d in client.deliveries(hook.id).items)

            wait_until(delivered, "a delivery of the state event")
            paused = client.update_webhook(hook.id, {"status": 0})
            assert paused.status == 0
            with pytest.raises(ValidationError) as bad:
                client.create_webhook("ftp://127.0.0.1/x")
            assert bad.value.status == 422
            assert bad.value.details  # the seed's error array
            client.delete_webhook(hook.id)
            assert hook.id not in [h.id for h in client.webhooks()]
    finally:
        receiver.stop()


def test_one_client_from_many_threads(setup: Setup) -> None:
    """httpx.Client is thread-safe; the token is obtained once and shared."""
    errors: list[BaseException] = []
    with setup.admin() as client:

        def work() -> None:
            try:
                for _ in range(5):
                    assert "record" in client.get("record")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
