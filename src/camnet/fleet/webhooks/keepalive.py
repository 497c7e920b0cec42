"""Keepalive webhooks: which pings are due, claimed for one node. Synchronous: runs on
the database thread."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, or_, select, update

from camnet.fleet.tables import fleet_devices, webhooks


def claim(
    engine: Engine, now: float, interval: float
) -> list[tuple[int, str, dict[str, Any], list[str]]]:
    """The keepalive webhooks whose ping is due, claimed for this node: the claim
    (``keepalive_at``) is a conditional update, so of several nodes on one database
    exactly one sends each round."""
    w = webhooks
    with engine.begin() as connection:
        hooks = connection.execute(
            select(w).where(
                w.c.status == 1,
                w.c.webhook_type == "keepalive",
                or_(
                    w.c.keepalive_at.is_(None),
                    w.c.keepalive_at <= now - interval,
                ),
            )
        ).all()
        claimed = []
        for hook in hooks:
            result = connection.execute(
                update(w)
                .where(w.c.id == hook.id)
                .where(
                    or_(
                        w.c.keepalive_at.is_(None),
                        w.c.keepalive_at <= now - interval,
                    )
                )
                .values(keepalive_at=now)
            )
            if result.rowcount == 1:
                claimed.append(hook)
        hooks = claimed
        devices = connection.execute(select(fleet_devices.c.uuid, fleet_devices.c.account))
        by_account: dict[str, list[str]] = {}
        for device_uuid, account in devices:
            by_account.setdefault(account, []).append(device_uuid)
    return [
        (
            hook.id,
            hook.url,
            hook.data,
            [hook.device_uuid] if hook.device_uuid else by_account.get(hook.account, []),
        )
        for hook in hooks
    ]
