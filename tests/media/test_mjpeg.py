"""MJPEG framing and parsing, from plain bytes."""

from __future__ import annotations

import pytest

from camnet.media.mjpeg import BOUNDARY, CONTENT_TYPE, MultipartError, PartParser, part


def test_a_part_carries_type_and_length() -> None:
    framed = part(b"\xff\xd8jpeg\xff\xd9")
    assert framed == (
        f"--{BOUNDARY}\r\n".encode()
        + b"Content-Type: image/jpeg\r\nContent-Length: 8\r\n\r\n\xff\xd8jpeg\xff\xd9\r\n"
    )
    assert f"multipart/x-mixed-replace; boundary={BOUNDARY}" == CONTENT_TYPE
    stamped = part(b"\xff\xd8\xff\xd9", captured=1700000000.25)
    assert b"\r\nX-Timestamp: 1700000000.250000\r\n\r\n\xff\xd8" in stamped


def test_parts_are_read_by_length_across_any_split() -> None:
    bodies = [b"first", b"--" + BOUNDARY.encode() + b" inside a body", b"", b"x" * 5000]
    stream = b"".join(part(body) for body in bodies)
    for size in (1, 7, 100, len(stream)):
        parser = PartParser()
        got = []
        for start in range(0, len(stream), size):
            got.extend(parser.feed(stream[start : start + size]))
        assert [body for _, body in got] == bodies
        assert all(headers["content-type"] == "image/jpeg" for headers, _ in got)


def test_a_part_without_length_is_refused() -> None:
    parser = PartParser()
    with pytest.raises(MultipartError):
        parser.feed(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\nxx".encode())
