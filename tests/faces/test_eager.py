"""Eager coroutine start: synchronous completion without a task, suspension with one."""

from __future__ import annotations

import asyncio

import pytest

from camnet.faces.eager import start_eagerly


async def test_a_coroutine_that_never_waits_finishes_at_once() -> None:
    done: list[int] = []

    async def immediate() -> None:
        done.append(1)

    assert start_eagerly(immediate()) is None
    assert done == [1]


async def test_a_coroutine_that_waits_is_finished_by_a_task() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def waits() -> None:
        steps.append("before")
        await gate.wait()
        steps.append("after")

    task = start_eagerly(waits())
    assert task is not None
    assert steps == ["before"]
    gate.set()
    await task
    assert steps == ["before", "after"]


async def test_cancellation_reaches_the_coroutine() -> None:
    cleaned: list[bool] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    task = start_eagerly(waits_forever())
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


async def test_errors_before_the_first_wait_reach_the_caller() -> None:
    async def fails() -> None:
        raise ValueError("closed")

    with pytest.raises(ValueError, match="closed"):
        start_eagerly(fails())


async def test_errors_after_a_wait_end_up_in_the_task() -> None:
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    task = start_eagerly(fails_later())
    assert task is not None
    with pytest.raises(ValueError, match="later"):
        await task
