"""Image requests: links at once, the pictures when the device has given its next frame.

``request`` stores the request and answers two signed links immediately; a task takes
the device's next frame from its live stream hub (capture once: an image request is just
one more consumer of the hub), writes the raw JPEG, draws the annotated one (name, time,
regions changed since the device's previous request) and marks the request ready in the
same transaction as its ``image`` journal event. Until then, and until the configured
delay has passed (``image_ready_delay``), a link answers "not yet" with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import simplejpeg
from sqlalchemy import delete, insert, select, update

from camnet.clock import Clock
from camnet.events import Event, EventJournal, EventKind, StoredEvent, append_event
from camnet.fleet import annotate, links
from camnet.fleet.registry import DeviceRecord
from camnet.fleet.tables import fleet_keys, image_requests
from camnet.media.hub import StreamHub
from camnet.store.database import Database
from camnet.store.portable import insert_ignoring_duplicates
from camnet.web.numbers import decimal

log = logging.getLogger(__name__)

FRAME_TIMEOUT: Final = 15.0
RETRY_AFTER: Final = 1
"""Seconds a refused image request is told to wait (a picture takes about a frame)."""
SECRET_KEY: Final = "image_link_secret"


class NoImageSource(Exception):
    """The device has no stream camnet can take a picture from."""


class TooManyImages(Exception):
    """``max_in_flight`` pictures are being taken already; ask again after ``retry_after``."""

    def __init__(self, most: int, retry_after: int) -> None:
        super().__init__(
            f"{most} image requests are already being taken on this node, the maximum; "
            f"try again in {retry_after} s"
        )
        self.retry_after = retry_after


class NotReady(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RequestLinks:
    """The request's id and its two links' paths (the face adds its base URL)."""

    request: str
    raw: str
    annotated: str


class ImageService:
    def __init__(
        self,
        database: Database,
        journal: EventJournal,
        clock: Clock,
        directory: Path,
        *,
        lifetime: float,
        ready_delay: float,
        base_url: str,
        max_in_flight: int = 8,
    ) -> None:
        self._database = database
        self._journal = journal
        self._clock = clock
        self._directory = directory
        self.lifetime = lifetime
        self.ready_delay = ready_delay
        self.base_url = base_url.rstrip("/")
        self.hubs: dict[str, StreamHub] = {}
        """Device service name → the hub its pictures come from (others may add theirs)."""
        self._secret = b""
        self._previous: dict[str, annotate.Gray] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        """Requests taken and not finished (stored, waiting for a frame, drawing): each
        holds a consumer on a hub, a task and, when the camera hangs, up to
        ``FRAME_TIMEOUT`` seconds; the cap keeps a request loop from piling them up."""

    async def start(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self._secret = bytes.fromhex(await self._database.run(self._load_secret))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _load_secret(self) -> str:
        with self._database.engine.begin() as connection:
            value = connection.execute(
                select(fleet_keys.c.value).where(fleet_keys.c.name == SECRET_KEY)
            ).scalar()
            if value is None:
                # Nodes making their first start together race here: the first insert
                # wins and every node reads the winner's secret back (issue 19).
                row = {"name": SECRET_KEY, "value": secrets.token_hex(32)}
                insert_ignoring_duplicates(connection, fleet_keys, [row], ("name",))
                value = connection.execute(
                    select(fleet_keys.c.value).where(fleet_keys.c.name == SECRET_KEY)
                ).scalar_one()
        return str(value)

    # -- requests ------------------------------------------------------------------------

    async def request(self, device: DeviceRecord) -> RequestLinks:
        """Store a request and start taking its picture; ``TooManyImages`` before storing
        anything when ``max_in_flight`` are under way."""
        hub = self.hubs.get(device.service)
        if hub is None:
            raise NoImageSource(
                f"device {device.uuid} has no live stream camnet can take a picture from"
            )
        if self.in_flight >= self.max_in_flight:
            raise TooManyImages(self.max_in_flight, RETRY_AFTER)
        # Counted from here (no await before), so requests arriving together see each other.
        self.in_flight += 1
        try:
            return await self._request(device, hub)
        except BaseException:
            self.in_flight -= 1
            raise

    async def _request(self, device: DeviceRecord, hub: StreamHub) -> RequestLinks:
        now = self._clock.now()
        request = secrets.token_hex(16)
        expires = int(now + self.lifetime)

        def store() -> None:
            with self._database.engine.begin() as connection:
                connection.execute(delete(image_requests).where(image_requests.c.expires_at <= now))
                connection.execute(
                    insert(image_requests).values(
                        id=request,
                        device_uuid=device.uuid,
                        requested_at=now,
                        expires_at=expires,
                        state="pending",
                    )
                )

        await self._database.run(store)
        await asyncio.to_thread(self._sweep_files, now)
        task = asyncio.create_task(self._capture(device, hub, request, expires))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return RequestLinks(
            request,
            links.make(self._secret, request, expires, "raw_image"),
            links.make(self._secret, request, expires, "annotated_image"),
        )

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.in_flight -= 1

    def _sweep_files(self, now: float) -> None:
        for path in self._directory.glob("*.jpg"):
            expires = path.stem.split("-")[1] if "-" in path.stem else ""
            moment = decimal(expires)
            if moment is not None and moment <= now:
                path.unlink(missing_ok=True)

    def _path(self, request: str, expires: int, kind: str) -> Path:
        return self._directory / f"{request}-{expires}-{kind}.jpg"

    async def _capture(
        self, device: DeviceRecord, hub: StreamHub, request: str, expires: int
    ) -> None:
        try:
            async with hub.consuming():
                seen = hub.latest.sequence if hub.latest is not None else -1
                frame = await asyncio.wait_for(hub.newer_than(seen, hub.generation), FRAME_TIMEOUT)
            taken = self._clock.now()
            await asyncio.to_thread(self._draw, device, frame.jpeg, request, expires, taken)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("image request %s for %s failed", request, device.uuid)
            await self._database.run(self._mark_failed, request, f"no frame: {exc!r}")
            return
        stored = await self._database.run(self._mark_ready, device, request, expires, taken)
        await self._journal.announce(stored)

    def _draw(
        self, device: DeviceRecord, jpeg: bytes, request: str, expires: int, taken: float
    ) -> None:
        image = np.asarray(simplejpeg.decode_jpeg(jpeg, colorspace="RGB"), dtype=np.uint8)
        gray = annotate.small_gray(image)
        regions = annotate.changed_regions(self._previous.get(device.service), gray)
        self._previous[device.service] = gray
        drawn = annotate.annotate(image, device.name, taken, regions)
        annotated = simplejpeg.encode_jpeg(drawn, quality=85, colorspace="RGB")
        self._path(request, expires, "raw_image").write_bytes(jpeg)
        self._path(request, expires, "annotated_image").write_bytes(annotated)

    def _mark_failed(self, request: str, message: str) -> None:
        with self._database.engine.begin() as connection:
            connection.execute(
                update(image_requests)
                .where(image_requests.c.id == request)
                .values(state="failed", message=message)
            )

    def _mark_ready(
        self, device: DeviceRecord, request: str, expires: int, taken: float
    ) -> StoredEvent:
        with self._database.engine.begin() as connection:
            connection.execute(
                update(image_requests)
                .where(image_requests.c.id == request)
                .values(state="ready", ready_at=taken)
            )
            return append_event(
                connection,
                Event(
                    EventKind.IMAGE,
                    device.service,
                    taken,
                    {
                        "request": request,
                        "device_uuid": device.uuid,
                        "raw_image": self.base_url
                        + links.make(self._secret, request, expires, "raw_image"),
                        "annotated_image": self.base_url
                        + links.make(self._secret, request, expires, "annotated_image"),
                        "expires": expires,
                    },
                    account=device.account,
                ),
            )

    # -- serving links -----------------------------------------------------------------

    async def fetch(self, text: str) -> bytes:
        """The JPEG a link names; LinkError (403/404/410) or NotReady."""
        now = self._clock.now()
        link = links.check(self._secret, text, now)

        def read() -> tuple[str, float, float | None, str | None] | None:
            with self._database.engine.connect() as connection:
                row = connection.execute(
                    select(
                        image_requests.c.state,
                        image_requests.c.requested_at,
                        image_requests.c.ready_at,
                        image_requests.c.message,
                    ).where(image_requests.c.id == link.request)
                ).first()
            return None if row is None else (row[0], row[1], row[2], row[3])

        found = await self._database.run(read)
        if found is None:
            raise links.LinkError(404, "no such image request")
        state, requested_at, _ready_at, message = found
        if state == "failed":
            raise links.LinkError(504, f"the device gave no image for this request ({message})")
        due = requested_at + self.ready_delay
        if state != "ready" or now < due:
            raise NotReady(max(1, int(np.ceil(due - now))))
        path = self._path(link.request, link.expires, link.kind)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise links.LinkError(410, "this image is gone; request a new image") from None
