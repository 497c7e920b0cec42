"""Structured logs: request ids through a real server, credentials stripped from every
line (URLs and headers), JSON off a terminal and text on one."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest

from camnet.ops.logs import REDACTED, configure_logging, device_context, make_handler, redact
from tests.inprocess import InProcessServer, inprocess_server

SECRET = "s3cr3t-value-42"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("logs")) as running:
        yield running


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The server's log lines as the CLI writes them off a terminal (``auto``: JSON)."""
    stream = io.StringIO()
    handler = make_handler("auto", stream)
    root = logging.getLogger()
    access = logging.getLogger("camnet.access")
    previous = access.level
    root.addHandler(handler)
    access.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(previous)


def records(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_sane_request_id_is_echoed_and_logged(
    server: InProcessServer, captured: io.StringIO
) -> None:
    with server.client() as http:
        response = http.get("/healthz", headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["x-request-id"] == "trace-abc.123"

    def logged() -> bool:
        lines = [r for r in records(captured) if r["logger"] == "camnet.access"]
        return any(r["request_id"] == "trace-abc.123" and "/healthz" in r["message"] for r in lines)

    # The access line is written once the response has been sent: wait for it.
    deadline = time.monotonic() + 5
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert logged()


def test_an_insane_request_id_is_replaced(server: InProcessServer, captured: io.StringIO) -> None:
    del captured
    with server.client() as http:
        first = http.get("/healthz", headers={"X-Request-ID": "x" * 500})
        second = http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        third = http.get("/healthz")
    ids = {r.headers["x-request-id"] for r in (first, second, third)}
    assert len(ids) == 3
    assert all(len(i) == 32 and i.isalnum() for i in ids)


def test_credentials_in_request_urls_never_reach_the_log(
    server: InProcessServer, captured: io.StringIO
) -> None:
    with server.client() as http:
        http.get(f"/api?token={SECRET}&x=1")
        http.get(f"/camera.jpeg?access_token={SECRET}")
        http.get(f"/readyz?password={SECRET}")
        http.get(f"/readyz?p%61ssword={SECRET}&tok%65n={SECRET}")
    deadline = time.monotonic() + 5
    while captured.getvalue().count("camnet.access") < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    text = captured.getvalue()
    assert text.count("camnet.access") >= 4
    assert SECRET not in text
    assert f"token={REDACTED}&x=1" in text
    assert f"access_token={REDACTED}" in text


def test_device_records_carry_the_device(server: InProcessServer, captured: io.StringIO) -> None:
    device = server.app.state.node.control_unit.name
    logger = logging.getLogger("camnet.devices.probe")
    logger.setLevel(logging.INFO)
    try:
        with device_context(device):
            logger.info("probe %s", f"nats://user:{SECRET}@127.0.0.1:4222")
        logger.info("probe without")
    finally:
        logger.setLevel(logging.NOTSET)
    first, second = [r for r in records(captured) if r["message"].startswith("probe")]
    assert first["device"] == device
    assert first["message"] == f"probe nats://{REDACTED}@127.0.0.1:4222"
    assert "device" not in second


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://camnet:{SECRET}@127.0.0.1/db",
        f"GET http://127.0.0.1/api?x=1&password={SECRET}",
        f"headers={{'Authorization': 'Bearer {SECRET}', 'accept': '*/*'}}",
        f"Cookie: session={SECRET}",
        f"x-api-key: {SECRET}",
        f"[(b'authorization', b'Basic {SECRET}')]",
        f"GET /api?tok%65n={SECRET}&x=1",
        f"GET /api?x=1&p%61ssword={SECRET}",
        f"GET /api?%74%6F%6B%65%6E={SECRET}",
        f"GET /api?access%5Ftoken={SECRET}",
        f"GET /api?tok%2565n={SECRET}",
        f"GET /api?API%5FKEY={SECRET}",
    ],
)
def test_redaction_covers_urls_and_headers(text: str) -> None:
    cleaned = redact(text)
    assert SECRET not in cleaned
    assert REDACTED in cleaned


def test_exceptions_are_redacted_too() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("camnet.test.exceptions")
    logger.addHandler(make_handler("json", stream))
    logger.propagate = False
    try:
        try:
            raise ValueError(f"cannot reach nats://u:{SECRET}@127.0.0.1")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.propagate = True
        logger.handlers.clear()
    (line,) = records(stream)
    assert SECRET not in stream.getvalue()
    assert "ValueError" in line["exception"]


def test_text_on_a_terminal_and_json_otherwise() -> None:
    terminal, pipe = Tty(), io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        configure_logging("info", "auto", terminal)
        logging.getLogger("camnet.x").info("hello %s", f"token={SECRET}")
        configure_logging("info", "auto", pipe)
        logging.getLogger("camnet.x").info("hello")
        configure_logging("info", "text", pipe)
        logging.getLogger("camnet.x").info("plain")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert " INFO camnet.x: hello token=" in terminal.getvalue()
    assert SECRET not in terminal.getvalue()
    first, second = pipe.getvalue().splitlines()
    assert json.loads(first)["message"] == "hello"
    assert second.endswith("INFO camnet.x: plain")
