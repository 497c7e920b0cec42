"""Credentials, token renewal and the error bodies of every dialect, read from a real
server's answers."""

from __future__ import annotations

import httpx
import pytest

from camnet.client import (
    AuthError,
    Basic,
    Bearer,
    Client,
    ClientCredentials,
    NotFound,
    Password,
    PermissionDenied,
    TransportError,
    token_credentials,
)
from camnet.client.requests import Call
from tests.client.helpers import CLIENT_ID, CLIENT_SECRET, Setup


class FakeClock:
    """The client's clock, moved by the test: renewal is decided on it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_client_credentials_are_renewed_before_expiry(setup: Setup) -> None:
    clock = FakeClock()
    with Client(setup.url, ClientCredentials(CLIENT_ID, CLIENT_SECRET), clock=clock) as client:
        first = client.token()
        assert first is not None
        assert first.lifetime == 120
        assert first.refresh_token is None  # RFC 6749 §4.4.3
        assert client.verify_token()["clientId"] == "sdktest"
        clock.now += 100  # 20 s left: not yet within the margin (a tenth of 120 s)
        assert client.token() == first
        clock.now += 10  # 10 s left
        client.get("record")
        second = client.token()
        assert second is not None
        assert second.access_token != first.access_token


def test_password_grant_refreshes_and_signs_in_again_after_revocation(setup: Setup) -> None:
    clock = FakeClock()
    credentials = Password("admin", setup.server.admin_password, CLIENT_ID, CLIENT_SECRET)
    with Client(setup.url, credentials, clock=clock) as client:
        first = client.token()
        assert first is not None
        assert first.refresh_token is not None
        clock.now += 115
        client.get("record")
        refreshed = client.token()
        assert refreshed is not None
        assert refreshed.access_token != first.access_token
        assert refreshed.refresh_token not in (None, first.refresh_token)
        # The first refresh token was spent by the client's refresh: presenting it again
        # is a reuse, which revokes the whole sign-in, the client's new tokens included.
        reuse = httpx.post(
            setup.url + "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": first.refresh_token},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        assert reuse.status_code == 400
        assert reuse.json()["error"] == "invalid_grant"
        # The server now refuses the held token; the client signs in again by itself.
        assert client.get("record") == {"record": "stop"}
        again = client.token()
        assert again is not None
        assert again.access_token != refreshed.access_token


def test_other_credentials(setup: Setup) -> None:
    with Client(setup.url, Password("admin", setup.server.admin_password)) as signed_in:
        tokens = signed_in.token()
        assert tokens is not None
        access_token = tokens.access_token
    assert token_credentials(access_token) == Bearer(access_token)
    assert token_credentials(setup.api_key).__class__.__name__ == "ApiKey"
    api_user = token_credentials(setup.server.token)
    assert api_user == Basic("API-User", setup.server.token)
    with Client(setup.url, Bearer(access_token)) as client:
        assert client.get("light0").keys() == {"light0"}
    with Client(setup.url, api_user) as client:
        assert "light0" in client.get("light0")
        with pytest.raises(PermissionDenied) as refused:
            client.set(language="de")  # left to the admin
        assert refused.value.status == 403
        assert refused.value.dialect == "c2"
        assert refused.value.code == "forbidden"
    with Client(setup.url, Basic("admin", setup.server.admin_password)) as client:
        assert client.token() is None
        assert "language" in client.get("language")


def test_error_bodies_of_each_dialect(setup: Setup) -> None:
    with Client(setup.url) as anonymous:
        with pytest.raises(AuthError) as c2:
            anonymous.get("light0")
        assert c2.value.dialect == "c2"
        assert c2.value.code == "unauthorized"
        assert c2.value.body["error"]["status"] == 401
        assert c2.value.headers["www-authenticate"].startswith("Basic")
        with pytest.raises(AuthError) as fleet:
            anonymous.devices()
        assert fleet.value.dialect == "fleet"
        assert fleet.value.body["httpError"] == 401
        with pytest.raises(AuthError) as house:
            anonymous.recordings()
        assert house.value.dialect == "identity"
        assert house.value.body["error"] == "Unauthorized"
    with setup.admin() as client:
        with pytest.raises(NotFound) as streams:
            client.call(Call("GET", "/cameras/NOSUCHCAMERA/streams/"))
        assert streams.value.dialect == "streams"
        assert "NOSUCHCAMERA" in streams.value.message
        with pytest.raises(NotFound) as fleet_missing:
            client.device("00000000-0000-0000-0000-000000000000")
        assert fleet_missing.value.message.startswith("device ")


def test_an_unreachable_server_is_a_transport_error() -> None:
    with Client("http://127.0.0.1:9", timeout=2) as client, pytest.raises(TransportError) as error:
        client.get("light0")
    assert error.value.status is None
