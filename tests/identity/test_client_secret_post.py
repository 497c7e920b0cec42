"""``client_secret_post`` at ``/oauth/token`` (RFC 6749 §2.3.1, a MAY): the client's id
and secret in the form body instead of HTTP Basic, as OAuth libraries send them when
told to (Authlib's ``token_endpoint_auth_method="client_secret_post"``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from camnet.identity.permissions import Role
from tests.identity.helpers import basic, bearer, seed_records
from tests.inprocess import InProcessServer, inprocess_server

CLIENT = ("owner.app", "app-secret-0123")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    data_dir = tmp_path_factory.mktemp("secret-post")
    seed_records(
        data_dir,
        accounts=("test",),
        users=(("test", "test-user", "itsasecret", Role.OPERATOR),),
        clients=(("owner", "app", CLIENT[1], ("client_credentials", "password")),),
    )
    with inprocess_server(data_dir, token_failures_before_backoff=1000) as running:
        yield running


@pytest.fixture
def http(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def test_client_credentials_with_the_secret_in_the_body(http: httpx.Client) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]}
    answer = http.post("/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    verified = http.get("/oauth/token", headers=bearer(token)).json()
    assert verified["userRef"] == "owner:app"


def test_password_grant_with_the_secret_in_the_body(http: httpx.Client) -> None:
    form = {
        "grant_type": "password",
        "username": "test\\test-user",
        "password": "itsasecret",
        "client_id": CLIENT[0],
        "client_secret": CLIENT[1],
    }
    answer = http.post("/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"


def test_wrong_secret_is_invalid_client(http: httpx.Client) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": "no"}
    answer = http.post("/oauth/token", data=form)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        (
            {
                "grant_type": "client_credentials",
                "client_id": CLIENT[0],
                "client_secret": CLIENT[1],
            },
            basic(*CLIENT),
        ),
        ({"grant_type": "client_credentials", "client_secret": CLIENT[1]}, {}),
    ],
    ids=["both-ways", "secret-without-id"],
)
def test_one_way_only_and_never_a_secret_alone(
    http: httpx.Client, form: dict[str, str], headers: dict[str, str]
) -> None:
    answer = http.post("/oauth/token", data=form, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_an_id_without_a_secret_is_not_a_client(http: httpx.Client) -> None:
    answer = http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT[0]}
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
