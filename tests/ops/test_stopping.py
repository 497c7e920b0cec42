"""``stop_all``: one part's failing stop neither skips the others nor escapes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from camnet.ops.stopping import stop_all


async def test_every_stop_runs_and_failures_are_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def broken() -> None:
        ran.append("broken")
        raise RuntimeError("broker gone")

    async def cancelled() -> None:
        ran.append("cancelled")
        raise asyncio.CancelledError

    async def grouped() -> None:
        ran.append("grouped")
        raise BaseExceptionGroup("stop", [asyncio.CancelledError()])

    async def fine() -> None:
        ran.append("fine")

    def sync() -> None:
        ran.append("sync")

    with caplog.at_level(logging.INFO, logger="camnet.ops.stopping"):
        failed = await stop_all(
            [
                ("a", broken),
                ("b", None),
                ("c", cancelled),
                ("d", grouped),
                ("e", fine),
                ("f", sync),
            ]
        )
    assert ran == ["broken", "cancelled", "grouped", "fine", "sync"]
    assert failed == ["a", "c", "d"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors][:1] == ["stopping a failed: broker gone"]
    assert len(errors) == 3
    assert all(r.exc_info is None for r in errors)
