"""Actions, permissions per tenant, the c2 view of them, and rate-limit arithmetic: pure
code, tested alone."""

from __future__ import annotations

import pytest

from camnet.clock import ManualClock
from camnet.identity.actions import Action, ActionError, Permissions, actions
from camnet.identity.permissions import (
    ALL,
    DEFAULT_ACCOUNT,
    PermissionPolicy,
    Role,
)
from camnet.identity.ratelimit import FailureBackoff, FixedWindowLimiter


def test_action_parsing_and_wildcards() -> None:
    assert str(Action.parse("c2:state.light0:write")) == "c2:state.light0:write"
    for bad in ("c2:state", "c2:state:delete", "c2::read", "a b:c:read", "c2:state.:read"):
        with pytest.raises(ActionError):
            Action.parse(bad)
    held = Action.parse("c2:state.*:read")
    assert held.covers(Action.parse("c2:state.light0:read"))
    assert not held.covers(Action.parse("c2:state.light0:write"))
    assert not held.covers(Action.parse("c2:camera:read"))
    assert Action.parse("*:*:write").covers(Action.parse("fleet:webhooks:write"))


def test_permissions_per_tenant_and_everywhere() -> None:
    permissions = Permissions.of(
        [("alpha", actions("*:*:read")), ("beta", actions("c2:*:write")), ("empty", [])]
    )
    assert permissions.tenants == ["alpha", "beta"]
    assert permissions.allows("alpha", "identity:users:read")
    assert not permissions.allows("alpha", "identity:users:write")
    assert not permissions.allows("gamma", "identity:users:read")
    assert not permissions.has_tenant("empty")
    node_admin = Permissions.of([("*", actions("*:*:read"))])
    assert node_admin.has_tenant("anything")
    assert permissions.as_json()[0] == {"tenant": "alpha", "actions": ["*:*:read"]}
    assert hash(permissions) == hash(Permissions.of([("beta", actions("c2:*:write")),
                                                     ("alpha", actions("*:*:read"))]))  # fmt: skip


def test_c2_grants_come_from_actions() -> None:
    policy = PermissionPolicy(["light0", "gain"], ["light0"], ["light0", "light1", "gain"])
    api = policy.grant_for(Role.API)
    assert api.read == frozenset({"light0", "gain"})
    assert api.write == frozenset({"light0"})
    assert policy.grant_for(Role.ADMIN) is ALL
    viewer = policy.grant_for(Role.VIEWER)
    assert viewer.read is None
    assert viewer.write == frozenset()
    assert policy.grant_for(Role.OPERATOR).write is None
    foreign = policy.grant_of(policy.permissions_for(Role.ADMIN, "other"))
    assert foreign.read == frozenset()
    admin = policy.permissions_for(Role.ADMIN, DEFAULT_ACCOUNT)
    assert admin.allows("some-customer", "identity:users:write")
    assert not policy.permissions_for(Role.ADMIN, "other").allows(DEFAULT_ACCOUNT, "c2:x:read")


def test_fixed_window_budget() -> None:
    clock = ManualClock(start=1_000_040.0)  # 20 s into a minute (1_000_020 is a minute)
    limiter = FixedWindowLimiter(clock, default_limit=2)
    first, second, third = (limiter.hit("k") for _ in range(3))
    assert (first.allowed, first.remaining) == (True, 1)
    assert (second.allowed, second.remaining) == (True, 0)
    assert not third.allowed
    assert third.reset_ms == 1_000_080_000
    assert third.retry_after == 40
    assert limiter.hit("other").allowed
    assert limiter.hit("k", limit=5).allowed  # a client's own limit
    clock.advance(39)
    assert not limiter.hit("k").allowed
    clock.advance(1)
    assert limiter.hit("k").allowed


def test_failure_backoff_doubles_and_forgets() -> None:
    clock = ManualClock()
    backoff = FailureBackoff(clock, free=2, ceiling=4)
    for _ in range(2):
        backoff.failed("k")
    assert backoff.retry_after("k") == 0
    waits = []
    for _ in range(4):
        backoff.failed("k")
        waits.append(backoff.retry_after("k"))
    assert waits == [1, 2, 4, 4]
    backoff.succeeded("k")
    assert backoff.retry_after("k") == 0
    backoff.failed("j")
    clock.advance(10_000)
    backoff.failed("j")
    backoff.failed("j")
    assert backoff.retry_after("j") == 0  # the old failure was forgotten
