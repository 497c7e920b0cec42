"""Structured logs: JSON lines off a terminal, a request id in every record of a request,
per-device context, and credentials stripped from every line before it is written.

The redaction is a ``logging.Filter`` on the root handler, not a convention callers must
follow: whatever a library logs (uvicorn's access line, httpx's request line) passes it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, Literal, TextIO
from urllib.parse import unquote_plus

LogFormat = Literal["auto", "json", "text"]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "camnet_request_id", default=None
)
device: contextvars.ContextVar[str | None] = contextvars.ContextVar("camnet_device", default=None)

REDACTED: Final = "[redacted]"
SECRET_HEADERS: Final = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
)
SECRET_QUERY_KEYS: Final = (
    "token",
    "access_token",
    "refresh_token",
    "password",
    "api_key",
    "secret",
)

# scheme://user:password@host → scheme://[redacted]@host (any userinfo is a credential).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@?#]+@")
_QUERY = re.compile(r"(?P<key>\b(?:" + "|".join(SECRET_QUERY_KEYS) + r"))=[^&\s#'\"]*", re.I)
# Header-like text: "Authorization: Bearer x", "'authorization': 'Basic x'", "cookie=x",
# and ASGI's raw pairs "(b'authorization', b'Basic x')".
_HEADER = re.compile(
    r"(?P<key>\b(?:" + "|".join(SECRET_HEADERS) + r")\b['\"]?\s*[:=,]\s*(?:b?['\"])?)"
    r"(?P<value>[^'\"\r\n,}]*)",
    re.I,
)
# A query key written with percent-escapes (``tok%65n=``, ``p%61ssword=``): decoded,
# then judged like any other key.
_ENCODED_KEY = re.compile(
    r"(?P<key>(?<![\w%.~+-])[\w.~+-]*%[0-9A-Fa-f]{2}[\w%.~+-]*)=(?P<value>[^&\s#'\"]*)"
)
_SECRET_KEYS: Final = frozenset(SECRET_QUERY_KEYS)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _decoded(key: str) -> str:
    """``key`` percent-decoded until nothing changes (a key encoded twice, too)."""
    for _ in range(4):
        plain = unquote_plus(key)
        if plain == key:
            break
        key = plain
    return key.lower()


def _encoded_key(match: re.Match[str]) -> str:
    if _decoded(match["key"]) in _SECRET_KEYS:
        return f"{match['key']}={REDACTED}"
    return match[0]


def redact(text: str) -> str:
    """``text`` with URL userinfo, secret query values and secret header values replaced."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _QUERY.sub(lambda m: f"{m['key']}={REDACTED}", text)
    if "%" in text:
        text = _ENCODED_KEY.sub(_encoded_key, text)
    return _HEADER.sub(lambda m: f"{m['key']}{REDACTED}", text)


def sane_request_id(value: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is short and plain, else a new one."""
    if value is not None and _SANE_ID.match(value):
        return value
    return uuid.uuid4().hex


@contextmanager
def device_context(name: str) -> Iterator[None]:
    """Records logged inside carry ``device=name`` (a device's own work, a hub's thread)."""
    token = device.set(name)
    try:
        yield
    finally:
        device.reset(token)


class ContextFilter(logging.Filter):
    """Adds the request id and the device of the current context to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        if getattr(record, "device", None) is None:
            record.device = device.get()
        return True


class RedactFilter(logging.Filter):
    """Renders the message once and strips credentials from it and from the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, device."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "device"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The human format, with the request id and device appended when there are some."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = [
            f"{key}={value}"
            for key in ("request_id", "device")
            if (value := getattr(record, key, None)) is not None
        ]
        return f"{line} [{' '.join(extra)}]" if extra else line


def make_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler with the context and redaction filters and the chosen format."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    chosen = log_format
    if chosen == "auto":
        chosen = "text" if stream.isatty() else "json"
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    return handler


def configure_logging(level: str, log_format: LogFormat, stream: TextIO | None = None) -> None:
    """Replace the root handlers with one filtered handler (the CLI calls this once)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(log_format, stream))
    root.setLevel(level.upper())
