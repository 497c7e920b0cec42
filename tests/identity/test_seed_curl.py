"""The identity seed's curl commands, as written but for the host, against a real server
whose records were made with the ``camnet`` command while it ran."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.support import ServerProcess, clean_env

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "identity_curl.sh"


def blocks(url: str) -> dict[str, str]:
    text = re.sub(r"https://[a-z0-9-]+\.pikselpalette\.com", url, SCRIPT.read_text())
    found = dict(re.findall(r"# --- (\w+)\n(.*?)(?=\n# ---|\Z)", text, flags=re.DOTALL))
    assert set(found) == {"discovery", "encode", "app", "user", "verify"}
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
