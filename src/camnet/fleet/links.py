"""Signed, expiring image links (HMAC-SHA256, no I/O).

A link names the request, its expiry (unix seconds) and the kind of image, and carries
an HMAC of the three under a per-node secret:
``/api/v1/images/{request}.{expires}.{signature}_{kind}``. Changing any part makes the
signature fail (403); a link past its expiry is gone (410).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

KINDS: Final = ("raw_image", "annotated_image")
PREFIX: Final = "/api/v1/images/"
_LINK: Final = re.compile(
    r"^([0-9a-f]{1,32})\.(\d{1,12})\.([0-9a-f]{64})_(raw_image|annotated_image)$"
)


class LinkError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Link:
    request: str
    expires: int
    kind: str


def _signature(secret: bytes, request: str, expires: int, kind: str) -> str:
    return hmac.new(secret, f"{request}.{expires}.{kind}".encode(), hashlib.sha256).hexdigest()


def make(secret: bytes, request: str, expires: int, kind: str) -> str:
    """The path of a link (the face prefixes its own base URL)."""
    return f"{PREFIX}{request}.{expires}.{_signature(secret, request, expires, kind)}_{kind}"


def check(secret: bytes, text: str, now: float) -> Link:
    """The link a path segment names; LinkError 403 when forged, 410 when expired."""
    match = _LINK.match(text)
    if match is None:
        raise LinkError(403, "this image link is not valid")
    request, expires_text, signature, kind = match.groups()
    expires = int(expires_text)
    if not hmac.compare_digest(signature, _signature(secret, request, expires, kind)):
        raise LinkError(403, "this image link is not valid")
    if now >= expires:
        raise LinkError(410, "this image link has expired; request a new image")
    return Link(request, expires, kind)
