"""camnet's Python SDK: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio).

    from camnet.client import Client, Password

    with Client("http://127.0.0.1:8080", Password("admin", "…")) as camnet:
        camnet.set(light0=True)
        frame = camnet.snapshot_array()          # numpy, (height, width, 3)
        for change in camnet.watch():            # the c2 WebSocket
            print(change.values)

See docs/sdk.md.
"""

from camnet.client.aio import AsyncClient
from camnet.client.auth import (
    ApiKey,
    Basic,
    Bearer,
    ClientCredentials,
    Credentials,
    Password,
    TokenSet,
    token_credentials,
)
from camnet.client.errors import (
    AuthError,
    BadRequest,
    CamnetError,
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    Problem,
    ProtocolError,
    RangeNotSatisfiable,
    RateLimited,
    ServerError,
    TransportError,
    Unavailable,
    ValidationError,
)
from camnet.client.models import (
    Delivery,
    Device,
    Download,
    Frame,
    Page,
    Recording,
    StateChange,
    Tag,
    Webhook,
)
from camnet.client.sync import Client

__all__ = [
    "ApiKey",
    "AsyncClient",
    "AuthError",
    "BadRequest",
    "Basic",
    "Bearer",
    "CamnetError",
    "Client",
    "ClientCredentials",
    "Conflict",
    "Credentials",
    "Delivery",
    "Device",
    "Download",
    "Frame",
    "NotFound",
    "Page",
    "Password",
    "PermissionDenied",
    "PreconditionFailed",
    "Problem",
    "ProtocolError",
    "RangeNotSatisfiable",
    "RateLimited",
    "Recording",
    "ServerError",
    "StateChange",
    "Tag",
    "TokenSet",
    "TransportError",
    "Unavailable",
    "ValidationError",
    "Webhook",
    "token_credentials",
]
