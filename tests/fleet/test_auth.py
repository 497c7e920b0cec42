"""Sign-in by email and password, refresh rotation, API keys, and the fleet error body on
every refusal."""

from __future__ import annotations

import httpx

from tests.fleet.conftest import OTHER_EMAIL, PASSWORD
from tests.fleet.helpers import ADMIN_EMAIL, bearer, fleet_error, login
from tests.inprocess import InProcessServer


def test_login_answers_the_seeds_body(fleet_server: InProcessServer) -> None:
    with fleet_server.client() as http:
        response = http.post(
            "/api/v1/auth/login",
            json={"email": ADMIN_EMAIL, "password": fleet_server.admin_password},
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["user"] == {
            "type": "user",
            "name": "admin",
            "email": ADMIN_EMAIL,
            "role": ["admin"],
        }
        assert data["token_type"] == "bearer"
        assert isinstance(data["expires_in"], int)
        assert data["expires_in"] > 0
        assert data["access_token"] != data["refresh_token"]
        devices = http.get("/api/v1/devices", headers=bearer(data["access_token"]))
        assert devices.status_code == 200


def test_wrong_password_and_unknown_email_are_the_same_401(fleet_server: InProcessServer) -> None:
    with fleet_server.client() as http:
        wrong = http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": "nope"})
        unknown = http.post("/api/v1/auth/login", json={"email": "x@y.z", "password": "nope"})
        assert fleet_error(wrong, 401) == fleet_error(unknown, 401)
        fleet_error(http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL}), 422)
        fleet_error(
            http.post(
                "/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"}
            ),
            400,
        )


def test_refresh_rotates_and_a_reused_token_ends_the_session(
    fleet_server: InProcessServer,
) -> None:
    with fleet_server.client() as http:
        first = login(http, OTHER_EMAIL, PASSWORD)
        second = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200, second.text
        rotated = second.json()["data"]
        assert rotated["refresh_token"] != first["refresh_token"]
        assert rotated["user"]["email"] == OTHER_EMAIL
        assert http.get("/api/v1/devices", headers=bearer(rotated["access_token"])).is_success
        reused = http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        fleet_error(reused, 401)
        # The whole session is revoked: the rotated tokens stop working too.
        after = http.get("/api/v1/devices", headers=bearer(rotated["access_token"]))
        fleet_error(after, 401)


def test_requests_without_valid_credentials_get_the_fleet_401(
    fleet_server: InProcessServer,
) -> None:
    with httpx.Client(base_url=fleet_server.url) as http:
        for method, path in [
            ("GET", "/api/v1/devices"),
            ("GET", "/api/v1/devices/x"),
            ("PUT", "/api/v1/devices/x"),
            ("POST", "/api/v1/devices/x/image"),
            ("GET", "/api/v1/webhooks"),
            ("POST", "/api/v1/webhooks"),
            ("PUT", "/api/v1/webhooks/1"),
            ("DELETE", "/api/v1/webhooks/1"),
            ("GET", "/api/v1/webhooks/1/deliveries"),
            ("POST", "/api/v1/api-keys"),
        ]:
            response = http.request(method, path, headers=bearer("0" * 64))
            fleet_error(response, 401)


def test_api_keys_are_shown_once_and_work(fleet_server: InProcessServer) -> None:
    with fleet_server.client() as http:
        token = login(http, OTHER_EMAIL, PASSWORD)["access_token"]
        made = http.post(
            "/api/v1/api-keys", json={"name": "m2m", "scope": "read"}, headers=bearer(token)
        )
        assert made.status_code == 201, made.text
        key = made.json()["data"]["key"]
        assert key.startswith("cnk_")
        listed = http.get("/api/v1/devices", headers={"Authorization": f"ApiKey {key}"})
        assert listed.status_code == 200
        again = http.post(
            "/api/v1/api-keys", json={"name": "m2m", "scope": "read"}, headers=bearer(token)
        )
        fleet_error(again, 409)
        bad = http.post(
            "/api/v1/api-keys", json={"name": "x", "scope": "root"}, headers=bearer(token)
        )
        fleet_error(bad, 422)
        admin_key = http.post(
            "/api/v1/api-keys", json={"name": "big", "scope": "admin"}, headers=bearer(token)
        )
        fleet_error(admin_key, 403)
