"""The control unit's page for a camera operator, in Debian's Chromium (Playwright)
against a real camnet: the pan/tilt pad and the zoom slider on the live image write
c2's relative ``pan0``/``zoom0``, the "All variables" filter hides rows, a viewer sees
no enabled control and no admin page, and a phone-width page does not scroll sideways."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support import ServerProcess
from tests.ui.browser import chromium
from tests.ui.test_dashboard import TIMEOUT_MS, poll

VIEWER = ("watcher", "watcher-password-1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("device-page"))
    process.start()
    with process.client(auth=("admin", process.admin_password)) as api:
        created = api.post(
            "/accounts/default/users",
            json={"username": VIEWER[0], "password": VIEWER[1], "role": "viewer"},
        )
        assert created.status_code == 201, created.text
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def open_device(browser: Browser, server: ServerProcess, **options: Any) -> Page:
    user, password = options.pop("user", ("admin", server.admin_password))
    settings = {"viewport": {"width": 1280, "height": 900}, **options}
    context: BrowserContext = browser.new_context(**settings)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("table.devices a", has_text="-C2").click()
    expect(page.locator(".badge.on", has_text="live")).to_be_visible()
    return page


def c2(server: ServerProcess, name: str) -> Any:
    with server.client(auth=("admin", server.admin_password)) as api:
        return api.get("/api", params={"get": f"[{name}]"}).json()[name]


def test_dragging_the_pad_moves_pan0(server: ServerProcess, browser: Browser) -> None:
    page = open_device(browser, server)
    before = c2(server, "pan0")
    pad = page.locator(".ptz-pad")
    box = pad.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 3 * step, y - 2 * step)
    page.mouse.up()
    poll(lambda: c2(server, "pan0")["x"] > before["x"] + 5, "pan0.x moved right")
    after = c2(server, "pan0")
    assert after["y"] < before["y"]  # dragged up
    page.context.close()


def test_zoom_slider_moves_zoom0(server: ServerProcess, browser: Browser) -> None:
    page = open_device(browser, server)
    slider = page.get_by_label("Zoom")
    expect(slider).to_be_enabled()
    slider.focus()
    page.keyboard.press("End")
    poll(lambda: c2(server, "zoom0") == 31424, "zoom0 at its maximum")
    page.keyboard.press("Home")
    poll(lambda: c2(server, "zoom0") == 0, "zoom0 back at 0")
    page.context.close()


def test_the_filter_hides_rows(server: ServerProcess, browser: Browser) -> None:
    page = open_device(browser, server)
    rows = page.locator("table.variables tbody tr")
    total = rows.count()
    assert total > 100
    expect(page.locator("table.variables")).to_be_hidden()  # folded until asked for
    page.get_by_text("Show every variable").click()
    expect(page.locator("table.variables tbody tr:visible")).to_have_count(total)
    page.get_by_label("Filter").fill("sealing air")
    expect(page.locator("table.variables tbody tr:visible")).to_have_count(3)
    expect(page.locator('tr[data-variable="light0"]')).to_be_hidden()
    expect(page.locator('tr[data-variable="psi0"]')).to_be_visible()
    page.get_by_label("Filter").fill("")
    expect(page.locator("table.variables tbody tr:visible")).to_have_count(total)
    page.context.close()


def test_a_viewer_sees_no_enabled_control_and_no_admin_page(
    server: ServerProcess, browser: Browser
) -> None:
    page = open_device(browser, server, user=VIEWER)
    expect(page.locator(".read-only-note")).to_be_visible()
    controls = page.locator("main input, main select, main button, main textarea")
    assert controls.count() > 50
    enabled = page.locator(
        "main input:enabled:not([type=search]), main select:enabled, main button:enabled"
    )
    expect(enabled).to_have_count(0)
    expect(page.locator(".ptz-pad")).to_have_attribute("aria-disabled", "true")
    expect(page.locator('nav a[href="#/admin"]')).to_be_hidden()
    # The admin page, typed in, refuses and goes back; the server refuses writes anyway.
    page.goto(server.url + "/#/admin")
    expect(page.locator("[data-refused=admin]")).to_be_visible()
    expect(page).to_have_url(server.url + "/#/devices")
    page.goto(server.url + "/#/recordings")
    expect(page.get_by_role("button", name="Start recording")).to_be_disabled()
    with server.client(auth=VIEWER) as api:
        refused = api.post("/api", json={"light0": True})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
    page.context.close()


@pytest.mark.parametrize("route", ["#/devices", "device", "#/recordings", "#/webhooks"])
def test_phone_width_has_no_horizontal_scroll(
    server: ServerProcess, browser: Browser, route: str
) -> None:
    page = open_device(
        browser, server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    if route != "device":
        page.goto(server.url + "/" + route)
        page.locator("main section").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{route}: the page is {width} px wide on a 390 px phone"
    page.context.close()


def test_the_player_seeks_anywhere_in_a_segment(server: ServerProcess, browser: Browser) -> None:
    with server.client(auth=("admin", server.admin_password)) as api:
        assert api.post("/api", json={"record": "start"}).json() == {"record": "start"}
        poll(
            lambda: (
                api.get("/data/recordings", params={"withKind": "manual"}).json()["recordings"]
                != []
            ),
            "a recording is open",
        )
        # Long enough to span many of the player's 512 KiB reads.
        poll(
            lambda: (
                api.get("/data/recordings", params={"withKind": "manual"}).json()["recordings"][0][
                    "start"
                ]
                < time.time() - 4
            ),
            "four seconds recorded",
        )
        assert api.post("/api", json={"record": "stop"}).json() == {"record": "stop"}
        poll(
            lambda: not api.get("/data/recordings").json()["recordings"][0]["open"],
            "the recording closed",
        )
        recording = api.get("/data/recordings").json()["recordings"][0]
    assert recording["size"] > 4 * 512 * 1024
    page = open_device(browser, server)
    page.goto(server.url + "/#/recordings")
    row = page.locator(f'table.recordings tr[data-recording="{recording["id"]}"]')
    row.get_by_role("button", name="Play").click()
    canvas = page.locator("canvas.player")
    poll(lambda: int(canvas.get_attribute("data-frames-shown") or 0) > 0, "a frame was shown")
    page.get_by_role("button", name="Pause").click()
    target = round(recording["duration"] * 0.9, 2)
    page.locator("#seek").evaluate(
        "(input, value) => { input.value = value; input.dispatchEvent(new Event('change')); }",
        target,
    )
    poll(
        lambda: abs(float(canvas.get_attribute("data-position") or -1) - target) < 0.5,
        "the frame at 90 % is shown",
    )
    # It was fetched from near its place in the file, not read from the start.
    assert int(canvas.get_attribute("data-last-range") or 0) > recording["size"] * 0.5
    page.context.close()
