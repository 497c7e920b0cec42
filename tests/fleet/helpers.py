"""Signing in to the fleet dialect and waiting for things that happen in the background."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

ADMIN_EMAIL = "admin@localhost"


def login(http: httpx.Client, email: str, password: str) -> dict[str, Any]:
    response = http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["data"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def fleet_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["httpError"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    return body
