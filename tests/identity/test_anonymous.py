"""The principal of requests without credentials on the bus faces (no I/O)."""

from __future__ import annotations

import logging

import pytest

from camnet.identity.anonymous import (
    AnonymousAccess,
    AnonymousRole,
    own_account_permissions,
    parse_networks,
)
from camnet.identity.permissions import DEFAULT_ACCOUNT, PermissionPolicy, Role


def access(role: AnonymousRole, *networks: str, now: list[float] | None = None) -> AnonymousAccess:
    policy = PermissionPolicy(None, [], schema_names=["light0"])
    clock = now if now is not None else [0.0]
    return AnonymousAccess(
        role,
        parse_networks(networks or ("127.0.0.0/8", "::1/128")),
        own_account_permissions(policy.actions_for),
        policy.grant_of,
        lambda: clock[0],
    )


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 peer on a dual-stack socket
        ("10.0.0.1", False),
        ("not an address", False),
        ("", False),
    ],
)
def test_loopback_by_default(address: str, allowed: bool) -> None:
    assert (access("viewer").principal_for(address, "Gateway") is not None) is allowed


def test_the_role_in_the_default_account_only() -> None:
    principal = access("admin").principal_for("127.0.0.1", "Gateway")
    assert principal is not None
    assert principal.role is Role.ADMIN
    assert principal.kind == "anonymous"
    assert principal.may(DEFAULT_ACCOUNT, "network:bus:write")
    assert not principal.may("other", "network:bus:read")  # never every account
    viewer = access("viewer").principal_for("::1", "Gateway")
    assert viewer is not None
    assert viewer.may(DEFAULT_ACCOUNT, "network:bus:read")
    assert not viewer.may(DEFAULT_ACCOUNT, "network:bus:write")


def test_off_refuses_and_logs_once_a_minute_per_address(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="camnet.identity.anonymous")
    now = [0.0]
    off = access("off", now=now)
    for _ in range(3):
        assert off.principal_for("127.0.0.1", "Gateway") is None
    assert len(caplog.records) == 1
    assert "bus_anonymous_role" in caplog.records[0].getMessage()
    now[0] = 61.0
    off.principal_for("127.0.0.1", "Gateway")
    off.principal_for("127.0.0.2", "Gateway")
    assert len(caplog.records) == 3


def test_bad_networks_are_refused_at_start() -> None:
    with pytest.raises(ValueError, match="does not appear"):
        parse_networks(["10.0.0.0/33"])
