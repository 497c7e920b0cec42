"""Fuzzing every face with the input classes that once made 500s (issue 17, item 9), so the
next route that forgets one is caught: JSON documents of random shape holding at least one
lone surrogate (key or value), ``NaN``/``Infinity``, a number that overflows to infinity
or an integer of more than 4,300 digits; and numbers no limit allows (thousands of digits,
Unicode digits) in paging queries and ``If-Match``. Each request must get a 4xx in its
face's dialect; none may be a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fleet.helpers import ADMIN_EMAIL, bearer, login
from tests.inprocess import InProcessServer, inprocess_server
from tests.ops.test_bad_input import STREAMS, Dialect, c2, fleet, gateway, house, streams

FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
JSON = {"Content-Type": "application/json"}

surrogates = st.integers(0xD800, 0xDFFF).map(lambda code: f'"\\u{code:04x}"')
constants = st.sampled_from(["NaN", "Infinity", "-Infinity"])
overflows = st.integers(309, 5000).map(lambda exponent: f"1e{exponent}")
huge_integers = st.integers(4301, 6000).map(lambda digits: "7" * digits)
poison: st.SearchStrategy[str] = st.one_of(surrogates, constants, overflows, huge_integers)
"""A JSON fragment (as text) that no face may accept."""

plain: st.SearchStrategy[str] = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=6)
).map(json.dumps)


@st.composite
def poisoned_documents(draw: st.DrawFn) -> bytes:
    """A JSON object of random shape with a poisoned fragment as a value or a key."""
    names = draw(st.lists(st.text(max_size=6).map(json.dumps), max_size=3))
    values = draw(st.lists(plain, min_size=len(names), max_size=len(names)))
    members = [f"{name}: {value}" for name, value in zip(names, values, strict=True)]
    bad = draw(poison)
    if bad.startswith('"') and draw(st.booleans()):
        member = f"{bad}: {draw(plain)}"  # the poison as a key
    else:
        value = f"[{bad}]" if draw(st.booleans()) else bad
        member = f"{json.dumps(draw(st.text(max_size=6)))}: {value}"
    members.insert(draw(st.integers(0, len(members))), member)
    document = "{" + ", ".join(members) + "}"
    if draw(st.booleans()):
        document = '{"Topic": ' + document + "}"  # one level deeper
    return document.encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("fuzz-bad-input")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    """Signed in for every face: Basic for most, the fleet's Bearer where it is needed."""
    with server.client() as http:
        token = login(http, ADMIN_EMAIL, server.admin_password)["access_token"]
        http.headers.update(bearer(token))
        yield http


def json_faces(server: InProcessServer) -> list[tuple[str, Dialect]]:
    machine = server.app.state.node.settings.machine_name
    return [
        ("/api", c2),
        (f"/nodes/{machine}/api", c2),
        (STREAMS + "/control", streams),
        (STREAMS + "/config", streams),
        ("/pauth/token", house),
        ("/oauth/token", house),
        ("/ui/session", house),
        ("/gateway/24.1.0/publish", gateway),
        ("/accounts", house),
        ("/accounts/default/users", house),
        ("/data/tags", house),
        ("/api/v1/webhooks", fleet),
    ]


def check(answer: httpx.Response, dialect: Dialect, what: Any) -> None:
    assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:200])
    dialect(answer)


@FUZZ
@given(document=poisoned_documents())
def test_poisoned_json_is_4xx_on_every_face(
    server: InProcessServer, client: httpx.Client, document: bytes
) -> None:
    for path, dialect in json_faces(server):
        answer = client.post(path, content=document, headers=JSON)
        check(answer, dialect, (path, document[:80]))


unbounded_numbers = st.one_of(
    st.integers(19, 6000).map(lambda digits: "8" * digits),
    st.text(alphabet=st.sampled_from("²³¹١٢٣۴߁०௧๑"), min_size=1, max_size=4),
)


@FUZZ
@given(number=unbounded_numbers)
def test_unbounded_numbers_in_paging_are_4xx(client: httpx.Client, number: str) -> None:
    for path, names, dialect in (
        ("/data/recordings", ("page", "perPage"), house),
        ("/data/tags", ("page", "perPage"), house),
        ("/api/v1/devices", ("page", "per_page"), fleet),
    ):
        for name in names:
            answer = client.get(path, params={name: number})
            check(answer, dialect, (path, name, number[:20]))


@FUZZ
@given(number=st.integers(19, 6000).map(lambda digits: "5" * digits))
def test_unbounded_if_match_is_412(client: httpx.Client, number: str) -> None:
    device = client.get("/api/v1/devices").json()["data"][0]["uuid"]
    answer = client.put(
        f"/api/v1/devices/{device}", json={"name": "x"}, headers={"If-Match": f'"{number}"'}
    )
    assert answer.status_code == 412, answer.text[:200]
    fleet(answer)
    answer = client.patch(
        "/accounts/default/users/admin", json={"enabled": True}, headers={"If-Match": number}
    )
    assert answer.status_code == 412, answer.text[:200]
    house(answer)
