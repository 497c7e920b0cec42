"""No secret is ever stored or logged in clear: after creating one of each kind, the
database files and everything the server printed are searched for every one of them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import httpx

from tests.identity.helpers import basic, bearer
from tests.support import ServerProcess, clean_env


def camnet_json(server: ServerProcess, *args: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "camnet", *args, "--data-dir", str(server.data_dir), "--json"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=True,
    )
    assert "secret" not in done.stderr.lower()
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_secrets_never_stored_or_logged_in_clear(fresh_server: ServerProcess) -> None:
    fresh_server.args = ["--log-level", "debug"]
    server = fresh_server.start()
    secrets = [server.admin_password, server.token]
    secrets.append("user-password-Zq81")
    camnet_json(server, "user", "add", "acme\\worker", "--password", secrets[-1])
    client = camnet_json(
        server, "client", "add", "acme.app", "--grant", "password", "--grant", "refresh_token"
    )
    secrets.append(client["client_secret"])
    secrets.append(camnet_json(server, "apikey", "add", "robot")["key"])
    secrets.append(camnet_json(server, "token", "issue")["access_token"])
    with httpx.Client(base_url=server.url) as http:
        issued = http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "acme\\worker", "password": secrets[2]},
            headers=basic("acme.app", client["client_secret"]),
        ).json()
        secrets += [issued["access_token"], issued["refresh_token"]]
        made = http.post(
            "/accounts/acme/clients",
            json={"clientId": "second"},
            headers=basic("admin", server.admin_password),
        ).json()
        secrets.append(made["clientSecret"])
        http.post(
            "/accounts/acme/users/worker",
            json={"password": "changed-password-Qx7"},
            headers=bearer(issued["access_token"]),
        )
        secrets.append("changed-password-Qx7")
        http.patch(
            "/accounts/acme/users/worker",
            json={"password": "changed-password-Qx7"},
            headers=basic("admin", server.admin_password),
        )
        # Failed attempts with secrets in them must not be logged either.
        http.get("/api", params={"token": "wrong-" + server.token})
        http.get("/api", params={"token": server.token})
    time.sleep(0.5)
    server.kill()  # no clean shutdown: whatever reached the files is all there is
    stored = b"".join(
        path.read_bytes() for path in server.data_dir.iterdir() if path.name.startswith("camnet")
    )
    printed = "\n".join(server.output)
    assert "camnet listening on" in printed
    for secret in secrets:
        assert secret, "every secret was created"
        for form in (secret.encode(), base64.b64encode(secret.encode())):
            assert form not in stored, f"a secret is stored in clear: {secret[:4]}…"
        assert secret not in printed, f"a secret was printed: {secret[:4]}…"
