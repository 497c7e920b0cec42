"""Where the client commands take the server and credentials from, and how a value's
text is typed (pure; no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from camnet.cli_client import UsageError, coerce, progress_line
from camnet.cli_settings import ClientConfigError, config_path, resolve
from camnet.client import ApiKey, Basic, ClientCredentials, Password


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "client.toml"
    config.write_text(
        'server = "http://127.0.0.1:7001"\nclient_id = "a.b"\nclient_secret = "from-file"\n'
    )
    env = {"CAMNET_CONFIG": str(config)}
    from_file = resolve({}, env, None)
    assert from_file.server == "http://127.0.0.1:7001"
    assert from_file.credentials == ClientCredentials("a.b", "from-file")
    assert from_file.source == str(config)

    env |= {"CAMNET_SERVER": "http://127.0.0.1:7002", "CAMNET_API_KEY": "cnk_env"}
    from_env = resolve({}, env, None)
    assert from_env.server == "http://127.0.0.1:7002"
    assert from_env.credentials == ApiKey("cnk_env")  # credentials as a group, not mixed

    flags = {"server": "http://127.0.0.1:7003", "user": "admin", "password": "pw"}
    from_flags = resolve(flags, env, None)
    assert from_flags.server == "http://127.0.0.1:7003"
    assert from_flags.credentials == Password("admin", "pw")
    assert from_flags.source == "flags"


def test_defaults_and_refusals(tmp_path: Path) -> None:
    empty = resolve({}, {"HOME": str(tmp_path)}, None)
    assert (empty.server, empty.credentials) == ("http://127.0.0.1:8080", None)
    assert config_path(None, {"HOME": "/h"}) == Path("/h/.config/camnet/client.toml")
    assert config_path(None, {"XDG_CONFIG_HOME": "/x"}) == Path("/x/camnet/client.toml")
    assert resolve({"token": "not-hex-so-c2"}, {}, None).credentials == Basic(
        "API-User", "not-hex-so-c2"
    )
    with pytest.raises(ClientConfigError, match="both a user and a password"):
        resolve({"user": "admin"}, {}, None)
    with pytest.raises(ClientConfigError, match="http://"):
        resolve({"server": "127.0.0.1:8080"}, {}, None)
    with pytest.raises(ClientConfigError, match="does not exist"):
        resolve({}, {}, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('colour = "blue"\n')
    with pytest.raises(ClientConfigError, match="unknown keys colour"):
        resolve({}, {}, bad)


def test_values_typed_like_the_current_value() -> None:
    assert coerce("light0", "ON", False, True) is True
    assert coerce("gain", "7", 3, True) == 7
    assert coerce("gain", "3.5", 3, True) == 3.5
    assert coerce("name", "42", "x", True) == "42"  # a string stays a string
    assert coerce("pan0", '{"x": 1}', {"x": 0, "y": 0}, True) == {"x": 1}
    assert coerce("takePicture", "true", None, False) is True  # write-only: JSON if it is
    assert coerce("createTag", "door", None, False) == "door"
    with pytest.raises(UsageError):
        coerce("gain", "loud", 3, True)
    with pytest.raises(UsageError):
        coerce("pan0", "left", {"x": 0}, True)


def test_progress_line() -> None:
    assert progress_line(0, 2**20, width=10) == "[----------]   0% 0.0/1.0 MiB"
    assert progress_line(2**19, 2**20, width=10) == "[#####-----]  50% 0.5/1.0 MiB"
    assert progress_line(3 * 2**20, None) == "     3.0 MiB"
