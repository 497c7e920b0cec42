"""The command line's hints: a refused command says which credentials it used and how to
set others; unknown ``CAMNET_*`` variables and unknown ``get`` names are warned about."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ServerProcess, clean_env


def camnet(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "camnet", *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=60,
        check=False,
    )


def test_a_typo_in_get_is_warned_about_with_the_likely_name(server: ServerProcess) -> None:
    env = {"CAMNET_SERVER": server.url, "CAMNET_TOKEN": server.token}
    done = camnet("get", "light0", "ligth0", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert '"light0"' in done.stdout
    assert "no readable variable ligth0 (did you mean light0?)" in done.stderr
    clean = camnet("get", "light0", env=env)
    assert clean.stderr == ""


def test_a_refusal_says_which_credentials_were_used_and_how_to_set_them(
    server: ServerProcess,
) -> None:
    env = {"CAMNET_SERVER": server.url, "CAMNET_USER": "admin", "CAMNET_PASSWORD": "wrong-one"}
    done = camnet("get", "light0", env=env)
    assert done.returncode == 1
    assert "sent the password of user default\\admin from the environment" in done.stderr
    assert "--user/--password" in done.stderr
    assert "wrong-one" not in done.stderr
    flagged = camnet("get", "light0", "--token", "not-a-token", env={"CAMNET_SERVER": server.url})
    assert flagged.returncode == 1
    assert "sent a token as the c2 API-User token" in flagged.stderr
    assert "from the command line" in flagged.stderr


def test_unknown_camnet_variables_are_warned_about(server: ServerProcess) -> None:
    env = {"CAMNET_SERVER": server.url, "CAMNET_TOKEN": server.token, "CAMNET_API_ADRR": "x"}
    done = camnet("get", "light0", env=env)
    assert done.returncode == 0, done.stderr
    assert (
        "camnet: warning: CAMNET_API_ADRR is not a camnet setting "
        "(did you mean CAMNET_API_ADDR?); it is ignored"
    ) in done.stderr
    assert "CAMNET_TOKEN" not in done.stderr
