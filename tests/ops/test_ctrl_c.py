"""Ctrl-C (SIGINT) on ``camnet serve --mqtt``: every part stops, no traceback, exit 130.

A real server subprocess with the MQTT bridge on the machine's Mosquitto (a topic prefix
no other run uses); the signal is what a terminal sends on Ctrl-C.
"""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

from tests.network.mqtt_support import BROKER_HOST, BROKER_PORT, require_mosquitto, unique_root
from tests.support import ServerProcess

EXIT_WITHIN = 15.0


def _stop_with_sigint(server: ServerProcess) -> int:
    """Ctrl-C as a terminal sends it; the exit status once everything printed is read."""
    process, server._process = server._process, None
    assert process is not None
    process.send_signal(signal.SIGINT)
    status = process.wait(EXIT_WITHIN)
    server._close(process)  # joins the output pump: server.output is complete
    return status


def test_ctrl_c_with_mqtt_stops_everything_without_a_traceback(tmp_path: Path) -> None:
    require_mosquitto()
    root = unique_root()
    server = ServerProcess(
        tmp_path,
        env={"CAMNET_MQTT_PREFIX": root, "CAMNET_MQTT_DISCOVERY_PREFIX": f"{root}-ha"},
        # log level info: whatever stopping logs is in the output, and must be clean
        args=["--mqtt", f"mqtt://{BROKER_HOST}:{BROKER_PORT}", "--log-level", "info"],
    ).start()
    assert server.api().status_code == 200
    status = _stop_with_sigint(server)
    output = "\n".join(server.output)
    assert "Traceback" not in output, output
    assert "shutdown failed" not in output.lower(), output
    assert re.search(r"node \S+ stopped", output), output  # Node.stop ran to its end
    assert status == 130, output  # 128 + SIGINT, as a shell reports Ctrl-C


IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
"""Runs the command with SIGINT ignored, as a shell starts a background job."""


def test_ctrl_c_exits_130_also_when_started_with_sigint_ignored(tmp_path: Path) -> None:
    """A server started as a background job inherits SIGINT ignored: uvicorn still takes
    the signal, and the exit status must not depend on what the parent left behind (the
    suite started from a background shell saw 0 here)."""
    server = ServerProcess(tmp_path, prefix=[sys.executable, "-c", IGNORING_SIGINT]).start()
    assert server.api().status_code == 200
    status = _stop_with_sigint(server)
    output = "\n".join(server.output)
    assert "Traceback" not in output, output
    assert status == 130, output
