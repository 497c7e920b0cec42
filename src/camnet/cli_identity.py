"""Identity commands: ``account add``, ``user add``, ``client add``, ``token issue``,
``apikey add`` and ``maintenance on|off`` (list, disable/enable, delete and passwd are in
``cli_manage.py``).

They act on a data directory (``--data-dir``), also while a server runs on it: the server
notices new or changed users, clients and keys within a second. ``--json`` prints one
JSON object for scripts; secrets (client secrets, API keys, tokens) are printed once and
stored only as hashes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from camnet.cli_manage import (
    add_apikey_management,
    add_client_management,
    add_user_management,
    management_handler,
)
from camnet.clock import SystemClock
from camnet.identity.accounts import AccountError, check_account_name
from camnet.identity.apikeys import ApiKeyError
from camnet.identity.clients import GRANTS, ClientError, split_client
from camnet.identity.permissions import DEFAULT_ACCOUNT, PermissionPolicy, Role
from camnet.identity.service import IdentityService, IssuedTokens
from camnet.identity.users import generate_secret, split_qualified
from camnet.maintenance import write_maintenance
from camnet.settings import Settings
from camnet.store.database import Database

EXIT_FAILURE = 1
EXIT_USAGE = 2
ROLES = [Role.ADMIN.value, Role.OPERATOR.value, Role.VIEWER.value]


class CommandError(Exception):
    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


def add_identity_commands(
    commands: Any, settings_arguments: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Register the identity sub-commands on the ``camnet`` parser."""

    def command(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
        settings_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        return parser

    account = commands.add_parser("account", help="accounts (tenants)")
    account_commands = account.add_subparsers(dest="account_command", required=True)
    add = command(account_commands, "add", "create an account")
    add.add_argument("account", metavar="ACCOUNT")

    user = commands.add_parser("user", help="users of an account")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = command(user_commands, "add", "create a user; DOMAIN is the user's account")
    add.add_argument("user", metavar="DOMAIN\\USERNAME")
    add.add_argument("--password", required=True, help="at least 8 characters")
    add.add_argument("--email", help="for the fleet login")
    add.add_argument("--role", choices=ROLES, default=Role.OPERATOR.value)
    add_user_management(user_commands, command)

    client = commands.add_parser("client", help="OAuth clients (apps)")
    client_commands = client.add_subparsers(dest="client_command", required=True)
    add = command(client_commands, "add", "create a client; prints its secret once")
    add.add_argument("client", metavar="OWNER.CLIENT_ID")
    add.add_argument(
        "--grant",
        action="append",
        choices=GRANTS,
        help="an allowed grant (repeat; default client_credentials)",
    )
    add.add_argument("--role", choices=ROLES, default=Role.OPERATOR.value)
    add.add_argument("--rate-limit", type=int, help="requests per minute (default: server's)")
    add.add_argument("--secret", help="use this secret instead of a random one (≥ 8 chars)")
    add_client_management(client_commands, command)

    apikey = commands.add_parser("apikey", help="long-lived API keys")
    apikey_commands = apikey.add_subparsers(dest="apikey_command", required=True)
    add = command(apikey_commands, "add", "create an API key; prints it once")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--account", default=DEFAULT_ACCOUNT)
    add.add_argument("--role", choices=ROLES, default=Role.OPERATOR.value)
    add_apikey_management(apikey_commands, command)

    maintenance = commands.add_parser("maintenance", help="maintenance mode (503 for clients)")
    maintenance_commands = maintenance.add_subparsers(dest="maintenance_command", required=True)
    command(maintenance_commands, "on", "switch maintenance mode on")
    command(maintenance_commands, "off", "switch maintenance mode off")


def add_token_issue(token_commands: Any, settings_arguments: Callable[..., None]) -> None:
    issue: argparse.ArgumentParser = token_commands.add_parser(
        "issue", help="issue an OAuth access token (for a user or a client)"
    )
    settings_arguments(issue)
    issue.add_argument("--json", action="store_true", help="print one JSON object")
    who = issue.add_mutually_exclusive_group()
    who.add_argument("--user", help="DOMAIN\\USERNAME (default: default\\admin)")
    who.add_argument("--client", help="OWNER.CLIENT_ID")


def _identity(settings: Settings) -> tuple[Database, IdentityService]:
    database = Database.open(settings.database_url)
    policy = PermissionPolicy(settings.api_user_read, settings.api_user_write)
    identity = IdentityService(
        database,
        policy,
        SystemClock(),
        access_lifetime=settings.token_lifetime,
        refresh_lifetime=settings.refresh_token_lifetime,
    )
    return database, identity


def _print(result: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        print("\n".join(lines))


def run_identity_command(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run the identity command ``args`` names; None when it names none of them."""
    handlers: dict[str, Callable[[argparse.Namespace, IdentityService], int]] = {
        "account": _account_add,
        "user": _user_add,
        "client": _client_add,
        "apikey": _apikey_add,
        "maintenance": _maintenance,
    }
    handler = management_handler(args) or handlers.get(args.command)
    if handler is None and args.command == "token" and args.token_command == "issue":
        handler = _token_issue
    if handler is None:
        return None
    database, identity = _identity(settings)
    try:
        return handler(args, identity)
    except CommandError as exc:
        print(f"camnet: {exc}", file=sys.stderr)
        return exc.status
    finally:
        database.close()


def _ensure_account(identity: IdentityService, account: str) -> bool:
    try:
        check_account_name(account)
        return identity.accounts.ensure(account)
    except AccountError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None


def _account_add(args: argparse.Namespace, identity: IdentityService) -> int:
    try:
        identity.accounts.create(args.account)
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    _print({"account": args.account}, args.json, [f"account {args.account} created"])
    return 0


def _user_add(args: argparse.Namespace, identity: IdentityService) -> int:
    if "\\" not in args.user:
        raise CommandError("name the user as DOMAIN\\USERNAME (the domain is its account)", 2)
    domain, username = split_qualified(args.user)
    if not username or len(args.password) < 8:
        raise CommandError("a username and a password of at least 8 characters", EXIT_USAGE)
    created_account = _ensure_account(identity, domain)
    try:
        user = identity.users.create(
            username, Role(args.role), args.password, account=domain, email=args.email
        )
    except IntegrityError:
        raise CommandError(f"user {args.user} or email {args.email} exists already") from None
    result = {**user.public(), "accountCreated": created_account}
    lines = [f"user {user.qualified} created with role {user.role.value}"]
    if created_account:
        lines.insert(0, f"account {domain} created")
    _print(result, args.json, lines)
    return 0


def _client_add(args: argparse.Namespace, identity: IdentityService) -> int:
    try:
        owner, client_id = split_client(args.client)
    except ClientError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if args.secret is not None and len(args.secret) < 8:
        raise CommandError("--secret must be at least 8 characters", EXIT_USAGE)
    if args.rate_limit is not None and args.rate_limit < 1:
        raise CommandError("--rate-limit must be at least 1", EXIT_USAGE)
    created_account = _ensure_account(identity, owner)
    secret = args.secret or generate_secret()
    grants = tuple(dict.fromkeys(args.grant or ["client_credentials"]))
    try:
        client = identity.clients.create(
            owner, client_id, secret, grants, Role(args.role), args.rate_limit
        )
    except ClientError as exc:
        raise CommandError(str(exc)) from None
    result = {
        "owner": owner,
        "client_id": client.client_id,
        "client_secret": secret,
        "grants": list(client.grants),
        "role": client.role.value,
        "accountCreated": created_account,
    }
    lines = [
        f"client_id: {client.client_id}",
        f"client_secret: {secret}",
        f"Authenticate with HTTP Basic '{client.reference}:<client_secret>'. "
        "The secret is stored hashed and cannot be shown again.",
    ]
    _print(result, args.json, lines)
    return 0


def _apikey_add(args: argparse.Namespace, identity: IdentityService) -> int:
    _ensure_account(identity, args.account)
    try:
        record, key = identity.api_keys.create(args.account, args.name, Role(args.role))
    except ApiKeyError as exc:
        raise CommandError(str(exc)) from None
    result = {**record.public(), "key": key}
    lines = [
        key,
        f"API key {record.name} of {record.account} ({record.role.value}). Send it as "
        "'X-API-Key: <key>'; it is stored hashed and cannot be shown again.",
    ]
    _print(result, args.json, lines)
    return 0


def _token_issue(args: argparse.Namespace, identity: IdentityService) -> int:
    tokens: IssuedTokens
    if args.client:
        owner, _, client_id = args.client.rpartition(".")
        client = identity.clients.get(owner, client_id)
        if client is None:
            raise CommandError(f"no client {args.client}")
        tokens = identity.issue_for_client(client)
        subject = client.reference
    else:
        domain, username = split_qualified(args.user or f"{DEFAULT_ACCOUNT}\\admin")
        user = identity.users.get(username, domain)
        if user is None or not user.enabled:
            raise CommandError(f"no enabled user {domain}\\{username}")
        tokens = identity.issue_for_user(user)
        subject = user.qualified
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + tokens.expires_in))
    _print(
        tokens.body(),
        args.json,
        [tokens.access_token, f"bearer token for {subject}, valid until {expires}"],
    )
    return 0


def _maintenance(args: argparse.Namespace, identity: IdentityService) -> int:
    active = args.maintenance_command == "on"
    write_maintenance(identity.engine, active)
    _print(
        {"active": active},
        args.json,
        [f"maintenance mode {'on' if active else 'off'}; a running server follows within 1 s"],
    )
    return 0
