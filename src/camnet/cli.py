"""The ``camnet`` command: ``serve``; ``token show|rotate`` for the c2 API-User token and
``token issue`` for OAuth tokens; ``account``, ``user``, ``client``, ``apikey`` and
``maintenance`` (``cli_identity.py``)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camnet import __version__
from camnet.cli_client import COMMANDS as CLIENT_COMMANDS
from camnet.cli_client import add_client_commands, run_client_command
from camnet.cli_hints import unknown_variables
from camnet.cli_identity import add_identity_commands, add_token_issue, run_identity_command
from camnet.datadir import data_dir_message, data_dir_problem
from camnet.identity.users import API_USER, UserRepository, generate_secret
from camnet.settings import Settings, SettingsError, load_settings
from camnet.store.database import Database

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT: what a shell reports for a program ended by Ctrl-C."""


def _settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--data-dir", type=Path, help="database and files (CAMNET_DATA_DIR)")
    parser.add_argument("--machine-name", help="this node's MachineName (CAMNET_MACHINE_NAME)")
    parser.add_argument("--log-level", help="debug, info, warning or error")
    parser.add_argument(
        "--db", help="database URL, postgresql://USER@HOST:PORT/DB (CAMNET_DB; default SQLite)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="camnet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"camnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    _settings_arguments(serve)
    serve.add_argument("--api-addr", help="HOST:PORT to listen on (default 127.0.0.1:8080)")
    serve.add_argument("--bus", help="'local' or a NATS URL, nats://HOST:PORT (CAMNET_BUS)")
    serve.add_argument("--mqtt", help="MQTT broker for the bridge, mqtt://HOST:PORT (CAMNET_MQTT)")
    serve.add_argument(
        "--second-head",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="simulate the control unit's second camera head",
    )

    token = commands.add_parser("token", help="the API-User token")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    show = token_commands.add_parser("show", help="what is known about the current token")
    _settings_arguments(show)
    rotate = token_commands.add_parser("rotate", help="replace the token and print the new one")
    _settings_arguments(rotate)
    rotate.add_argument("--token", help="use this token instead of a random one")
    add_token_issue(token_commands, _settings_arguments)
    add_identity_commands(commands, _settings_arguments)
    add_client_commands(commands)
    return parser


def _cli_settings(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("data_dir", "machine_name", "log_level", "api_addr", "second_head", "bus")
    return {key: getattr(args, key, None) for key in (*keys, "db", "mqtt")}


def main(argv: Sequence[str] | None = None) -> int:
    """The ``camnet`` command. A reader who stops reading early (``camnet token issue |
    head -n 1``) got what they wanted: no traceback, and success."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # Python would try to flush stdout again at exit and complain: point it nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    for warning in unknown_variables(os.environ, Settings.model_fields):
        print(warning, file=sys.stderr)
    if args.command in CLIENT_COMMANDS:
        return run_client_command(args)
    try:
        settings = load_settings(_cli_settings(args), config_file=args.config)
    except SettingsError as exc:
        print(f"camnet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if settings.db is None:  # SQLite in the data directory: it must be usable
        problem = data_dir_problem(settings.data_dir)
        if problem is not None:
            print(data_dir_message(settings.data_dir, problem), file=sys.stderr)
            return EXIT_FAILURE
    if args.command == "serve":
        return serve(settings)
    status = run_identity_command(args, settings)
    if status is not None:
        return status
    if args.token_command == "show":
        return token_show(settings)
    return token_rotate(settings, args.token)


def _bind(settings: Settings) -> socket.socket:
    host = settings.host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, settings.port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


def serve(settings: Settings) -> int:
    import uvicorn

    from camnet.app import create_app
    from camnet.ops.limits import websocket_ceiling
    from camnet.ops.logs import configure_logging
    from camnet.shutdown import GracefulServer

    configure_logging(settings.log_level, settings.log_format)
    if settings.log_file is not None:
        from camnet.ops.log_file import LogFileError, use_log_file

        try:
            use_log_file(
                settings.log_file,
                settings.log_file_max_bytes,
                settings.log_file_backups,
                settings.log_format,
            )
        except LogFileError as exc:
            print(f"camnet: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    try:
        sock = _bind(settings)
    except OSError as exc:
        print(f"camnet: cannot listen on {settings.api_addr}: {exc.strerror}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"

    def ready() -> None:
        print(f"camnet listening on {url}", flush=True)

    app = create_app(settings, listen_urls=(f"{url}/api",), on_ready=ready, http_socket=sock)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=websocket_ceiling(settings.ws_max_message_bytes),
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    # The HTTP and HTTPS listeners run inside the app (camnet.protocols.listeners), so
    # the c2 state can switch them; this server runs the lifespan and the signals.
    server = GracefulServer(config)
    try:
        server.run(sockets=[])
    except KeyboardInterrupt:
        # Ctrl-C: the shutdown above has run; asyncio re-raises the signal afterwards.
        return EXIT_INTERRUPTED
    # A process started with SIGINT ignored (a shell's background job, `nohup`) has no
    # KeyboardInterrupt re-raised: uvicorn re-raises the signal into the ignored
    # disposition. Stopped by SIGINT all the same, so the same status.
    if server.stopped_by == signal.SIGINT:
        return EXIT_INTERRUPTED
    return 0


def _open_users(settings: Settings) -> tuple[Database, UserRepository]:
    database = Database.open(settings.database_url)
    return database, UserRepository(database.engine)


def token_show(settings: Settings) -> int:
    database, users = _open_users(settings)
    try:
        record = users.get(API_USER)
    finally:
        database.close()
    if record is None:
        print(
            f"camnet: no {API_USER} yet in {settings.data_dir}; start the server once",
            file=sys.stderr,
        )
        return 1
    print(f"user: {record.name}")
    print(f"token last set: {record.secret_changed_at.isoformat()}")
    print("The token is stored only as an argon2id hash and cannot be shown again.")
    print("To get a token you can read, replace it: camnet token rotate")
    return 0


def token_rotate(settings: Settings, token: str | None) -> int:
    if token is not None and len(token) < 8:
        print("camnet: --token must be at least 8 characters", file=sys.stderr)
        return EXIT_USAGE
    new_token = token or generate_secret()
    database, users = _open_users(settings)
    try:
        changed = users.set_secret(API_USER, new_token)
    finally:
        database.close()
    if not changed:
        print(
            f"camnet: no {API_USER} yet in {settings.data_dir}; start the server once",
            file=sys.stderr,
        )
        return 1
    print(new_token)
    print(
        "A running server accepts the new token within a second; the old one stops working then.",
        file=sys.stderr,
    )
    return 0
