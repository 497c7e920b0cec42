"""What the command line says beyond the server's answer: which credentials a refused
command used and how to set others, unknown ``CAMNET_*`` variables, and names that
``camnet get`` asked for but the server does not know (it ignores them, as the c2
document says, so without a hint a typo just prints nothing)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from camnet.client.auth import ApiKey, Basic, Bearer, ClientCredentials, Credentials, Password

CLIENT_VARIABLES = frozenset(
    {
        "CAMNET_SERVER",
        "CAMNET_TOKEN",
        "CAMNET_API_KEY",
        "CAMNET_USER",
        "CAMNET_PASSWORD",
        "CAMNET_CLIENT_ID",
        "CAMNET_CLIENT_SECRET",
        "CAMNET_CONFIG",
    }
)
"""The client commands' variables (docs/cli.md); the server's come from its settings."""
TEST_PREFIX = "CAMNET_TEST_"
"""The test suite's own variables (which outside servers to use)."""
HOW_TO_SET = (
    "set them with --user/--password, --token, --api-key or --client-id/--client-secret, "
    "the CAMNET_* variables of the same names, or ~/.config/camnet/client.toml (docs/cli.md)"
)


def describe_credentials(credentials: Credentials | None, source: str) -> str:
    """Which credentials a command sent, never the secret itself."""
    origin = {"flags": "the command line", "environment": "the environment"}.get(source, source)
    if credentials is None:
        return "no credentials were given"
    if isinstance(credentials, Password):
        via = f", through client {credentials.client_id}" if credentials.client_id else ""
        what = f"the password of user {credentials.qualified}{via}"
    elif isinstance(credentials, Basic) and credentials.user == "API-User":
        what = "a token as the c2 API-User token (64 hex digits: OAuth; cnk_…: API key)"
    elif isinstance(credentials, Basic):
        what = f"the password of user {credentials.user}"
    elif isinstance(credentials, ClientCredentials):
        what = f"the secret of OAuth client {credentials.client_id}"
    elif isinstance(credentials, ApiKey):
        what = "an API key"
    elif isinstance(credentials, Bearer):
        what = "a token"
    else:
        what = type(credentials).__name__
    return f"sent {what} from {origin}"


def refused_hint(credentials: Credentials | None, source: str) -> str:
    """The line after a 401: what was used and how to use something else."""
    return f"  camnet {describe_credentials(credentials, source)}; {HOW_TO_SET}"


def unknown_variables(environ: Mapping[str, str], server_settings: Iterable[str]) -> list[str]:
    """A warning per ``CAMNET_*`` variable nobody reads, with the likely intended name."""
    known = {f"CAMNET_{name.upper()}" for name in server_settings} | CLIENT_VARIABLES
    warnings = []
    for name in sorted(environ):
        if not name.startswith("CAMNET_") or name in known or name.startswith(TEST_PREFIX):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        meant = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"camnet: warning: {name} is not a camnet setting{meant}; it is ignored")
    return warnings


def unknown_names(requested: Iterable[str], answered: Mapping[str, object]) -> list[str]:
    """A warning per name ``get`` asked for that the answer does not hold."""
    warnings = []
    for name in dict.fromkeys(requested):
        if name in answered:
            continue
        close = difflib.get_close_matches(name, sorted(answered), n=1, cutoff=0.6)
        meant = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(
            f"camnet: warning: no readable variable {name}{meant}; the server ignored it"
        )
    return warnings
