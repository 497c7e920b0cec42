"""The blocking client, over ``httpx.Client`` and the ``websockets`` sync client."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import numpy.typing as npt

from camnet.client import requests as ops
from camnet.client.auth import Credentials, TokenKeeper, TokenSet
from camnet.client.errors import CamnetError, TransportError, error_from_response
from camnet.client.flow import (
    Answer,
    Flow,
    Outgoing,
    auth_headers,
    ensure_token,
    exchange,
    range_header,
    read_range_answer,
)
from camnet.client.live import FrameReader, state_message, websocket_url
from camnet.client.models import (
    Delivery,
    Device,
    Download,
    Frame,
    Page,
    ProgressCallback,
    Recording,
    StateChange,
    Tag,
    Webhook,
    decode_jpeg,
)

T = TypeVar("T")
DEFAULT_SERVER = "http://127.0.0.1:8080"
CHUNK = 256 * 1024


class Client:
    """A camnet server, blocking. Use as a context manager or call :meth:`close`.

    ``credentials`` is one of :mod:`camnet.client.auth`'s kinds; tokens obtained from
    client credentials or a password are renewed before they expire (``clock`` is
    the clock that decides when; ``time.monotonic`` unless a test injects one).
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        credentials: Credentials | None = None,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        verify: bool | str = True,
    ) -> None:
        self.server = server.rstrip("/")
        self._keeper = TokenKeeper(credentials, clock)
        self._timeout = timeout
        self._http = httpx.Client(base_url=self.server, timeout=timeout, verify=verify)
        self._token_lock = threading.Lock()  # one sign-in, however many threads call

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # transport ------------------------------------------------------------------------

    def _send(self, outgoing: Outgoing) -> Answer:
        call = outgoing.call
        try:
            response = self._http.request(
                call.method,
                call.path,
                params=list(call.params),
                json=call.json,
                data=call.data,
                headers={**call.headers, **outgoing.headers},
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"{call.method} {self.server}{call.path}: {exc}") from exc
        return Answer(
            response.status_code, response.headers, response.content, response.reason_phrase
        )

    def _drive(self, flow: Flow[T]) -> T:
        try:
            outgoing = next(flow)
            while True:
                outgoing = flow.send(self._send(outgoing))
        except StopIteration as stop:
            result: T = stop.value
            return result

    def call(self, call: ops.Call[T]) -> T:
        """Send any :class:`~camnet.client.requests.Call` with this client's credentials."""
        if call.auth and self._keeper.pending() is not None:
            with self._token_lock:
                self._drive(ensure_token(self._keeper))
        return self._drive(exchange(self._keeper, call))

    def _auth_headers(self) -> dict[str, str]:
        return self._drive(auth_headers(self._keeper))

    # tokens ---------------------------------------------------------------------------

    def token(self) -> TokenSet | None:
        """The current access token (obtained now if due); None for credentials that
        are not exchanged for tokens (API keys, Basic, a given bearer token)."""
        self._auth_headers()
        return self._keeper.tokens

    def verify_token(self, access_token: str | None = None) -> dict[str, Any]:
        """The server's verification body for a token (default: this client's)."""
        token = access_token or _held(self.token())
        return self.call(ops.verify_token(token))

    # c2 state -------------------------------------------------------------------------

    def get(self, *names: str) -> dict[str, Any]:
        """The named variables (all readable ones when none is named)."""
        return self.call(ops.get_state(names))

    def set(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        """Write variables, all or nothing; the answer holds their values afterwards."""
        return self.call(ops.set_state({**(values or {}), **more}))

    def watch(self) -> Generator[StateChange, None, None]:
        """The c2 WebSocket: the whole state first, then every change as it happens.
        Leave the loop (or close the iterator) to disconnect."""
        from websockets.exceptions import ConnectionClosedOK, WebSocketException
        from websockets.sync.client import connect

        headers = self._auth_headers()
        try:
            socket = connect(
                websocket_url(self.server), additional_headers=headers, open_timeout=self._timeout
            )
        except WebSocketException as exc:
            raise _ws_refusal(exc) from exc
        except OSError as exc:
            raise TransportError(f"WebSocket {self.server}: {exc}") from exc
        with socket:
            initial = True
            while True:
                try:
                    message = socket.recv()
                except ConnectionClosedOK:
                    return
                except WebSocketException as exc:
                    raise TransportError(f"WebSocket closed: {exc}") from exc
                yield state_message(message, initial)
                initial = False

    # images ---------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """One JPEG from ``/camera.jpeg`` (a frame made after every acknowledged write)."""
        return self.call(ops.snapshot())

    def snapshot_array(self) -> npt.NDArray[np.uint8]:
        """One still as an RGB array (height, width, 3)."""
        return decode_jpeg(self.snapshot())

    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        """Frames of ``/camera.mjpeg`` as they arrive (``limit`` of them, or until the
        loop is left). A slow reader gets the newest frame, skipping others."""
        headers = self._auth_headers()
        count = 0
        try:
            with self._http.stream("GET", "/camera.mjpeg", headers=headers) as response:
                if response.status_code != 200:
                    response.read()
                    raise error_from_response(
                        response.status_code, response.headers, response.content
                    )
                reader = FrameReader()
                for chunk in response.iter_bytes():
                    for frame in reader.feed(chunk):
                        yield frame
                        count += 1
                        if limit is not None and count >= limit:
                            return
        except httpx.HTTPError as exc:
            raise TransportError(f"/camera.mjpeg: {exc}") from exc

    # recordings and tags -----------------------------------------------------------------

    def recordings(self, **query: Any) -> Page[Recording]:
        """A page of recordings: ``page``, ``per_page``, ``sort`` (``-start``…),
        ``kind`` (manual|backup), ``storage``, ``tagged``, ``since``, ``until``."""
        page: Page[Recording] = self.call(ops.list_recordings(**query))
        return page

    def recording(self, recording_id: int) -> Recording:
        return self.call(ops.get_recording(recording_id))

    def delete_recording(self, recording_id: int) -> None:
        self.call(ops.delete_recording(recording_id))

    def download(
        self,
        recording_id: int,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        resume: bool = True,
    ) -> Download:
        """Fetch a recording's file to ``path``. Bytes go to ``path.part`` first; an
        interrupted download resumes from there with an HTTP Range request, and the
        part file becomes ``path`` only when complete."""
        target = Path(path)
        part = target.with_name(target.name + ".part")
        offset = part.stat().st_size if resume and part.exists() else 0
        resumed_from = offset
        file_path = ops.recording_file_path(recording_id)
        for _ in range(2):
            headers = {**self._auth_headers(), **range_header(offset)}
            try:
                with self._http.stream("GET", file_path, headers=headers) as response:
                    if response.status_code not in (200, 206, 416):
                        response.read()
                        raise error_from_response(
                            response.status_code, response.headers, response.content
                        )
                    plan = read_range_answer(offset, response.status_code, response.headers)
                    if plan.action == "restart":
                        offset = resumed_from = 0
                        continue
                    if plan.action == "rewrite":
                        offset = resumed_from = 0
                    if plan.action != "done":
                        with part.open("ab" if plan.action == "append" else "wb") as handle:
                            done = offset
                            for chunk in response.iter_bytes(CHUNK):
                                handle.write(chunk)
                                done += len(chunk)
                                if progress is not None:
                                    progress(done, plan.total)
            except httpx.HTTPError as exc:
                raise TransportError(f"{file_path}: {exc}; run again to resume") from exc
            if not part.exists():
                part.touch()
            size = part.stat().st_size
            os.replace(part, target)
            return Download(str(target), size, resumed_from)
        raise CamnetError(f"{file_path}: the server kept refusing the range")

    def tags(self, **query: Any) -> Page[Tag]:
        page: Page[Tag] = self.call(ops.list_tags(**query))
        return page

    def tag(self, tag_id: int) -> Tag:
        return self.call(ops.get_tag(tag_id))

    def create_tag(
        self, title: str = "", note: str = "", creation_time: float | str | None = None
    ) -> Tag:
        return self.call(ops.create_tag(title, note, creation_time))

    def update_tag(self, tag: Tag, **changes: Any) -> Tag:
        return self.call(ops.update_tag(tag, **changes))

    def delete_tag(self, tag_id: int, version: int | None = None) -> None:
        self.call(ops.delete_tag(tag_id, version))

    # fleet ----------------------------------------------------------------------------

    def devices(self, **query: Any) -> Page[Device]:
        """A page of devices: ``page``, ``per_page``, ``sort``, ``group``, ``online``."""
        page: Page[Device] = self.call(ops.list_devices(**query))
        return page

    def device(self, uuid: str) -> Device:
        return self.call(ops.get_device(uuid))

    def update_device(
        self, uuid: str, changes: Mapping[str, Any], version: int | None = None
    ) -> Device:
        return self.call(ops.update_device(uuid, changes, version))

    def webhooks(self, device_uuid: str | None = None) -> list[Webhook]:
        return self.call(ops.list_webhooks(device_uuid))

    def create_webhook(self, url: str, **options: Any) -> Webhook:
        return self.call(ops.create_webhook(url, **options))

    def update_webhook(self, webhook_id: int, changes: Mapping[str, Any]) -> Webhook:
        return self.call(ops.update_webhook(webhook_id, changes))

    def delete_webhook(self, webhook_id: int) -> None:
        self.call(ops.delete_webhook(webhook_id))

    def deliveries(self, webhook_id: int, **query: Any) -> Page[Delivery]:
        page: Page[Delivery] = self.call(ops.webhook_deliveries(webhook_id, **query))
        return page


def _held(tokens: TokenSet | None) -> str:
    if tokens is None:
        raise CamnetError("these credentials hold no access token to verify")
    return tokens.access_token


def _ws_refusal(exc: Exception) -> CamnetError:
    response = getattr(exc, "response", None)
    if response is not None:
        return error_from_response(
            response.status_code, dict(response.headers), bytes(response.body or b"")
        )
    return TransportError(f"WebSocket: {exc}")
