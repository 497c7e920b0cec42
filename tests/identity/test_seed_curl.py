"""The identity document's curl commands, as written but for the host, against a real
server whose records were made with the ``camnet`` command while it ran.

The commands are cut out of the vendor document at test time (``tests/seeds.py``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.seeds import shell_commands
from tests.support import ServerProcess, clean_env

IDENTITY_DOCUMENT = "ENCODED_CLIENT_CREDS"
"""Text only the identity vendor document contains."""
STEPS = {
    "discovery": "/services/$ACCOUNT_NAME",
    "encode": "export ENCODED_CLIENT_CREDS=",
    "app": "grant_type=client_credentials",
    "user": "grant_type=password",
    "verify": "Bearer $ACCESS_TOKEN",
}
"""Each step of the document's walk-through, by text only its command holds."""


def blocks(url: str) -> dict[str, str]:
    """The document's commands by step, their vendor hosts replaced by ``url``."""
    commands = [
        re.sub(r"https://[a-z0-9-]+\.pikselpalette\.com", url, command)
        for command in shell_commands(IDENTITY_DOCUMENT)
    ]
    found: dict[str, str] = {}
    for step, marker in STEPS.items():
        matching = [command for command in commands if marker in command]
        assert len(matching) == 1, f"{step}: {len(matching)} commands contain {marker!r}"
        found[step] = matching[0]
    return found


def camnet(server: ServerProcess, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "camnet", *args, "--data-dir", str(server.data_dir), "--json"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def bash(script: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"< HTTP/1.1 200", done.stderr), done.stderr
    return done.stdout


def test_the_seed_curl_commands_succeed(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    camnet(server, "account", "add", "test")
    camnet(server, "user", "add", "test\\test-user", "--password", "itsasecret")
    client = camnet(
        server,
        "client", "add", "owner.your_client_id",
        "--grant", "client_credentials", "--grant", "password",
        "--secret", "your_secret",
    )  # fmt: skip
    assert client["client_id"] == "your_client_id"
    assert client["client_secret"] == "your_secret"
    steps = blocks(server.url)
    env = {"ACCOUNT_NAME": "test"}

    services = json.loads(bash(steps["discovery"], env))["services"]
    assert {"identity", "registry"} <= {service["name"] for service in services}
    assert all(service["location"] == server.url for service in services)

    app = json.loads(bash(steps["encode"] + "\n" + steps["app"], env))
    assert app["token_type"] == "bearer"
    assert app["expires_in"] == 14400

    user = json.loads(bash(steps["encode"] + "\n" + steps["user"], env))
    assert user["token_type"] == "bearer"

    verified = json.loads(bash(steps["verify"], {**env, "ACCESS_TOKEN": user["access_token"]}))
    assert verified["accessToken"] == user["access_token"]
    assert verified["clientId"] == "your_client_id"
    assert verified["userRef"] == "test:test-user"
    assert verified["permissions"][0]["tenant"] == "test"
