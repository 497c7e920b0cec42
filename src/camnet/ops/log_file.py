"""Logs to a file with rotation, when ``log_file`` is set (``CAMNET_LOG_FILE``).

Under systemd or Docker the logs belong on stderr (the journal or ``docker logs`` keep
them); on a box without either, an operator wants a file that does not grow without
bound. The file gets the same filters (context, redaction) as stderr would, JSON lines
unless ``log_format = "text"``, and is rotated by size: ``camnet.log`` →
``camnet.log.1`` … ``camnet.log.N`` (the oldest dropped).
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from camnet.ops.logs import ContextFilter, JsonFormatter, LogFormat, RedactFilter, TextFormatter


class LogFileError(OSError):
    """The log file cannot be opened; the message says which and why."""


def use_log_file(path: Path, max_bytes: int, backups: int, log_format: LogFormat) -> None:
    """Send the root logger's records to ``path`` (rotated) instead of stderr."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        raise LogFileError(f"cannot write the log file {path}: {exc.strerror or exc}") from None
    handler.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
