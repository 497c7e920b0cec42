"""Managing what ``camnet user|client|apikey add`` made: list, disable/enable, delete and
``passwd`` for users; list and delete for OAuth clients and API keys.

Like the ``add`` commands they act on the data directory's database, with the server
stopped or running (a running server notices within a second). That makes
``camnet user passwd admin`` the recovery path for a lost admin password: it needs only
access to the data directory, not the old password. Changes go through the identity
repositories the HTTP API uses, so their rules (versions, revocation) apply here too.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

from camnet.identity.removal import RemovalError, delete_client, delete_user
from camnet.identity.service import IdentityService
from camnet.identity.users import UserRecord, generate_secret, split_qualified

Handler = Callable[[argparse.Namespace, IdentityService], int]
MIN_PASSWORD = 8


class ManageError(Exception):
    """A command that cannot be carried out; printed as one line, exit status 1."""


def add_user_management(
    user_commands: Any, command: Callable[..., argparse.ArgumentParser]
) -> None:
    """``camnet user list|disable|enable|delete|passwd``."""
    listing = command(user_commands, "list", "list users (every account, or --account)")
    listing.add_argument("--account", help="only this account's users")
    for name, text in (
        ("disable", "disable a user: its sign-ins and tokens stop working"),
        ("enable", "enable a disabled user"),
        ("delete", "delete a user and revoke its tokens"),
    ):
        command(user_commands, name, text).add_argument("user", metavar="[DOMAIN\\]USERNAME")
    passwd = command(
        user_commands,
        "passwd",
        "set a user's password (also with the server stopped: `camnet user passwd admin` "
        "recovers a lost admin password)",
    )
    passwd.add_argument("user", metavar="[DOMAIN\\]USERNAME")
    how = passwd.add_mutually_exclusive_group()
    how.add_argument("--password", help="the new password (≥ 8 characters)")
    how.add_argument("--generate", action="store_true", help="a random password, printed once")


def add_client_management(
    client_commands: Any, command: Callable[..., argparse.ArgumentParser]
) -> None:
    """``camnet client list|delete``."""
    listing = command(client_commands, "list", "list OAuth clients (every account, or --owner)")
    listing.add_argument("--owner", help="only this account's clients")
    command(client_commands, "delete", "delete a client and revoke its tokens").add_argument(
        "client", metavar="OWNER.CLIENT_ID"
    )


def add_apikey_management(
    apikey_commands: Any, command: Callable[..., argparse.ArgumentParser]
) -> None:
    """``camnet apikey list|delete``."""
    listing = command(apikey_commands, "list", "list API keys (every account, or --account)")
    listing.add_argument("--account", help="only this account's keys")
    delete = command(apikey_commands, "delete", "revoke an API key (it stops working)")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--account", default=None, help="the key's account (default: default)")


def management_handler(args: argparse.Namespace) -> Handler | None:
    """The handler of a management sub-command, None for ``add`` (cli_identity's)."""
    table: dict[tuple[str, str], Handler] = {
        ("user", "list"): _user_list,
        ("user", "disable"): _user_enabled,
        ("user", "enable"): _user_enabled,
        ("user", "delete"): _user_delete,
        ("user", "passwd"): _user_passwd,
        ("client", "list"): _client_list,
        ("client", "delete"): _client_delete,
        ("apikey", "list"): _apikey_list,
        ("apikey", "delete"): _apikey_delete,
    }
    sub = getattr(args, f"{args.command}_command", None)
    handler = table.get((args.command, sub or ""))
    if handler is None:
        return None

    def guarded(args: argparse.Namespace, identity: IdentityService) -> int:
        try:
            return handler(args, identity)
        except (ManageError, RemovalError) as exc:
            print(f"camnet: {exc}", file=sys.stderr)
            return 1

    return guarded


def _emit(args: argparse.Namespace, result: object, lines: list[str]) -> int:
    print(json.dumps(result) if args.json else "\n".join(lines))
    return 0


def _user(identity: IdentityService, qualified: str) -> UserRecord:
    domain, username = split_qualified(qualified)
    user = identity.users.get(username, domain)
    if user is None:
        raise ManageError(f"no user {domain}\\{username}")
    return user


def _user_list(args: argparse.Namespace, identity: IdentityService) -> int:
    accounts = [args.account] if args.account else identity.accounts.names()
    users = [user for account in accounts for user in identity.users.list(account)]
    lines = [
        f"{user.qualified:<32} {user.role.value:<9} "
        f"{'enabled' if user.enabled else 'disabled':<9} {user.email or ''}"
        for user in users
    ]
    return _emit(args, {"users": [user.public() for user in users]}, lines or ["no users"])


def _user_enabled(args: argparse.Namespace, identity: IdentityService) -> int:
    user = _user(identity, args.user)
    enabled = args.user_command == "enable"
    changed = identity.users.change(user.account, user.name, None, enabled=enabled)
    if changed is None:
        raise ManageError(f"user {user.qualified} changed meanwhile; try again")
    return _emit(args, changed.public(), [f"user {user.qualified} {args.user_command}d"])


def _user_delete(args: argparse.Namespace, identity: IdentityService) -> int:
    user = _user(identity, args.user)
    delete_user(identity.engine, user)
    return _emit(
        args,
        {"deleted": user.qualified},
        [f"user {user.qualified} deleted; its tokens are revoked"],
    )


def _new_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new password and whether camnet made it (then it is printed once)."""
    if args.password is not None:
        return args.password, False
    if args.generate or not sys.stdin.isatty():
        return generate_secret(), True
    first = getpass.getpass("new password: ")
    if first != getpass.getpass("again: "):
        raise ManageError("the two passwords differ; nothing was changed")
    return first, False


def _user_passwd(args: argparse.Namespace, identity: IdentityService) -> int:
    user = _user(identity, args.user)
    password, generated = _new_password(args)
    if len(password) < MIN_PASSWORD:
        raise ManageError(f"a password has at least {MIN_PASSWORD} characters")
    changed = identity.users.change(user.account, user.name, None, password=password)
    if changed is None:
        raise ManageError(f"user {user.qualified} changed meanwhile; try again")
    # Issue 17 item 7, as through the API: the user's tokens end with the old password
    # (a running server closes their open sessions when it sees the change).
    identity.tokens.revoke_subject("user", changed.id, identity.clock.now(), None)
    result: dict[str, object] = {**changed.public()}
    lines = [
        f"password of {user.qualified} changed and its tokens revoked; "
        "a running server uses it within a second"
    ]
    if generated:
        result["password"] = password
        lines.insert(0, password)
    return _emit(args, result, lines)


def _client_list(args: argparse.Namespace, identity: IdentityService) -> int:
    owners = [args.owner] if args.owner else identity.accounts.names()
    clients = [client for owner in owners for client in identity.clients.list(owner)]
    lines = [
        f"{client.reference:<40} {client.role.value:<9} {','.join(client.grants)}"
        for client in clients
    ]
    return _emit(
        args, {"clients": [client.public() for client in clients]}, lines or ["no clients"]
    )


def _client_delete(args: argparse.Namespace, identity: IdentityService) -> int:
    owner, _, client_id = args.client.rpartition(".")
    client = identity.clients.get(owner, client_id)
    if client is None:
        raise ManageError(f"no client {args.client}")
    delete_client(identity.engine, client)
    return _emit(
        args,
        {"deleted": client.reference},
        [f"client {client.reference} deleted; its tokens are revoked"],
    )


def _apikey_list(args: argparse.Namespace, identity: IdentityService) -> int:
    accounts = [args.account] if args.account else identity.accounts.names()
    keys = [key for account in accounts for key in identity.api_keys.list(account)]
    lines = [
        f"{key.account}/{key.name:<30} {key.role.value:<9} "
        f"{'revoked ' + key.revoked_at.isoformat() if key.revoked_at else 'live'}"
        for key in keys
    ]
    return _emit(args, {"apikeys": [key.public() for key in keys]}, lines or ["no API keys"])


def _apikey_delete(args: argparse.Namespace, identity: IdentityService) -> int:
    from camnet.identity.permissions import DEFAULT_ACCOUNT

    account = args.account or DEFAULT_ACCOUNT
    if not identity.api_keys.revoke(account, args.name):
        raise ManageError(f"no live API key {args.name} in account {account}")
    return _emit(
        args,
        {"revoked": args.name, "account": account},
        [f"API key {args.name} of {account} revoked; it stops working within a second"],
    )
