"""Debian's Chromium, driven by Playwright for Python, for the dashboard's tests.

Playwright's own browser download (``playwright install``) is never used: the test
set-up (``make media-tools``) installs Debian's ``chromium``, and it is launched by its
path. Without it the tests skip with the reason, except under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM: Final = os.environ.get("CAMNET_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> str:
    if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM):
        return CHROMIUM
    reason = f"Debian's chromium is not installed at {CHROMIUM} (make media-tools installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true it is required")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    path = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
