"""The token endpoint, every grant and every failure, against a real server whose clock
the test holds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from camnet.identity.permissions import Role
from tests.identity.helpers import basic, bearer, json_of, seed_records, token_request
from tests.inprocess import InProcessServer, inprocess_server

APP = ("owner.app", "app-secret-0123")
NO_PASSWORD_APP = ("owner.machine", "machine-secret-0123")
OTHER = ("other.app", "other-secret-0123")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    data_dir = tmp_path_factory.mktemp("identity")
    seed_records(
        data_dir,
        accounts=("test", "other"),
        users=(
            ("test", "test-user", "itsasecret", Role.OPERATOR),
            ("test", "sleeper", "itsasecret", Role.VIEWER),
            ("other", "stranger", "itsasecret", Role.ADMIN),
        ),
        clients=(
            ("owner", "app", APP[1], ("client_credentials", "password", "refresh_token")),
            ("owner", "machine", NO_PASSWORD_APP[1], ("client_credentials",)),
            ("other", "app", OTHER[1], ("client_credentials", "password")),
        ),
    )
    with inprocess_server(
        data_dir,
        token_requests_per_minute=100_000,
        token_failures_before_backoff=1000,
        token_failures_per_minute=100_000,
        token_failure_hold=0,  # OAuth's own answers here; the tarpit: test_tarpit.py
    ) as running:
        yield running


@pytest.fixture
def http(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def password_grant(http: httpx.Client, user: str = "test\\test-user") -> dict[str, object]:
    response = token_request(http, APP, grant_type="password", username=user, password="itsasecret")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_client_credentials_grant_and_verification(http: httpx.Client) -> None:
    response = token_request(http, APP, grant_type="client_credentials")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 4 * 3600
    assert "refresh_token" not in body  # RFC 6749 §4.4.3
    token = body["access_token"]
    assert len(token) >= 64  # 256 random bits, hex
    verified = http.get("/oauth/token", headers=bearer(token))
    assert verified.status_code == 200, verified.text
    info = verified.json()
    assert info["tokenType"] == "bearer"
    assert info["accessToken"] == token
    assert info["expires"].endswith("Z")
    assert info["dynamic"] is False
    assert info["clientId"] == "app"
    assert info["directoryRef"] == "owner:client"
    assert info["userRef"] == "owner:app"
    assert info["userType"] == "service"
    assert info["permissions"][0]["tenant"] == "owner"
    assert "c2:*:write" in info["permissions"][0]["actions"]


def test_password_grant_issues_a_user_token_and_a_refresh_token(http: httpx.Client) -> None:
    body = password_grant(http)
    assert body["refresh_token"]
    info = http.get("/oauth/token", headers=bearer(str(body["access_token"]))).json()
    assert info["userType"] == "user"
    assert info["userRef"] == "test:test-user"
    assert info["directoryRef"] == "test:user"
    assert [p["tenant"] for p in info["permissions"]] == ["test"]


def test_pauth_takes_json_credentials(http: httpx.Client) -> None:
    response = http.post(
        "/pauth/token", json={"username": "test\\test-user", "password": "itsasecret"}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert http.get("/oauth/token", headers=bearer(token)).json()["userRef"] == "test:test-user"
    wrong = http.post("/pauth/token", json={"username": "test\\test-user", "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    missing = http.post("/pauth/token", json={"username": "test\\test-user"})
    assert missing.status_code == 400
    assert json_of(missing)["validation"] == {"password": "required, a non-empty string"}


@pytest.mark.parametrize(
    ("credentials", "form", "status", "error"),
    [
        (("owner.app", "wrong"), {"grant_type": "client_credentials"}, 401, "invalid_client"),
        (("owner.ghost", APP[1]), {"grant_type": "client_credentials"}, 401, "invalid_client"),
        (None, {"grant_type": "client_credentials"}, 401, "invalid_client"),
        (APP, {"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        (APP, {}, 400, "invalid_request"),
        (NO_PASSWORD_APP, {"grant_type": "password", "username": "test\\test-user",
                           "password": "itsasecret"}, 400, "unauthorized_client"),
        (APP, {"grant_type": "password", "username": "test\\test-user", "password": "nope"},
         400, "invalid_grant"),
        (APP, {"grant_type": "password", "username": "test\\nobody", "password": "itsasecret"},
         400, "invalid_grant"),
        (APP, {"grant_type": "password", "username": "test\\test-user"}, 400, "invalid_request"),
        (APP, {"grant_type": "refresh_token", "refresh_token": "f" * 64}, 400, "invalid_grant"),
    ],
)  # fmt: skip
def test_token_endpoint_failures(
    http: httpx.Client,
    credentials: tuple[str, str] | None,
    form: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = token_request(http, credentials, **form)
    assert response.status_code == status, response.text
    body = json_of(response)
    assert body["error"] == error
    assert body["error_description"]
    assert body["statusCode"] == status
    assert response.headers["cache-control"] == "no-store"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


def test_unknown_user_and_wrong_password_look_the_same(http: httpx.Client) -> None:
    def attempt(username: str) -> tuple[float, str]:
        started = time.perf_counter()
        response = token_request(
            http, APP, grant_type="password", username=username, password="not-it"
        )
        return time.perf_counter() - started, response.text

    # Warm both paths once, then compare medians of a few tries.
    attempt("test\\test-user")
    known = sorted(attempt("test\\test-user")[0] for _ in range(3))[1]
    unknown = sorted(attempt("test\\no-such-user")[0] for _ in range(3))[1]
    assert attempt("test\\test-user")[1] == attempt("test\\no-such-user")[1]
    # Both verify one argon2 hash; an unknown user skipping it would be many times faster.
    assert unknown > known / 3


def test_form_must_be_urlencoded_and_parameters_single(http: httpx.Client) -> None:
    as_json = http.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, headers=basic(*APP)
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    twice = http.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=password",
        headers={**basic(*APP), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400
    assert "more than once" in twice.json()["error_description"]


def test_disabled_user_cannot_sign_in_and_its_tokens_stop(
    server: InProcessServer, http: httpx.Client
) -> None:
    token = str(password_grant(http, "test\\sleeper")["access_token"])
    assert http.get("/oauth/token", headers=bearer(token)).status_code == 200
    admin = basic("admin", server.admin_password)
    disabled = http.patch("/accounts/test/users/sleeper", json={"enabled": False}, headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["enabled"] is False
    response = token_request(
        http, APP, grant_type="password", username="test\\sleeper", password="itsasecret"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert http.get("/oauth/token", headers=bearer(token)).status_code == 401


def test_access_token_expires_with_the_clock(server: InProcessServer, http: httpx.Client) -> None:
    token = token_request(http, APP, grant_type="client_credentials").json()["access_token"]
    server.clock.advance(4 * 3600 - 5)
    assert http.get("/oauth/token", headers=bearer(token)).status_code == 200
    server.clock.advance(10)
    expired = http.get("/oauth/token", headers=bearer(token))
    assert expired.status_code == 401
    assert json_of(expired)["statusCode"] == 401
    assert http.get("/accounts/owner", headers=bearer(token)).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(http: httpx.Client) -> None:
    first = password_grant(http)
    second = token_request(
        http, APP, grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert http.get("/oauth/token", headers=bearer(rotated["access_token"])).status_code == 200
    # The old refresh token again: it leaked. Everything of this sign-in is revoked.
    reused = token_request(
        http, APP, grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert http.get("/oauth/token", headers=bearer(rotated["access_token"])).status_code == 401
    newest = token_request(
        http, APP, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
    )
    assert newest.status_code == 400


def test_refresh_token_belongs_to_its_client(http: httpx.Client) -> None:
    issued = password_grant(http)
    stolen = token_request(
        http, OTHER, grant_type="refresh_token", refresh_token=str(issued["refresh_token"])
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "unauthorized_client"  # other.app lacks the grant
    machine = token_request(
        http,
        NO_PASSWORD_APP,
        grant_type="refresh_token",
        refresh_token=str(issued["refresh_token"]),
    )
    assert machine.json()["error"] == "unauthorized_client"


def test_revocation(http: httpx.Client) -> None:
    issued = password_grant(http)
    access = str(issued["access_token"])
    refresh = str(issued["refresh_token"])
    # Another client may not revoke it (and learns nothing: 200 either way).
    foreign = http.post("/oauth/revoke", data={"token": access}, headers=basic(*OTHER))
    assert foreign.status_code == 200
    assert http.get("/oauth/token", headers=bearer(access)).status_code == 200
    revoked = http.post("/oauth/revoke", data={"token": access}, headers=basic(*APP))
    assert revoked.status_code == 200
    assert http.get("/oauth/token", headers=bearer(access)).status_code == 401
    # Revoking the refresh token ends the sign-in: no more refreshes.
    assert http.post("/oauth/revoke", data={"token": refresh}, headers=basic(*APP)).is_success
    again = token_request(http, APP, grant_type="refresh_token", refresh_token=refresh)
    assert again.json()["error"] == "invalid_grant"
    unknown = http.post("/oauth/revoke", data={"token": "nonsense"}, headers=basic(*APP))
    assert unknown.status_code == 200
    no_client = http.post("/oauth/revoke", data={"token": access})
    assert no_client.status_code == 401
    assert no_client.json()["error"] == "invalid_client"


def test_introspection(server: InProcessServer, http: httpx.Client) -> None:
    mine = password_grant(http)
    active = http.post(
        "/oauth/introspect", data={"token": mine["access_token"]}, headers=basic(*APP)
    )
    assert active.status_code == 200, active.text
    body = active.json()
    assert body["active"] is True
    assert body["username"] == "test\\test-user"
    assert body["client_id"] == "app"
    assert body["exp"] > body["iat"]
    # A token of another account is foreign: inactive, nothing else told.
    theirs = token_request(http, OTHER, grant_type="client_credentials").json()["access_token"]
    foreign = http.post("/oauth/introspect", data={"token": theirs}, headers=basic(*APP))
    assert foreign.json() == {"active": False}
    # The node admin sees every account's tokens.
    admin = basic("admin", server.admin_password)
    assert http.post("/oauth/introspect", data={"token": theirs}, headers=admin).json()["active"]
    unknown = http.post("/oauth/introspect", data={"token": "x" * 64}, headers=basic(*APP))
    assert unknown.json() == {"active": False}
    server.clock.advance(5 * 3600)
    expired = http.post(
        "/oauth/introspect", data={"token": mine["access_token"]}, headers=basic(*APP)
    )
    assert expired.json() == {"active": False}
    assert http.post("/oauth/introspect", data={"token": theirs}).status_code == 401


def test_bearer_tokens_work_on_the_c2_api_of_their_account(
    server: InProcessServer, http: httpx.Client
) -> None:
    admin_token = http.post(
        "/pauth/token", json={"username": "default\\admin", "password": server.admin_password}
    ).json()["access_token"]
    state = http.get("/api", headers=bearer(admin_token))
    assert state.status_code == 200, state.text
    assert "light0" in state.json()
    assert http.get("/api", params={"token": admin_token}).status_code == 200
    # An account that does not own this control unit does not see it at all.
    other = token_request(http, OTHER, grant_type="client_credentials").json()["access_token"]
    assert http.get("/api", headers=bearer(other)).status_code == 404
