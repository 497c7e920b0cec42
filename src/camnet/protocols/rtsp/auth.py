"""RTSP authentication with camnet's own users: Basic (RFC 7617) and Digest (RFC 2617).

Basic is verified by the node's ``Authenticator``, exactly like the c2 API's Basic.

Digest needs ``MD5(user:realm:password)`` on the server, and camnet stores only argon2
hashes. So Digest works for a user whose secret camnet has seen in plain text in this
process: the secrets configured or created at start, and any secret that passed RTSP
Basic. Before answering a Digest response camnet re-checks that secret with the
Authenticator, so a rotated token or a disabled user stops working over Digest too. A
user camnet has not seen yet gets 401 over Digest and can use Basic (which then teaches
camnet the secret). This is the honest limit of Digest with hashed secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Final

from camnet.identity.authenticator import Authenticator, Credentials
from camnet.identity.live import Recheck
from camnet.identity.permissions import Principal

REALM: Final = "camnet"
NONCE_LIFETIME: Final = 300.0
STREAM_ACTION: Final = "c2:camera:read"
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_digest(header: str) -> dict[str, str]:
    """The key=value pairs of ``Digest username="…", realm="…", …``."""
    return {key.lower(): quoted or bare for key, quoted, bare in _PARAM.findall(header)}


def digest_response(ha1: str, method: str, uri: str, nonce: str) -> str:
    """RFC 2617 without qop (what RTSP clients such as ffmpeg and VLC send)."""
    return _md5(f"{ha1}:{nonce}:{_md5(f'{method}:{uri}')}")


@dataclass(slots=True)
class _Known:
    secret: str
    ha1: str


class RtspAuth:
    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator
        self._known: dict[str, _Known] = {}
        self._nonce_key = secrets.token_bytes(16)

    def learn(self, user: str, secret: str) -> None:
        """A secret seen in plain text (configured, created, or verified over Basic)."""
        self._known[user] = _Known(secret, _md5(f"{user}:{REALM}:{secret}"))

    def _nonce(self, stamp: int) -> str:
        mac = hashlib.sha256(self._nonce_key + str(stamp).encode()).hexdigest()[:16]
        return f"{stamp:x}{mac}"

    def _nonce_fresh(self, nonce: str) -> bool:
        try:
            stamp = int(nonce[:-16], 16)
        except ValueError:
            return False
        return nonce == self._nonce(stamp) and 0 <= time.time() - stamp <= NONCE_LIFETIME

    def challenges(self) -> list[str]:
        nonce = self._nonce(int(time.time()))
        return [
            f'Digest realm="{REALM}", nonce="{nonce}", algorithm="MD5"',
            f'Basic realm="{REALM}"',
        ]

    @staticmethod
    def may_watch(principal: Principal, account: str) -> bool:
        """Whether ``principal`` may watch a camera of ``account``: the permission is
        looked up in the account that owns the camera, never in the caller's own."""
        return principal.may(account, STREAM_ACTION)

    async def principal(
        self, method: str, authorization: str | None, address: str | None = None
    ) -> Principal | None:
        """The caller if its credentials are valid (whether it may watch a given path
        is ``may_watch``'s question, asked with the path's owner). Raises ``Throttled``
        when ``address`` or the user must wait (the credential throttle)."""
        if not authorization:
            return None
        scheme, _, rest = authorization.strip().partition(" ")
        principal: Principal | None = None
        if scheme.lower() == "basic":
            credentials = _basic(rest)
            if credentials is None:
                return None
            principal = await self._authenticator.authenticate(credentials, address)
            if principal is not None:
                self.learn(credentials.user, credentials.secret)
        elif scheme.lower() == "digest":
            principal = await self._digest(method, parse_digest(rest), address)
        return principal

    def rechecker(self, method: str, authorization: str | None, account: str) -> Recheck | None:
        """How to ask again, later, whether the credentials of this request still hold
        and still may watch a camera of ``account`` (for a playing session:
        ``identity/live.py``), without spending any budget."""
        if not authorization:
            return None
        scheme, _, rest = authorization.strip().partition(" ")
        credentials: Credentials | None = None
        if scheme.lower() == "basic":
            credentials = _basic(rest)
        elif scheme.lower() == "digest":
            user = parse_digest(rest).get("username", "")
            known = self._known.get(user)
            credentials = Credentials(user, known.secret) if known is not None else None
        if credentials is None:
            return None
        authenticator, presented = self._authenticator, credentials

        async def recheck() -> Principal | None:
            principal = await authenticator.authenticate(presented, throttled=False)
            if principal is None or not principal.may(account, STREAM_ACTION):
                return None
            return principal

        return recheck

    async def _digest(
        self, method: str, params: dict[str, str], address: str | None
    ) -> Principal | None:
        user = params.get("username", "")
        known = self._known.get(user)
        nonce = params.get("nonce", "")
        if known is None or params.get("realm") != REALM or not self._nonce_fresh(nonce):
            return None
        expected = digest_response(known.ha1, method, params.get("uri", ""), nonce)
        if not secrets.compare_digest(expected, params.get("response", "")):
            return None
        principal = await self._authenticator.authenticate(Credentials(user, known.secret), address)
        if principal is None:  # rotated or disabled since camnet saw the secret
            self._known.pop(user, None)
        return principal


def _basic(encoded: str) -> Credentials | None:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return Credentials(user, password) if sep and user else None
