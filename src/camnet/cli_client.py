"""The client commands of ``camnet``, over the SDK (:mod:`camnet.client`):

    camnet get [NAME…]                  camnet set NAME=VALUE…
    camnet watch [--count N]            camnet snapshot [-o FILE]
    camnet record start|stop|pause|release
    camnet tag TITLE [--note N] [--time T]
    camnet devices                      camnet recordings list | download ID [-o FILE]

Each takes ``--server`` and credentials (``--token``, ``--api-key``, ``--user`` and
``--password``, ``--client-id`` and ``--client-secret``), also from ``CAMNET_*`` variables
or ``client.toml`` (``cli_settings.py``), and ``--json`` for one stable JSON document per
result (``docs/cli.md``). Exit status: 0 ok, 1 the server refused or could not be
reached (its message on stderr), 2 a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TextIO

from camnet.cli_hints import refused_hint, unknown_names
from camnet.cli_settings import ClientConfigError, resolve
from camnet.client import CamnetError, Client, Recording
from camnet.client.models import Device

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
COMMANDS: Final = frozenset(
    {"get", "set", "watch", "snapshot", "record", "tag", "devices", "recordings"}
)
RECORD_STATES: Final = ("start", "stop", "pause", "release")
HTTP_UNAUTHORIZED: Final = 401
SIGN_IN_REFUSED: Final = frozenset({"invalid_grant", "invalid_client"})
"""OAuth codes of a sign-in the server refused (400 or 401): the credentials are wrong."""
_TRUE: Final = frozenset({"true", "1", "on", "yes"})
_FALSE: Final = frozenset({"false", "0", "off", "no"})


class UsageError(Exception):
    """Wrong arguments found after parsing (exit status 2)."""


# parsing ---------------------------------------------------------------------------------


def _client_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server and credentials (flags > CAMNET_* > client.toml)")
    group.add_argument("--server", help="http://HOST:PORT (CAMNET_SERVER)")
    group.add_argument(
        "--token", help="an access token, an API key or the c2 API-User token (CAMNET_TOKEN)"
    )
    group.add_argument("--api-key", help="a cnk_… API key (CAMNET_API_KEY)")
    group.add_argument("--user", help="user name, DOMAIN\\USER or bare for default (CAMNET_USER)")
    group.add_argument("--password", help="the user's password (CAMNET_PASSWORD)")
    group.add_argument("--client-id", help="OAuth client OWNER.CLIENT_ID (CAMNET_CLIENT_ID)")
    group.add_argument("--client-secret", help="its secret (CAMNET_CLIENT_SECRET)")
    group.add_argument(
        "--config",
        type=Path,
        help="client TOML file ($CAMNET_CONFIG, ~/.config/camnet/client.toml)",
    )
    group.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--json", action="store_true", help="print stable JSON (docs/cli.md)")


def add_client_commands(commands: Any) -> None:
    """Register the client sub-commands on the ``camnet`` parser."""

    def command(name: str, help_text: str, parent: Any = commands) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
        _client_arguments(parser)
        return parser

    get = command("get", "read state variables (all readable ones when none is named)")
    get.add_argument("names", nargs="*", metavar="NAME")
    set_ = command("set", "write state variables, all or nothing")
    set_.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
    watch = command("watch", "print state changes as they happen, until Ctrl-C")
    watch.add_argument("--count", type=int, help="stop after this many messages")
    watch.add_argument(
        "--no-initial", action="store_true", help="leave out the whole state sent first"
    )
    snapshot = command("snapshot", "save one live JPEG")
    snapshot.add_argument("-o", "--output", default="snapshot.jpg", help="file, or - for stdout")
    record = command("record", "start, stop, pause or release recording")
    record.add_argument("state", choices=RECORD_STATES)
    tag = command("tag", "tag this moment (or --time) in the recordings")
    tag.add_argument("title")
    tag.add_argument("--note", default="")
    tag.add_argument("--time", help="unix seconds or ISO 8601 with zone (default: now)")
    devices = command("devices", "the devices of the network")
    online = devices.add_mutually_exclusive_group()
    online.add_argument("--online", dest="online", action="store_true", default=None)
    online.add_argument("--offline", dest="online", action="store_false")
    devices.add_argument("--group")

    recordings = commands.add_parser("recordings", help="recorded segments")
    which = recordings.add_subparsers(dest="recordings_command", required=True)
    listing = command("list", "list recordings, newest first", which)
    listing.add_argument("--kind", choices=("manual", "backup"))
    listing.add_argument("--tagged", action=argparse.BooleanOptionalAction, default=None)
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--per-page", type=int, default=20)
    download = command("download", "download a recording's file (resumes)", which)
    download.add_argument("id", type=int, metavar="ID")
    download.add_argument("-o", "--output", help="file (default: the recording's file name)")


# values ----------------------------------------------------------------------------------


def split_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def coerce(name: str, text: str, current: Any, known: bool) -> Any:
    """A value typed like the variable's current value, as the server answered it.

    Booleans take true/false, 1/0, on/off, yes/no; numbers a number; objects and lists
    JSON; strings the text as it is. A variable the user cannot read (a write-only
    trigger) gets JSON when the text is JSON, else the text."""
    if not known:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if isinstance(current, bool):
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise UsageError(f"{name} is true or false, not {text!r}")
    if isinstance(current, int | float):
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"{name} is a number, not {text!r}") from None
    if isinstance(current, dict | list):
        try:
            return json.loads(text)
        except ValueError:
            raise UsageError(f"{name} takes JSON, e.g. {json.dumps(current)}") from None
    return text


# output ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, ensure_ascii=False, sort_keys=False) + "\n")
    out.flush()


def _print_values(values: Mapping[str, Any], out: TextIO) -> None:
    for name, value in values.items():
        out.write(f"{name} = {_text(value)}\n")
    out.flush()


def progress_line(done: int, total: int | None, width: int = 30) -> str:
    """A one-line bar: ``[#####-----]  50%  1.2/2.4 MiB``."""
    mib = done / 2**20
    if not total:
        return f"{mib:8.1f} MiB"
    fraction = min(1.0, done / total)
    filled = int(fraction * width)
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {fraction * 100:3.0f}% "
        f"{mib:.1f}/{total / 2**20:.1f} MiB"
    )


class ProgressBar:
    """Redraws the bar on a terminal at most ten times a second; silent elsewhere."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._drawn = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._drawn < 0.1 and done != total):
            return
        self._drawn = now
        self.stream.write("\r" + progress_line(done, total))
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


# commands --------------------------------------------------------------------------------


def _get(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    values = client.get(*args.names)
    if any(name not in values for name in args.names):  # the server ignores unknown names
        for warning in unknown_names(args.names, client.get()):
            print(warning, file=sys.stderr)
    if args.json:
        _print_json(values, out)
    else:
        _print_values(values, out)
    return EXIT_OK


def _set(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    pairs = [split_assignment(a) for a in args.assignments]
    current = client.get(*dict.fromkeys(name for name, _ in pairs))
    values = {name: coerce(name, text, current.get(name), name in current) for name, text in pairs}
    answer = client.set(values)
    if args.json:
        _print_json(answer, out)
    else:
        _print_values(answer, out)
    return EXIT_OK


def _watch(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    count = 0
    changes = client.watch()
    try:
        for change in changes:
            if change.initial and args.no_initial:
                continue
            if args.json:
                _print_json({"initial": change.initial, "values": change.values}, out)
            else:
                _print_values(change.values, out)
            count += 1
            if args.count is not None and count >= args.count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        changes.close()
    return EXIT_OK


def _snapshot(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    import simplejpeg

    jpeg = client.snapshot()
    height, width, _, _ = simplejpeg.decode_jpeg_header(jpeg)
    if args.output == "-":
        sys.stdout.buffer.write(jpeg)
        sys.stdout.buffer.flush()
        return EXIT_OK
    Path(args.output).write_bytes(jpeg)
    result = {"file": args.output, "bytes": len(jpeg), "width": width, "height": height}
    if args.json:
        _print_json(result, out)
    else:
        out.write(f"wrote {args.output} ({width}x{height}, {len(jpeg)} bytes)\n")
    return EXIT_OK


def _record(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    answer = client.set(record=args.state)
    if args.json:
        _print_json({"record": answer.get("record")}, out)
    else:
        out.write(f"record = {answer.get('record')}\n")
    if answer.get("record") != args.state and args.state in ("start", "pause"):
        print(f"camnet: record stayed {answer.get('record')} (no usable storage?)", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _tag(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    moment: float | str | None = args.time
    if moment is not None:
        with contextlib.suppress(ValueError):
            moment = float(moment)
    tag = client.create_tag(args.title, args.note, moment)
    if args.json:
        _print_json(tag.raw, out)
    else:
        out.write(f"tag {tag.id} {tag.title!r} at {tag.time}\n")
    return EXIT_OK


def _devices(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    found: list[Device] = []
    page_number = 1
    while True:
        page = client.devices(page=page_number, per_page=100, online=args.online, group=args.group)
        found.extend(page.items)
        if len(found) >= page.total or not page.items:
            break
        page_number += 1
    if args.json:
        _print_json({"devices": [d.raw for d in found], "total": len(found)}, out)
        return EXIT_OK
    for device in found:
        state = "online " if device.is_online else "offline"
        group = f"  [{device.group}]" if device.group else ""
        out.write(f"{device.uuid}  {state}  {device.name}{group}\n")
    return EXIT_OK


def _recordings_list(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    page = client.recordings(
        page=args.page, per_page=args.per_page, kind=args.kind, tagged=args.tagged
    )
    if args.json:
        _print_json(
            {
                "recordings": [r.raw for r in page.items],
                "total": page.total,
                "page": page.page,
                "perPage": page.per_page,
            },
            out,
        )
        return EXIT_OK
    for item in page.items:
        out.write(_recording_line(item) + "\n")
    out.write(f"{len(page.items)} of {page.total} (page {page.page})\n")
    return EXIT_OK


def _recording_line(item: Recording) -> str:
    flags = "".join(("T" if item.tagged else "-", "O" if item.open else "-"))
    duration = f"{item.duration:.1f}s" if item.duration is not None else "?"
    start = item.raw.get("startTime", "")
    size = item.size or 0
    return f"{item.id:6d} {item.kind:6s} {flags} {start} {duration:>8s} {size:>12d}  {item.file}"


def _recordings_download(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    output = args.output or client.recording(args.id).file
    bar = ProgressBar(sys.stderr)
    try:
        result = client.download(args.id, output, progress=bar)
    finally:
        bar.finish()
    summary = {
        "id": args.id,
        "file": result.path,
        "bytes": result.size,
        "resumedFrom": result.resumed_from,
    }
    if args.json:
        _print_json(summary, out)
    else:
        resumed = f", resumed from byte {result.resumed_from}" if result.resumed_from else ""
        out.write(f"wrote {result.path} ({result.size} bytes{resumed})\n")
    return EXIT_OK


_HANDLERS: Final[dict[str, Callable[[Client, argparse.Namespace, TextIO], int]]] = {
    "get": _get,
    "set": _set,
    "watch": _watch,
    "snapshot": _snapshot,
    "record": _record,
    "tag": _tag,
    "devices": _devices,
    "recordings list": _recordings_list,
    "recordings download": _recordings_download,
}


def _report(exc: CamnetError) -> None:
    print(f"camnet: {exc}", file=sys.stderr)
    for problem in exc.details:
        where = f"{problem.key}: " if problem.key else ""
        print(f"  {where}{problem.reason}", file=sys.stderr)


def run_client_command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Run the client command ``args`` names and return the exit status."""
    key = args.command
    if key == "recordings":
        key = f"recordings {args.recordings_command}"
    flags = {
        name: getattr(args, name, None)
        for name in ("server", "token", "api_key", "user", "password", "client_id", "client_secret")
    }
    try:
        settings = resolve(flags, os.environ if environ is None else environ, args.config)
    except ClientConfigError as exc:
        print(f"camnet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with Client(settings.server, settings.credentials, timeout=args.timeout) as client:
            return _HANDLERS[key](client, args, sys.stdout)
    except UsageError as exc:
        print(f"camnet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CamnetError as exc:
        _report(exc)
        if exc.status == HTTP_UNAUTHORIZED or exc.code in SIGN_IN_REFUSED:
            print(refused_hint(settings.credentials, settings.source), file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"camnet: {exc}", file=sys.stderr)
        return EXIT_FAILURE
