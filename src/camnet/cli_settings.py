"""Where the client commands find the server and the credentials: flags, then
``CAMNET_*`` environment variables, then a TOML file (``--config``, ``$CAMNET_CONFIG`` or
``~/.config/camnet/client.toml``). Pure: the caller passes the environment in.

The server address is taken key by key. Credentials are taken as a group from the first
of those three places that names any, so a password given on the command line is never
paired with a client secret left in the environment.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from camnet.client.auth import (
    ApiKey,
    ClientCredentials,
    Credentials,
    Password,
    token_credentials,
)

DEFAULT_SERVER: Final = "http://127.0.0.1:8080"
CREDENTIAL_KEYS: Final = ("token", "api_key", "user", "password", "client_id", "client_secret")
KEYS: Final = ("server", *CREDENTIAL_KEYS)


class ClientConfigError(ValueError):
    """A setting the client commands cannot use (exit status 2)."""


@dataclass(frozen=True)
class ClientSettings:
    server: str
    credentials: Credentials | None
    source: str
    """Where the credentials came from: ``flags``, ``environment``, a file path or ``none``."""


def config_path(flag: Path | None, environ: Mapping[str, str]) -> Path:
    if flag is not None:
        return flag
    if environ.get("CAMNET_CONFIG"):
        return Path(environ["CAMNET_CONFIG"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "camnet" / "client.toml"


def read_config(path: Path, required: bool) -> dict[str, str]:
    if not path.exists():
        if required:
            raise ClientConfigError(f"config file {path} does not exist")
        return {}
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ClientConfigError(f"config file {path}: {exc}") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ClientConfigError(
            f"config file {path}: unknown keys {', '.join(unknown)}; known: {', '.join(KEYS)}"
        )
    wrong = [k for k, v in data.items() if not isinstance(v, str)]
    if wrong:
        raise ClientConfigError(f"config file {path}: {', '.join(wrong)} must be strings")
    return {k: str(v) for k, v in data.items()}


def from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    found = {key: environ.get("CAMNET_" + key.upper()) for key in KEYS}
    return {k: v for k, v in found.items() if v}


def credentials_of(values: Mapping[str, str]) -> Credentials | None:
    """The credentials one layer names; a usage error for a half-given pair."""
    if "api_key" in values:
        return ApiKey(values["api_key"])
    if "token" in values:
        return token_credentials(values["token"])
    has_user = "user" in values or "password" in values
    has_client = "client_id" in values or "client_secret" in values
    if has_user and not ("user" in values and "password" in values):
        raise ClientConfigError("give both a user and a password")
    if has_client and not ("client_id" in values and "client_secret" in values):
        raise ClientConfigError("give both a client id and a client secret")
    if has_user:
        return Password(
            values["user"],
            values["password"],
            values.get("client_id"),
            values.get("client_secret"),
        )
    if has_client:
        return ClientCredentials(values["client_id"], values["client_secret"])
    return None


def resolve(
    flags: Mapping[str, str | None], environ: Mapping[str, str], config: Path | None
) -> ClientSettings:
    """The server and credentials to use, by precedence flags > environment > file."""
    path = config_path(config, environ)
    layers = [
        ("flags", {k: v for k, v in flags.items() if k in KEYS and v}),
        ("environment", from_environment(environ)),
        (str(path), read_config(path, required=config is not None or "CAMNET_CONFIG" in environ)),
    ]
    server = next((layer["server"] for _, layer in layers if "server" in layer), DEFAULT_SERVER)
    if not server.startswith(("http://", "https://")):
        raise ClientConfigError(f"the server address must start with http:// or https://: {server}")
    for source, layer in layers:
        if any(key in layer for key in CREDENTIAL_KEYS):
            return ClientSettings(server, credentials_of(layer), source)
    return ClientSettings(server, None, "none")
