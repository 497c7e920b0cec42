"""Helpers for the live-image tests: fetch and decode pictures, read MJPEG streams."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import simplejpeg

from camnet.devices.sources.scene import MARKER_BOX, MARKER_COLOURS
from camnet.media.mjpeg import PartParser
from tests.support import ServerProcess

Picture = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]


def decode(jpeg: bytes) -> Picture:
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    picture: Picture = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
    return picture


def picture(server: ServerProcess) -> Picture:
    """``GET /camera.jpeg`` as the API-User, decoded."""
    with server.client() as client:
        response = client.get("/camera.jpeg", params={"token": server.token})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    return decode(response.content)


def region(image: Picture, box: Box) -> Picture:
    """The part of ``image`` inside ``box`` = (left, top, right, bottom) as fractions."""
    height, width = image.shape[:2]
    left, top, right, bottom = box
    return image[
        round(top * height) : round(bottom * height), round(left * width) : round(right * width)
    ]


def mean(image: Picture, box: Box = (0, 0, 1, 1)) -> npt.NDArray[np.float64]:
    """Mean RGB over ``box``."""
    result: npt.NDArray[np.float64] = region(image, box).reshape(-1, 3).mean(axis=0)
    return result


def inner(box: Box, margin: float = 0.25) -> Box:
    """The middle of ``box``, away from its edges (JPEG and scaling blur the edges)."""
    left, top, right, bottom = box
    dx, dy = (right - left) * margin, (bottom - top) * margin
    return left + dx, top + dy, right - dx, bottom - dy


def mirrored(box: Box, horizontal: bool = True, vertical: bool = False) -> Box:
    left, top, right, bottom = box
    if horizontal:
        left, right = 1 - right, 1 - left
    if vertical:
        top, bottom = 1 - bottom, 1 - top
    return left, top, right, bottom


MARKER: Box = inner(MARKER_BOX)


def is_colour(rgb: npt.NDArray[np.float64], head: int, tolerance: float = 60.0) -> bool:
    """Whether ``rgb`` is close to head ``head``'s marker colour."""
    return float(np.abs(rgb - np.array(MARKER_COLOURS[head])).max()) < tolerance


@contextlib.contextmanager
def state(server: ServerProcess, *, admin: bool = False, **values: Any) -> Iterator[None]:
    """Set c2 variables for the duration of a block, then put the old values back."""
    names = ",".join(values)
    before = server.api({"get": f"[{names}]"}, user="admin").json()
    response = server.post(values, admin=admin)
    assert response.status_code == 200, response.text
    try:
        yield
    finally:
        restore = {k: v for k, v in before.items() if not k.startswith(("pan", "zoom"))}
        for name in values:
            if name.startswith(("pan", "zoom")):
                current = server.api({"get": f"[{name}]"}, user="admin").json()[name]
                if isinstance(current, dict):
                    restore[name] = {k: before[name][k] - current[k] for k in current}
                else:
                    restore[name] = before[name] - current
        server.post(restore, admin=True)


class MjpegClient:
    """A real MJPEG client: one streaming GET, parts read by their Content-Length."""

    def __init__(self, server: ServerProcess, params: dict[str, str] | None = None) -> None:
        token = {"token": server.token}
        self._client = httpx.Client(base_url=server.url, timeout=10.0)
        self._context = self._client.stream(
            "GET", "/camera.mjpeg", params=token if params is None else params
        )
        self.response = self._context.__enter__()
        self._chunks = self.response.iter_raw()
        self._parser = PartParser()
        self._ready: list[tuple[dict[str, str], bytes]] = []

    def part(self) -> tuple[dict[str, str], bytes]:
        while not self._ready:
            self._ready.extend(self._parser.feed(next(self._chunks)))
        return self._ready.pop(0)

    def frame(self) -> Picture:
        return decode(self.part()[1])

    def close(self) -> None:
        self._context.__exit__(None, None, None)
        self._client.close()

    def __enter__(self) -> MjpegClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
