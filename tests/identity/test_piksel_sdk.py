"""Piksel's JavaScript SDK (github ``pikselpalette/sequoia-js-client-sdk``, the "Client
SDKs in javascript" the identity seed names), replayed request for request against a
real camnet on loopback.

``SdkReplay`` below builds each request exactly as the SDK's code does (method, URL,
headers, body; the file and line are cited at each step) and reads each answer the way
its code reads it. Nothing of the SDK is copied here; see docs/clients.md.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from camnet.identity.permissions import Role
from tests.identity.helpers import seed_records
from tests.inprocess import InProcessServer, inprocess_server

APP_SECRET = "app-secret-0123"


class SdkError(Exception):
    """lib/transport.js:75-86: a non-ok answer rejects with ``Error(body.message)``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class SdkReplay:
    """The SDK's ``Client`` (lib/client.js:81-101) with its ``Transport``, ``Session`` and
    ``Registry``, as the requests they send and the fields they read."""

    http: httpx.Client
    directory: str
    registry_uri: str
    # lib/transport.js:32-43: every request carries these unless an option replaces them.
    headers: dict[str, str] = field(
        default_factory=lambda: {
            "Content-Type": "application/vnd.piksel+json",
            "Accept": "application/json",
        }
    )
    identity_uri: str | None = None
    services: list[dict[str, Any]] = field(default_factory=list)
    tenant: str | None = None
    token: str | None = None
    tenants: list[dict[str, Any]] = field(default_factory=list)
    access: dict[str, Any] = field(default_factory=dict)
    sent: list[httpx.Request] = field(default_factory=list)

    def fetch(
        self, method: str, url: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        """lib/transport.js:70-95: ``deepmerge(defaults, options)``, then ``response.json()``."""
        merged = {**self.headers, **(headers or {})}
        content = body.encode() if body is not None else None
        response = self.http.request(method, url, headers=merged, content=content)
        self.sent.append(response.request)
        if not response.is_success:
            try:
                message = response.json()["message"]
            except (ValueError, KeyError, TypeError):
                message = response.reason_phrase
            raise SdkError(message, response.status_code)
        if response.status_code == 204:
            return {}
        return response.json()

    # -- lib/registry.js -------------------------------------------------------------------

    def registry_fetch(self, tenant: str) -> None:
        """lib/registry.js:140-144 and 298-306: ``GET {registryUri}/services/{tenant}``."""
        self.tenant = tenant
        self.services = self.fetch("GET", f"{self.registry_uri}/services/{tenant}")["services"]

    def service_location(self, name: str) -> str | None:
        """lib/registry.js:146-154."""
        for service in self.services:
            if service["name"] == name:
                location: str = service["location"]
                return location
        return None

    def service_descriptors(self) -> list[dict[str, Any]]:
        """lib/client.js:127-129 → lib/registry.js:209-234 and 265-271: for every service,
        ``GET {location}/descriptor/raw?owner={tenant}``, merged with the entry."""
        descriptors = []
        for service in self.services:
            json_body = self.fetch(
                "GET", f"{service['location']}/descriptor/raw?owner={self.tenant}"
            )
            descriptors.append(
                {
                    **json_body,
                    "location": service["location"],
                    "owner": service["owner"],
                    "tenant": self.tenant,
                }
            )
        return descriptors

    # -- lib/session.js --------------------------------------------------------------------

    def current_owner(self) -> str | None:
        """lib/session.js:358-381: the first tenant unless one was chosen."""
        return self.tenants[0]["name"] if self.tenants else self.tenant

    def get_identity_uri(self) -> str:
        """lib/session.js:53-74: the registry's ``identity`` location, fetching the
        registry of the directory when it is not known yet."""
        location = self.service_location("identity")
        if location is None and self.identity_uri is None:
            owner = self.current_owner() if self.tenants else self.directory
            assert owner is not None
            self.registry_fetch(owner)
            location = self.service_location("identity")
        if location is not None:
            self.identity_uri = location
        assert self.identity_uri is not None
        return self.identity_uri

    def authenticate_with_credentials(
        self, username: str | None, password: str | None, secret: str | None = None
    ) -> None:
        """lib/session.js:94-153: ``pauth`` (JSON body with the SDK's content type) or,
        with a secret, ``oauth`` (a form, unencoded ``directory\\username``)."""
        identity = self.get_identity_uri()
        headers: dict[str, str] = {}
        if secret is None:
            url = f"{identity}/pauth/token"
            body = json.dumps({"username": f"{self.directory}\\{username}", "password": password})
        else:
            url = f"{identity}/oauth/token"
            if username is not None and password is not None:
                body = f"grant_type=password&username={self.directory}\\{username}&password="
                body += quote(password, safe="-_.!~*'()")  # encodeURIComponent
            else:
                body = "grant_type=client_credentials"
            headers = {
                "authorization": f"Basic {secret}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
        access_token = self.fetch("POST", url, body, headers)["access_token"]
        self.authenticate_with_token(access_token)

    def authenticate_with_token(self, token: str) -> None:
        """lib/session.js:165-179: the bearer header, then tenants, then access."""
        self.token = token
        self.headers["authorization"] = f"Bearer {token}"
        identity = self.get_identity_uri()
        # lib/session.js:289-300
        self.tenants = self.fetch("GET", f"{identity}/pauth/tenants")["tenants"]
        # lib/session.js:310-329
        access_uri = f"{identity}/pauth/access"
        if self.current_owner():
            access_uri = f"{access_uri}?tenants={self.current_owner()}"
        self.access = self.fetch("GET", access_uri)

    # -- lib/client.js ---------------------------------------------------------------------

    def login(self, username: str | None, password: str | None, secret: str | None = None) -> None:
        """lib/client.js:197-202."""
        self.authenticate_with_credentials(username, password, secret)
        owner = self.current_owner()
        assert owner is not None
        self.registry_fetch(owner)

    def generate(self, token: str) -> None:
        """lib/client.js:244-250."""
        self.authenticate_with_token(token)
        owner = self.current_owner()
        assert owner is not None
        self.registry_fetch(owner)


def business_endpoint(descriptor: dict[str, Any], name: str, **path: str) -> tuple[str, str]:
    """lib/registry.js:77-91 and lib/business_endpoint.js:42-67: the route by ``name``,
    ``{owner}`` filled with the tenant, the other parameters from ``path``."""
    route = next(route for route in descriptor["routes"] if route["name"] == name)
    values = {"owner": descriptor["tenant"], **path}
    location = route["path"]
    for key, value in values.items():
        location = location.replace(f"{{{key}}}", value)
    assert "{" not in location, f"a path parameter was not supplied: {location}"
    return route["method"], f"{descriptor['location']}{location}"


@contextmanager
def piksel_server(data_dir: Path) -> Iterator[InProcessServer]:
    """A camnet with the accounts, user and client the SDK's flow signs in with."""
    seed_records(
        data_dir,
        accounts=("test", "owner"),
        users=(("test", "test-user", "itsasecret", Role.OPERATOR),),
        clients=(("owner", "app", APP_SECRET, ("client_credentials", "password")),),
    )
    with inprocess_server(data_dir) as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with piksel_server(tmp_path_factory.mktemp("piksel")) as running:
        yield running


@pytest.fixture
def sdk(server: InProcessServer) -> Iterator[SdkReplay]:
    with httpx.Client(timeout=10.0) as http:
        yield SdkReplay(http, directory="test", registry_uri=server.url)


def secret() -> str:
    """lib/session.js:79: ``secret`` is base64 of ``owner.client_id:client_secret``."""
    return base64.b64encode(f"owner.app:{APP_SECRET}".encode()).decode()


def assert_live_access(sdk: SdkReplay, tenant: str) -> None:
    # lib/session.js:261 reads access.expiresAt as a date for its expiry timer.
    expires = datetime.fromisoformat(sdk.access["expiresAt"].replace("Z", "+00:00"))
    assert expires > datetime.now(UTC)
    assert sdk.access["tokenType"] == "bearer"
    assert sdk.access["accessToken"] == sdk.token
    assert [grant["tenant"] for grant in sdk.access["permissions"]] == [tenant]
    assert sdk.access["permissions"][0]["actions"]


def test_pauth_login_tenants_access_registry_and_descriptors(sdk: SdkReplay) -> None:
    sdk.login("test-user", "itsasecret")
    first, login = sdk.sent[0], sdk.sent[1]
    assert first.url.path == "/services/test"
    assert login.url.path == "/pauth/token"
    assert login.headers["content-type"] == "application/vnd.piksel+json"
    assert [t["name"] for t in sdk.tenants] == ["test"]
    assert sdk.sent[3].url.query == b"tenants=test"
    assert_live_access(sdk, "test")
    assert sdk.access["userRef"] == "test:test-user"
    assert sdk.tenant == "test"
    assert sdk.service_location("identity") is not None

    descriptors = sdk.service_descriptors()
    assert len(descriptors) == len(sdk.services) >= 4
    for descriptor in descriptors:
        assert isinstance(descriptor["resourcefuls"], dict)
        assert descriptor["routes"]
        assert descriptor["tenant"] == "test"
    # A business endpoint of the descriptor is served, its {owner} filled with the tenant.
    method, url = business_endpoint(descriptors[0], "users_list")
    assert url.endswith("/accounts/test/users")
    listed = sdk.fetch(method, url)
    assert "test-user" in json.dumps(listed)


def test_oauth_password_grant(sdk: SdkReplay) -> None:
    sdk.login("test-user", "itsasecret", secret=secret())
    grant = sdk.sent[1]
    assert grant.url.path == "/oauth/token"
    assert grant.content.startswith(b"grant_type=password&username=test\\test-user&")
    assert [t["name"] for t in sdk.tenants] == ["test"]
    assert_live_access(sdk, "test")


def test_oauth_client_credentials(sdk: SdkReplay) -> None:
    sdk.login(None, None, secret=secret())
    assert sdk.sent[1].content == b"grant_type=client_credentials"
    assert [t["name"] for t in sdk.tenants] == ["owner"]
    assert_live_access(sdk, "owner")
    assert sdk.access["userType"] == "service"
    assert sdk.tenant == "owner"
    assert sdk.service_descriptors()


def test_generate_from_a_token(server: InProcessServer, sdk: SdkReplay) -> None:
    with server.client() as http:
        token = http.post(
            "/pauth/token", json={"username": "default\\admin", "password": server.admin_password}
        ).json()["access_token"]
    admin = SdkReplay(sdk.http, directory="default", registry_uri=server.url)
    admin.generate(token)
    names = [t["name"] for t in admin.tenants]
    assert names[0] == "default"  # the admin's own account first, then every other
    assert set(names) == {"default", "owner", "test"}
    assert_live_access(admin, "default")
    assert admin.tenant == "default"


def test_refusals_are_parsed_as_the_sdk_does(server: InProcessServer, sdk: SdkReplay) -> None:
    with pytest.raises(SdkError) as wrong:
        sdk.login("test-user", "wrong")
    assert wrong.value.status in (400, 401)
    assert str(wrong.value)
    sdk.login("test-user", "itsasecret")
    with pytest.raises(SdkError) as foreign:
        sdk.fetch("GET", f"{server.url}/pauth/access?tenants=owner")
    assert foreign.value.status == 404
    with pytest.raises(SdkError) as unknown:
        sdk.fetch("GET", f"{server.url}/descriptor/raw?owner=nobody")
    assert unknown.value.status == 404


def test_json_and_any_json_suffix_are_accepted_and_others_are_415(
    server: InProcessServer,
) -> None:
    body = json.dumps({"username": "test\\test-user", "password": "itsasecret"})
    with server.client() as http:
        for content_type in ("application/json", "application/vnd.piksel+json; charset=utf-8"):
            answer = http.post("/pauth/token", content=body, headers={"Content-Type": content_type})
            assert answer.status_code == 200, (content_type, answer.text)
        for content_type in ("text/plain", "application/xml", "application/+json"):
            answer = http.post("/pauth/token", content=body, headers={"Content-Type": content_type})
            assert answer.status_code == 415, content_type
            assert answer.json()["statusCode"] == 415
