"""An unusable data directory: one line naming it and the reason, exit 1, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import clean_env


@pytest.mark.parametrize("command", [["serve"], ["token", "show"], ["user", "list"]])
@pytest.mark.parametrize(
    ("where", "reason"),
    [("file", "it exists and is not a directory"), ("file/data", "a part of its path is a file")],
)
def test_one_line_names_the_directory_and_the_reason(
    tmp_path: Path, command: list[str], where: str, reason: str
) -> None:
    (tmp_path / "file").write_text("not a directory")
    data_dir = tmp_path / where
    done = subprocess.run(
        [sys.executable, "-m", "camnet", *command, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=clean_env({"CAMNET_API_ADDR": "127.0.0.1:0"}),
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"camnet: cannot use the data directory {data_dir}: {reason}")
    assert "--data-dir or CAMNET_DATA_DIR" in line
