"""The recording service: gives the c2 recording variables their effect.

Writes of ``record``, the name variables, ``takePicture``/``jpeg``, ``createTag`` and
``backupActive`` are checked synchronously under the device lock (handlers registered
with ``SimulatedControlUnit.handle``); the effect follows the committed ``Update`` on
the bus, as the media service does. Storages are scanned every ``SCAN_INTERVAL``: the
scan is published as ``diskStorages``/``netStorages``, keeps the selections' descriptions
current, notices a removed medium and refreshes the Visual Backup's capacity variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from pathlib import Path
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.clock import Clock
from camnet.devices.device import Device, Staging, Write, WriteRefused
from camnet.devices.sim_control_unit import SimulatedControlUnit
from camnet.events import Event, EventJournal, EventKind, append_event, record_event
from camnet.media.service import MediaService
from camnet.recording import capacity, index, names, retention, tags
from camnet.recording.backup_index import BackupIndex
from camnet.recording.preroll import Preroll
from camnet.recording.recorder import RecordingRun, RunConfig, StorageFailure, storage_path
from camnet.recording.segments import probe
from camnet.recording.state_machine import IllegalTransition, RecordState, transition
from camnet.recording.storages import Storage, StorageScanner
from camnet.settings import Settings
from camnet.state.schema import JsonValue, Variable
from camnet.store.database import Database

log = logging.getLogger(__name__)

SCAN_INTERVAL: Final = 1.0
BACKUP_PREFIX: Final = "backup"


def _available(description: JsonValue) -> bool:
    return isinstance(description, dict) and bool(description.get("available"))


def _uuid(description: JsonValue) -> str:
    return str(description.get("uuid", "")) if isinstance(description, dict) else ""


class RecordingService:
    def __init__(
        self,
        settings: Settings,
        device: Device,
        behaviour: SimulatedControlUnit,
        media: MediaService,
        bus: Bus,
        database: Database,
        journal: EventJournal,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self.retention_deleted = 0
        """Backup segments retention deleted since start (read by /metrics)."""
        self._device = device
        self._media = media
        self._bus = bus
        self._database = database
        self._journal = journal
        self._clock = clock
        default = settings.recording_dirs if settings.storage_dirs is None else []
        self.scanner = StorageScanner(
            settings.recording_dirs,
            settings.removable_media_root,
            settings.net_storages,
            settings.storage_quota_bytes,
            create=default,
        )
        self.storages: dict[str, Storage] = {}
        self.manual: RecordingRun | None = None
        self.backup: RecordingRun | None = None
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._subscription: Subscription | None = None
        self._scanner_task: asyncio.Task[None] | None = None
        self._low: set[str] = set()
        self.backup_index = BackupIndex()
        self.preroll = Preroll(media.backup, settings.backup_preroll_seconds)
        self._manual_lock = asyncio.Lock()
        self._backup_lock = asyncio.Lock()
        """One lock per kind: a manual start never waits behind Visual Backup's retention."""
        self._picture_lock = asyncio.Lock()
        behaviour.handle(["record"], self._stage_record)
        behaviour.handle(names.NAME_VARIABLES, self._stage_name)
        behaviour.handle(["takePicture", "jpeg"], self._stage_picture)
        behaviour.handle(["createTag"], self._stage_tag)
        behaviour.handle(["backupActive"], self._stage_backup)

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        await self._database.run(self._read, self.backup_index.load)
        await self.scan()
        await self._recover()
        self._subscription = self._bus.subscribe(
            TopicFilter(
                type=MessageType.UPDATE,
                source=self._device.name,
                target=BROADCAST,
                name=state_name("*"),
            ),
            self._on_update,
        )
        self._scanner_task = asyncio.create_task(self._scan_loop(), name="camnet-storages")
        if self._device.state["backupActive"]:
            self._spawn(self._start_backup())

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        tasks = [t for t in (self._scanner_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.preroll.stop()
        for kind in list(self._runs):
            await self._end_run(kind)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("recording task failed", exc_info=task.exception())

    # --- storages ---------------------------------------------------------------------

    def storage(self, uuid: str) -> Storage | None:
        return self.storages.get(uuid)

    async def scan(self) -> None:
        """Scan the storages and publish what changed; stop runs on removed ones."""
        disks, nets = await asyncio.to_thread(self.scanner.scan)
        before = self.storages
        self.storages = {s.uuid: s for s in [*disks, *nets]}
        state = self._device.state
        values: dict[str, JsonValue] = {
            "diskStorages": [s.describe() for s in disks],
            "netStorages": [s.describe() for s in nets],
        }
        first = next((s for s in disks if s.available), None)
        for name in ("recordingStorage", "backupStorage"):
            uuid = _uuid(state[name])
            chosen = self.storages.get(uuid) if uuid else first
            if chosen is not None:
                values[name] = chosen.describe()
            elif uuid and isinstance(state[name], dict):
                values[name] = {**state[name], "available": False}
        await self._device.report(values)
        for uuid, old in before.items():
            new = self.storages.get(uuid)
            if old.available and (new is None or not new.available):
                await self._storage_event(uuid, "removed", 0)
                for kind, run in (("manual", self.manual), ("backup", self.backup)):
                    if run is not None and run.config.storage.uuid == uuid:
                        await self._fail(kind, StorageFailure("removed", f"storage {uuid} gone"))
        await self._report_capacity()
        self._want_preroll()

    def _want_preroll(self) -> None:
        """The pre-roll runs while backup is off and a tag could start it."""
        state = self._device.state
        storage = self.storages.get(_uuid(state["backupStorage"]))
        off = not state["backupActive"] and self.backup is None
        self.preroll.want(off and storage is not None and storage.available)

    async def _scan_loop(self) -> None:
        while True:
            await asyncio.sleep(SCAN_INTERVAL)
            try:
                await self.scan()
            except Exception:
                log.exception("scanning the storages failed")

    async def _storage_event(self, uuid: str, reason: str, free: int) -> None:
        await record_event(
            self._database,
            self._journal,
            Event(
                EventKind.STORAGE,
                self._device.name,
                self._clock.now(),
                {"storage": uuid, "reason": reason, "free": free},
            ),
        )

    # --- write handlers (sync, under the device lock) -----------------------------------

    def _stage_record(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        current = RecordState(str(staging["record"]))
        try:
            after = transition(current, RecordState(str(value)))
        except IllegalTransition as exc:
            raise WriteRefused("record", str(exc)) from None
        usable = _available(staging["recordingStorage"])
        if current is RecordState.STOP and after.recording and not usable:
            staging.notify("record", "no recording storage is available; recording stays stopped")
            after = RecordState.STOP
        staging.set("record", after.value)

    def _stage_name(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        problem = names.problem(str(value))
        if problem is not None:
            raise WriteRefused(variable.name, problem)
        staging.set(variable.name, value)

    def _stage_picture(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        if not value:
            return
        if not _available(staging["recordingStorage"]):
            staging.notify(variable.name, "no recording storage is available; no picture taken")
            return
        self._spawn(self.take_picture())

    def _stage_tag(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        body = value if isinstance(value, dict) else {}
        try:
            moment = tags.parse_time(body.get("creationTime"))
            title = tags.text(body.get("title"), "title", 255)
            note = tags.text(body.get("note"), "note", 4000)
        except tags.TagError as exc:
            raise WriteRefused("createTag", str(exc)) from None
        if moment is None and not staging["backupActive"]:
            if _available(staging["backupStorage"]):
                staging.set("backupActive", True)
                reason = self.preroll.hold()
                if reason is not None:
                    staging.notify("createTag", f"the tag is in no recording: {reason}")
            else:
                staging.notify(
                    "createTag",
                    "no backup storage is available; Visual Backup is off, so no recording "
                    "holds the tag",
                )
        when = self._clock.now() if moment is None else moment
        self._spawn(self.create_tag(when, title, note))

    def _stage_backup(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        if value and not _available(staging["backupStorage"]):
            staging.notify("backupActive", "no backup storage is available; Visual Backup is off")
            value = False
        staging.set("backupActive", value)

    # --- effects, following the committed Updates ------------------------------------

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name == "record":
            self._spawn(self._apply_record(RecordState(str(envelope.message.value))))
        elif name == "backupActive":
            if envelope.message.value:
                self.preroll.hold()  # a direct start begins with the pre-roll too
            self._spawn(self._start_backup() if envelope.message.value else self._backup_off())
        elif name in ("backupUseCompleteSpace", "backupMaximumRecordingTimeCapacity"):
            self._spawn(self._report_capacity())

    async def _apply_record(self, state: RecordState) -> None:
        async with self._manual_lock:
            if state is RecordState.STOP:
                await self._end_run("manual")
                return
            if self.manual is None:
                storage = self.storages.get(_uuid(self._device.state["recordingStorage"]))
                if storage is None or not storage.available:
                    await self._device.report({"record": "stop"})
                    await self._device.notify("record", "the recording storage is not usable")
                    return
                state_now = self._device.state

                def name(epoch: float) -> str:
                    return names.file_name(
                        str(state_now["changeVideoName"]),
                        epoch,
                        str(state_now["changePostName"]),
                        "mkv",
                    )

                self.manual = self._begin(
                    "manual",
                    RunConfig(
                        "manual", storage, self._settings.segment_seconds, name, self._device.name
                    ),
                    self._media.live,
                    None,
                )
            self.manual.paused = state is RecordState.PAUSE

    def _begin(
        self, kind: str, config: RunConfig, hub: Any, on_split: Any, preroll: Any = None
    ) -> RecordingRun:
        run = RecordingRun(
            config,
            hub,
            self._database,
            self._journal,
            self._clock,
            on_split=on_split,
            on_indexed=self._indexed,
            preroll=preroll,
        )
        task = asyncio.create_task(self._supervise(kind, run), name=f"camnet-record-{kind}")
        self._runs[kind] = task
        return run

    def _indexed(self, recording: index.Recording) -> None:
        """A segment's row was completed (on the database thread, after the commit)."""
        if recording.kind == "backup" and not recording.open:
            self.backup_index.closed(
                recording.storage, recording.id, recording.start, recording.end, recording.size
            )

    async def _supervise(self, kind: str, run: RecordingRun) -> None:
        try:
            await run.run()
        except StorageFailure as failure:
            await self._fail(kind, failure, ended=True)

    async def _end_run(self, kind: str) -> None:
        task = self._runs.pop(kind, None)
        if kind == "manual":
            self.manual = None
        else:
            self.backup = None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if kind == "backup":
            await self._report_capacity()

    async def _fail(self, kind: str, failure: StorageFailure, ended: bool = False) -> None:
        run = self.manual if kind == "manual" else self.backup
        if run is None:
            return
        uuid = run.config.storage.uuid
        log.warning("%s recording stopped: %s", kind, failure)
        if not ended:
            await self._end_run(kind)
        else:
            self._runs.pop(kind, None)
            if kind == "manual":
                self.manual = None
            else:
                self.backup = None
        storage = self.storages.get(uuid)
        if failure.reason == "full":
            await self._storage_event(uuid, "full", storage.free if storage else 0)
        elif failure.reason == "removed" and storage is not None and storage.available:
            # The writer saw it go before the scan did: it has no free space for
            # anyone now, and the next scan must not announce the removal twice.
            self.storages[uuid] = dataclasses.replace(storage, available=False, free=0)
            await self._storage_event(uuid, "removed", 0)
        elif storage is not None and storage.available:
            await self._storage_event(uuid, failure.reason, storage.free)
        if kind == "manual":
            await self._device.report({"record": "stop"})
            await self._device.notify("record", f"recording stopped: {failure.detail}")
        else:
            await self._set_backup_off(f"Visual Backup stopped: {failure.detail}")

    async def _backup_off(self) -> None:
        await self._end_run("backup")
        self.preroll.release()
        self._want_preroll()

    async def _set_backup_off(self, message: str) -> None:
        self.preroll.release()
        variable = self._device.schema["backupActive"]
        await self._device.execute([Write(variable, False)])
        await self._device.notify("backupActive", message)

    # --- Visual Backup --------------------------------------------------------------------

    def _backup_settings(self) -> capacity.Settings:
        config = self._media.backup.config
        return capacity.Settings(config.width, config.height, config.fps, config.quality)

    async def _policy(self) -> retention.Policy:
        calibration = await self._database.run(self._read, index.load_calibration)
        state = self._device.state
        return retention.Policy(
            bytes_per_second=capacity.rate(self._backup_settings(), calibration),
            use_complete_space=bool(state["backupUseCompleteSpace"]),
            max_hours=float(state["backupMaximumRecordingTimeCapacity"]),
        )

    def _read(self, fn: Any, *args: Any) -> Any:
        with self._database.engine.connect() as connection:
            return fn(connection, *args)

    async def apply_retention(self, storage: Storage) -> retention.Decision:
        """The seed's deletion algorithm on ``storage``; files go after their index rows."""
        fresh = await asyncio.to_thread(self.scanner.scan)
        current = next((s for s in [*fresh[0], *fresh[1]] if s.uuid == storage.uuid), storage)
        policy = await self._policy()

        def decide() -> retention.Decision:
            # On the database thread: the copy is exactly the committed index here.
            segments = self.backup_index.segments(storage.uuid)
            return retention.decide(segments, current.free, policy)

        decision = await self._database.run(decide)
        if decision.delete:
            ids = list(decision.delete)

            def remove() -> list[tuple[int, str, str]]:
                with self._database.engine.begin() as connection:
                    files = index.delete_untagged(connection, ids)
                self.backup_index.deleted(id_ for id_, _, _ in files)
                return files

            files = await self._database.run(remove)
            await asyncio.to_thread(self._unlink, current, [f for _, _, f in files])
            self.retention_deleted += len(files)
            log.info("Visual Backup deleted %d segments on %s", len(ids), storage.uuid)
        return decision

    @staticmethod
    def _unlink(storage: Storage, files: list[str]) -> None:
        for file in files:
            with contextlib.suppress(OSError):
                storage_path(storage, file).unlink(missing_ok=True)

    async def _start_backup(self) -> None:
        async with self._backup_lock:
            if self.backup is not None:
                return
            storage = self.storages.get(_uuid(self._device.state["backupStorage"]))
            if storage is None or not storage.available:
                await self._set_backup_off("the backup storage is not usable; Visual Backup is off")
                return
            decision = await self.apply_retention(storage)
            if not decision.enough:
                await self._report_capacity()
                await self._set_backup_off(
                    "less than one hour of recording time is available on the backup storage "
                    "and not enough can be freed; Visual Backup is off"
                )
                return
            state = self._device.state

            def name(epoch: float) -> str:
                return names.file_name(
                    BACKUP_PREFIX, epoch, str(state["changeBackupPostName"]), "mkv"
                )

            async def split() -> float:
                decision = await self.apply_retention(storage)
                await self._report_capacity()
                return decision.free_bytes

            self.backup = self._begin(
                "backup",
                RunConfig(
                    "backup", storage, self._settings.segment_seconds, name, self._device.name
                ),
                self._media.backup,
                split,
                self.preroll.take,
            )
        await self._report_capacity()

    async def _report_capacity(self) -> None:
        storage = self.storages.get(_uuid(self._device.state["backupStorage"]))
        if storage is None or not storage.available:
            await self._device.report(capacity.BackupCapacity(0, 0, 0).variables())
            return
        policy = await self._policy()
        stored, deletable = await self._database.run(self.backup_index.durations, storage.uuid)
        remaining = capacity.seconds_for(storage.free, policy.bytes_per_second)
        result = capacity.BackupCapacity(
            remaining_seconds=remaining, deletable_seconds=deletable, stored_seconds=stored
        )
        await self._device.report(result.variables())
        if remaining < retention.RESERVE_SECONDS and self.backup is not None:
            if storage.uuid not in self._low:
                self._low.add(storage.uuid)
                await self._storage_event(storage.uuid, "low", storage.free)
        else:
            self._low.discard(storage.uuid)

    # --- pictures and tags ----------------------------------------------------------------

    async def take_picture(self) -> None:
        async with self._picture_lock:
            await self._take_picture()

    async def _take_picture(self) -> None:
        storage = self.storages.get(_uuid(self._device.state["recordingStorage"]))
        if storage is None or not storage.available:
            await self._device.notify("takePicture", "the recording storage is not usable")
            return
        frame = await self._media.live.snapshot()
        state = self._device.state
        epoch = self._clock.now()
        name = names.file_name(
            str(state["changeImageName"]), epoch, str(state["changePostName"]), "jpg"
        )
        path = storage_path(storage, name)
        counter = 1
        while await asyncio.to_thread(path.exists):
            name = f"{name.removesuffix('.jpg')}-{counter}.jpg"
            path = storage_path(storage, name)
            counter += 1
        try:
            await asyncio.to_thread(_write_file, path, frame.jpeg)
        except OSError as exc:
            await self._device.notify("takePicture", f"the picture could not be written: {exc}")
            return
        await record_event(
            self._database,
            self._journal,
            Event(
                EventKind.IMAGE, self._device.name, epoch, {"file": name, "storage": storage.uuid}
            ),
        )

    async def create_tag(self, when: float, title: str, note: str) -> index.Tag:
        def write() -> tuple[index.Tag, Any]:
            with self._database.engine.begin() as connection:
                tag = index.create_tag(connection, when, title, note, self._clock.now())
                stored = append_event(
                    connection,
                    Event(
                        EventKind.TAG,
                        self._device.name,
                        self._clock.now(),
                        {"action": "created", "tag": tag.to_json()},
                    ),
                )
            self.backup_index.tag_added(tag.time)
            return tag, stored

        tag, stored = await self._database.run(write)
        await self._journal.announce(stored)
        self._spawn(self._report_capacity())
        return tag

    def now(self) -> float:
        return self._clock.now()

    async def tag_now(self, title: str, note: str) -> tuple[index.Tag, str | None]:
        """A tag at this moment, as ``createTag`` without ``creationTime``: it starts Visual
        Backup when off. Also says why no recording will hold it, when none will."""
        when = self._clock.now()
        reason: str | None = None
        if not self._device.state["backupActive"]:
            reason = self.preroll.hold()
            variable = self._device.schema["backupActive"]
            if not (await self._device.execute([Write(variable, True)]))["backupActive"]:
                self.preroll.release()
                reason = "no backup storage is available; Visual Backup is off"
        return await self.create_tag(when, title, note), reason

    async def coverage(self, when: float) -> str | None:
        """None when a recording (closed, or being written) holds ``when``; else why not."""
        if await self._database.run(self._read, index.covering, when):
            return None
        return "no recording holds this moment"

    async def change_tag(
        self, tag: index.Tag, when: float, title: str, note: str
    ) -> index.Tag | None:
        def write() -> index.Tag | None:
            with self._database.engine.begin() as connection:
                changed = index.change_tag(connection, tag.id, tag.version, when, title, note)
            if changed is not None:
                self.backup_index.tag_removed(tag.time)
                self.backup_index.tag_added(changed.time)
            return changed

        changed = await self._database.run(write)
        self._spawn(self._report_capacity())
        return changed

    async def delete_tag(self, tag: index.Tag) -> None:
        def write() -> Any:
            with self._database.engine.begin() as connection:
                index.delete_tag(connection, tag.id)
                stored = append_event(
                    connection,
                    Event(
                        EventKind.TAG,
                        self._device.name,
                        self._clock.now(),
                        {"action": "deleted", "tag": tag.to_json()},
                    ),
                )
            self.backup_index.tag_removed(tag.time)
            return stored

        await self._journal.announce(await self._database.run(write))
        self._spawn(self._report_capacity())

    async def delete_recording(self, recording: index.Recording) -> None:
        def write() -> None:
            with self._database.engine.begin() as connection:
                index.delete_recordings(connection, [recording.id])
            self.backup_index.deleted([recording.id])

        await self._database.run(write)
        storage = self.storages.get(recording.storage)
        if storage is not None:
            await asyncio.to_thread(self._unlink, storage, [recording.file])

    def file_of(self, recording: index.Recording) -> Path | None:
        storage = self.storages.get(recording.storage)
        if storage is None or not storage.available:
            return None
        return storage_path(storage, recording.file)

    # --- recovery after a kill ----------------------------------------------------------

    async def _recover(self) -> None:
        """Complete the rows of files cut off by a kill; drop rows whose files are gone."""
        rows = await self._database.run(self._read, index.open_segments)
        for row in rows:
            storage = self.storages.get(row.storage)
            if storage is None or not storage.available:
                continue
            path = storage_path(storage, row.file)
            found = await asyncio.to_thread(probe, path) if path.exists() else None

            def complete(found: Any = found, row: index.Recording = row) -> Any:
                with self._database.engine.begin() as connection:
                    if found is None or found.frames == 0:
                        index.delete_recordings(connection, [row.id])
                        return None
                    end = row.start + found.duration + 1.0 / max(1, row.fps)
                    closed = index.close_segment(connection, row.id, end, found.size, found.frames)
                    assert closed is not None
                    stored = append_event(
                        connection,
                        Event(
                            EventKind.RECORDING,
                            self._device.name,
                            self._clock.now(),
                            {"recording": closed.to_json()},
                        ),
                    )
                self._indexed(closed)
                return stored

            stored = await self._database.run(complete)
            if stored is None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            else:
                await self._journal.announce(stored)
            log.info("recovered segment %s after an interrupted run", row.file)
        for storage in self.storages.values():
            if not storage.available:
                continue
            known = await self._database.run(self._read, index.recordings_on, storage.uuid)
            missing = [
                r.id
                for r in known
                if not await asyncio.to_thread(storage_path(storage, r.file).exists)
            ]
            if missing:

                def drop(ids: list[int] = missing) -> None:
                    with self._database.engine.begin() as connection:
                        index.delete_recordings(connection, ids)
                    self.backup_index.deleted(ids)

                await self._database.run(drop)


def _write_file(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
