"""Standard Webhooks signatures (https://www.standardwebhooks.com), no I/O.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the key is the
base64 part of a ``whsec_`` secret; the signature header lists ``v1,<base64 HMAC-SHA256>``.
Receivers verify with any Standard Webhooks library; the ``webhook-id`` stays the same
across retries of one delivery so they can de-duplicate.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from typing import Final

SECRET_PREFIX: Final = "whsec_"


def new_secret() -> str:
    """A per-webhook secret, shown once: ``whsec_`` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


@functools.lru_cache(maxsize=1024)
def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret (cached: every delivery of a webhook signs with it)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one request."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
