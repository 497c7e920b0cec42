"""The asyncio client against a real server: the same areas as the blocking one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from camnet.client import (
    ApiKey,
    AsyncClient,
    AuthError,
    NotFound,
    Password,
    PreconditionFailed,
    ValidationError,
)
from tests.client.helpers import Setup, record_once


def admin(setup: Setup) -> AsyncClient:
    return AsyncClient(setup.url, Password("admin", setup.server.admin_password))


async def test_state_watch_and_concurrent_sign_in(setup: Setup) -> None:
    async with admin(setup) as client, admin(setup) as writer:
        answers = await asyncio.gather(*(client.get("light0") for _ in range(5)))
        assert all("light0" in a for a in answers)
        await writer.set(light0=False)
        changes = client.watch()
        first = await anext(changes)
        assert first.initial
        assert first.values["light0"] is False
        await writer.set(light0=True)
        async for change in changes:
            if "light0" in change.values:
                assert change.values["light0"] is True
                break
        await changes.aclose()
        with pytest.raises(ValidationError) as refused:
            await client.set(gain="loud")
        assert refused.value.details[0].key == "gain"


async def test_images_as_numpy(setup: Setup) -> None:
    async with admin(setup) as client:
        await client.set(recordingResolution="HD")
        assert (await client.snapshot_array()).shape == (720, 1280, 3)
        shapes = [frame.array().shape async for frame in client.frames(limit=2)]
        assert shapes == [(720, 1280, 3), (720, 1280, 3)]


async def test_recordings_tags_and_resumed_download(setup: Setup, tmp_path: Path) -> None:
    with setup.admin() as sync_client:
        recording = await asyncio.to_thread(record_once, sync_client)
    async with admin(setup) as client:
        assert (await client.recording(recording.id)).size == recording.size
        page = await client.recordings(kind="manual", per_page=5)
        assert recording.id in [r.id for r in page.items]
        target = tmp_path / "a.mkv"
        target.with_name("a.mkv.part").write_bytes(b"")
        whole = await client.download(recording.id, target)
        assert whole.size == recording.size
        content = target.read_bytes()
        target.with_name("b.mkv.part").write_bytes(content[:4096])
        resumed = await client.download(recording.id, tmp_path / "b.mkv")
        assert resumed.resumed_from == 4096
        assert (tmp_path / "b.mkv").read_bytes() == content
        tag = await client.create_tag("async tag")
        assert (await client.tag(tag.id)).title == "async tag"
        changed = await client.update_tag(tag, note="more")
        with pytest.raises(PreconditionFailed):
            await client.delete_tag(tag.id, tag.version)
        await client.delete_tag(tag.id, changed.version)
        with pytest.raises(NotFound):
            await client.tag(tag.id)


async def test_devices_webhooks_and_tokens(setup: Setup) -> None:
    async with AsyncClient(setup.url, ApiKey(setup.api_key)) as client:
        devices = await client.devices()
        unit = next(d for d in devices.items if d.name.endswith("-C2"))
        assert (await client.device(unit.uuid)).uuid == unit.uuid
        hook = await client.create_webhook("http://127.0.0.1:9/hook", actions=["tag"])
        assert hook.id in [h.id for h in await client.webhooks()]
        assert (await client.deliveries(hook.id)).total >= 0
        await client.delete_webhook(hook.id)
        assert await client.token() is None  # an API key is not exchanged
    async with admin(setup) as client:
        tokens = await client.token()
        assert tokens is not None
        verified = await client.verify_token()
        assert verified["userRef"] == "default:admin"
    async with AsyncClient(setup.url, Password("admin", "wrong-password")) as client:
        with pytest.raises(AuthError) as refused:
            await client.get("light0")
        assert refused.value.dialect == "oauth"
        assert refused.value.code == "invalid_grant"
