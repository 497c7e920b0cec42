"""``log_file``: the logs go to a file, rotated by size, and no longer to stderr."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support import ServerProcess


def test_logs_go_to_a_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "camnet.log"
    server = ServerProcess(
        tmp_path / "data",
        env={
            "CAMNET_LOG_FILE": str(log),
            "CAMNET_LOG_FILE_MAX_BYTES": "4096",
            "CAMNET_LOG_FILE_BACKUPS": "2",
        },
        args=["--log-level", "debug"],
    ).start()
    try:
        deadline = time.monotonic() + 60
        while not log.with_name("camnet.log.2").exists():
            assert time.monotonic() < deadline, "the log file was not rotated"
            server.api({"light0": "true"})
            server.api({"light0": "false"})
        assert not log.with_name("camnet.log.3").exists()
        for path in (log, log.with_name("camnet.log.1")):
            assert path.stat().st_size <= 4096 + 2048  # one record may cross the limit
        first = log.with_name("camnet.log.1").read_text().splitlines()[0]
        assert json.loads(first)["level"] in {"debug", "info", "warning", "error"}
    finally:
        server.stop()
    printed = "\n".join(server.output)
    assert '"level"' not in printed, printed  # stdout/stderr: only what camnet prints
    assert "camnet listening on" in printed


def test_an_unwritable_log_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    server = ServerProcess(tmp_path / "data", env={"CAMNET_LOG_FILE": str(tmp_path / "file/x")})
    try:
        server.start(timeout=30)
    except RuntimeError as exc:
        lines = [line for line in str(exc).splitlines()[1:] if line]
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"camnet: cannot write the log file {tmp_path / 'file/x'}")
    else:
        server.stop()
        raise AssertionError("camnet started with a log file it cannot write")
