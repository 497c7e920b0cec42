"""What one webhook request is made of: the body, the request target with the webhook's
``data.params`` merged in, its ``data.headers``, and the rule of what may be sent at all.

Pure functions, no I/O. The face validates a webhook's ``data`` with ``unsendable`` when
it is created or changed; the dispatcher builds every request with the others, and an
error raised while building one is that attempt's failure, never the dispatcher's.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from camnet.fleet.registry import iso
from camnet.fleet.webhooks.outbox import Due
from camnet.fleet.webhooks.transport import Destination

TARGET_SAFE: Final = "/?&=%:@!$'()*+,;~-._"
"""Characters left as written in a request target; anything else is percent-encoded."""
RESERVED_HEADERS: Final = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "transfer-encoding",
        "connection",
    }
)


def unsendable(text: str, *, header: bool) -> str | None:
    """Why ``text`` cannot go into a request (None: it can).

    Control characters (C0, DEL, C1) are refused everywhere: in a header they end or
    split it (h11 refuses to send them), in a parameter they are never meant. A header
    must also be latin-1 (HTTP/1.1 carries octets); a parameter is percent-encoded as
    UTF-8, so any other character is fine there."""
    for character in text:
        if unicodedata.category(character) == "Cc":
            return f"must not contain control characters (U+{ord(character):04X})"
        if header and ord(character) > 0xFF:
            return "must be latin-1 (a header carries octets)"
    return None


def pairs(items: Any) -> list[tuple[str, str]]:
    return [(str(item["name"]), str(item["value"])) for item in items or ()]


def payload_body(due: Due) -> bytes:
    body = {
        "stream_id": due.device_uuid or due.source,
        "type": due.kind,
        "timestamp": iso(due.time),
        "payload": due.payload,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def request_target(
    url: str, addresses: list[str], params: list[tuple[str, str]]
) -> tuple[Destination, bytes]:
    """Where to connect and the request target (path and query) for ``url`` with
    ``params`` merged into its query (a parameter of the same name is replaced)."""
    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    query = parts.query
    if params:
        replaced = {name for name, _ in params}
        kept = [
            (name, value)
            for name, value in parse_qsl(query, keep_blank_values=True)
            if name not in replaced
        ]
        query = urlencode([*kept, *params])
    target = quote((parts.path or "/") + (f"?{query}" if query else ""), safe=TARGET_SAFE)
    authority = parts.netloc.rpartition("@")[2]
    destination = Destination(scheme, host, port, tuple(addresses), authority.encode("idna"))
    return destination, target.encode("ascii")
