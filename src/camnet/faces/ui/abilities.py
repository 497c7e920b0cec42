"""What the signed-in principal may do, in the dashboard's words (for ``GET /ui/session``).

The dashboard shows only what the caller may do: controls it may not use are read-only,
pages it may not use are not linked and refuse to open. The server still checks every
request as it always did; this is only so that the page does not offer clicks that are
bound to fail. Each answer is the policy point's own ``Principal.may`` on the action the
face checks, so the page and the server cannot disagree.
"""

from __future__ import annotations

from typing import Any

from camnet.identity.permissions import DEFAULT_ACCOUNT, Principal


def abilities(principal: Principal) -> dict[str, Any]:
    """``stateWrite``: ``"*"`` (every c2 variable) or the c2 variables it may write."""
    account = principal.account
    writable = principal.grant.write
    return {
        "stateWrite": "*" if writable is None else sorted(writable),
        "record": principal.may(DEFAULT_ACCOUNT, "recording:recordings:write"),
        "tag": principal.may(DEFAULT_ACCOUNT, "recording:tags:write"),
        "streams": principal.may(DEFAULT_ACCOUNT, "streams:cameras:write"),
        "webhooks": principal.may(account, "fleet:webhooks:write"),
        "administer": principal.may(account, "identity:users:write"),
    }
