"""Is the data directory usable? One sentence saying why not, instead of a traceback.

The data directory holds the SQLite database, the HTTPS certificate and (by default) the
recordings. When it cannot be created or written, every command that needs it stops with
one line naming the directory and the reason, and how to choose another.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

DATABASE_FILE = "camnet.sqlite3"


def data_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot serve as the data directory, or None when it can.

    It is created when missing (as the server would), then written to once.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return "it exists and is not a directory"
    except NotADirectoryError:
        return "a part of its path is a file, not a directory"
    except PermissionError:
        return f"no permission to create it (running as uid {os.getuid()})"
    except OSError as exc:
        return _reason(exc)
    if not path.is_dir():
        return "it is not a directory"
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except PermissionError:
        return f"it is not writable by this user (uid {os.getuid()})"
    except OSError as exc:
        return _reason(exc)
    database = path / DATABASE_FILE
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        return f"{DATABASE_FILE} in it is not readable and writable by uid {os.getuid()}"
    return None


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "it is on a read-only file system"
    return (exc.strerror or str(exc)).lower()


def data_dir_message(path: Path, reason: str) -> str:
    return (
        f"camnet: cannot use the data directory {path}: {reason} "
        "(choose another with --data-dir or CAMNET_DATA_DIR)"
    )
