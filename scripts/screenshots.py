"""Screenshots of the dashboard for docs/dashboard.md and the README.

Starts ``camnet serve`` on a free loopback port with a throw-away data directory, signs
in with Debian's Chromium (Playwright, ``/usr/bin/chromium``), makes a short recording,
a tag and a webhook so the pages have something to show, and saves one PNG per page
under ``docs/screenshots/`` (the device page at desktop and phone width).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "screenshot-password"
READY = "camnet listening on "


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMNET_")}
    env.update(
        CAMNET_ADMIN_PASSWORD=PASSWORD,
        CAMNET_API_TOKEN="screenshot-token-0123",
        CAMNET_ZMQ_PUBLISH_PORT="0",
        CAMNET_ZMQ_SUBSCRIBE_PORT="0",
        CAMNET_SIMULATION_INTERVAL="0.5",
        CAMNET_WEBHOOK_ALLOW="127.0.0.1",
    )
    command = [sys.executable, "-m", "camnet", "serve", "--data-dir", str(data_dir)]
    command += ["--api-addr", "127.0.0.1:0", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(READY):
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, line[len(READY) :].strip()
    raise RuntimeError("camnet did not start")


def receiver() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _ok(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        do_GET = do_POST = _ok

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shoot(page: Page, out: Path, name: str, full_page: bool = False) -> None:
    page.wait_for_timeout(1200)
    page.screenshot(path=str(out / f"{name}.png"), full_page=full_page)
    print(f"saved {out / name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    hook_server = receiver()
    with tempfile.TemporaryDirectory() as data:
        process, url = start_server(Path(data))
        try:
            with httpx.Client(base_url=url, auth=("admin", PASSWORD), timeout=10) as api:
                api.post("/api", json={"record": "start"})
                time.sleep(2.0)
                api.post("/api", json={"record": "stop"})
                time.sleep(1.0)
                # At a moment of the recording (a tag without a time starts Visual Backup).
                api.post(
                    "/data/tags", json={"title": "door opened", "creationTime": time.time() - 2}
                )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                desktop = browser.new_context(viewport={"width": 1280, "height": 800})
                page = desktop.new_page()
                page.goto(url + "/")
                shoot(page, out, "sign-in")
                page.get_by_label("User").fill("admin")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.locator("table.devices tbody tr").first.wait_for()
                shoot(page, out, "devices")
                page.locator("table.devices a", has_text="-C2").click()
                page.locator("img.live-view").wait_for()
                shoot(page, out, "device")
                shoot(page, out, "device-full", full_page=True)
                page.get_by_label("Filter").fill("storage")
                page.locator("table.variables").scroll_into_view_if_needed()
                shoot(page, out, "device-filter")
                page.get_by_label("Filter").fill("")
                device_url = page.url
                page.goto(url + "/#/webhooks")
                page.get_by_label("URL").fill(f"http://127.0.0.1:{hook_server.server_port}/hook")
                page.get_by_role("button", name="Add webhook").click()
                with httpx.Client(base_url=url, auth=("admin", PASSWORD), timeout=10) as api:
                    api.post("/api", json={"light0": True})
                page.wait_for_timeout(3500)
                shoot(page, out, "webhooks")
                page.goto(url + "/#/recordings")
                page.locator("table.recordings tbody tr").first.wait_for()
                page.locator("table.recordings button:enabled", has_text="Play").first.click()
                shoot(page, out, "recordings")
                page.goto(url + "/#/plots")
                page.wait_for_timeout(6000)
                shoot(page, out, "plots")
                page.goto(url + "/#/admin")
                shoot(page, out, "admin")
                phone = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
                )
                session = [c for c in desktop.cookies() if c["name"] == "camnet_session"]
                phone.add_cookies(
                    [{"name": c["name"], "value": c["value"], "url": url} for c in session]
                )
                small = phone.new_page()
                small.goto(device_url)
                small.locator("img.live-view").wait_for()
                shoot(small, out, "device-phone")
                shoot(small, out, "device-phone-full", full_page=True)
                with httpx.Client(base_url=url, auth=("admin", PASSWORD), timeout=10) as api:
                    api.post(
                        "/accounts/default/users",
                        json={"username": "watcher", "password": PASSWORD, "role": "viewer"},
                    )
                viewer = browser.new_context(viewport={"width": 1280, "height": 800})
                watch = viewer.new_page()
                watch.goto(url + "/")
                watch.get_by_label("User").fill("watcher")
                watch.get_by_label("Password").fill(PASSWORD)
                watch.get_by_role("button", name="Sign in").click()
                watch.locator("table.devices a", has_text="-C2").click()
                watch.locator("img.live-view").wait_for()
                shoot(watch, out, "device-viewer", full_page=True)
                browser.close()
        finally:
            process.terminate()
            process.wait(10)
            hook_server.shutdown()


if __name__ == "__main__":
    main()
