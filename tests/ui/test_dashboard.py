"""The dashboard end to end: Debian's Chromium driven by Playwright against a real
camnet on a loopback port. Sign in; move a slider and see the change on a second page
and over the API; see the live view change; record, tag and play a recording; add a
webhook and see its delivery in the log."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fleet.receiver import Receiver
from tests.support import ServerProcess
from tests.ui.browser import chromium

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("ui"),
        env={"CAMNET_WEBHOOK_ALLOW": "127.0.0.1"},
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def sign_in(page: Page, server: ServerProcess, password: str | None = None) -> None:
    page.goto(server.url + "/")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(password or server.admin_password)
    page.get_by_role("button", name="Sign in").click()


def poll(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not seen in {seconds} s: {what}"
        time.sleep(0.2)


def admin_api(server: ServerProcess) -> httpx.Client:
    return server.client(auth=("admin", server.admin_password))


def test_sign_in_lists_the_devices_online(server: ServerProcess, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, server, password="wrong-password")
    expect(page.get_by_role("alert")).to_have_text("the username or password is wrong")
    sign_in(page, server)
    rows = page.locator("table.devices tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("table.devices .badge.on")).to_have_count(2)
    # The session is an HttpOnly cookie: nothing in the URL, nothing in storage.
    assert "token" not in page.url
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    cookie = next(c for c in context.cookies() if c["name"] == "camnet_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    # Signing out revokes it: the same cookie no longer opens anything.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    with server.client(cookies={"camnet_session": cookie["value"]}) as http:
        assert http.get("/api").status_code == 401


def test_slider_change_reaches_a_second_page_and_the_api(
    server: ServerProcess, context: BrowserContext
) -> None:
    first = context.new_page()
    sign_in(first, server)
    unit = first.locator("table.devices a", has_text="-C2")
    href = unit.get_attribute("href")
    unit.click()
    second = context.new_page()
    second.goto(server.url + "/" + (href or ""))
    slider = first.locator("#set-redGain")
    # The slider has the range the device enforces (the schema's, -128..127).
    expect(slider).to_have_attribute("min", "-128")
    expect(slider).to_have_attribute("max", "127")
    expect(second.locator(".badge.on", has_text="live")).to_be_visible()
    with admin_api(server) as api:
        before = api.get("/api").json()["redGain"]
    slider.focus()
    first.keyboard.press("End")  # keyboard only: the slider moves to its maximum
    expect(second.locator("#set-redGain")).to_have_value("127")
    expect(second.locator('[data-name="redGain"] output')).to_have_text("127")
    with admin_api(server) as api:
        assert api.get("/api").json()["redGain"] == 127 != before
    # A toggle generated from a bool, changed on the second page, shows on the first.
    second.locator("#set-light0").check()
    expect(first.locator("#set-light0")).to_be_checked()


def test_live_view_changes(server: ServerProcess, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, server)
    page.locator("table.devices a", has_text="-C2").click()
    image = page.locator("img.live-view")
    expect(image).to_be_visible()
    # (wait_for_function evaluates a string, which the page's CSP rightly forbids)
    poll(lambda: image.evaluate("img => img.naturalWidth") > 0, "the live view shows a frame")
    shots = [image.screenshot()]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        shots.append(image.screenshot())
        if shots[-1] != shots[0]:
            break
    assert shots[-1] != shots[0], "the live view did not change in 15 s"
    # The stereo camera: its colour stream live, its depth stream one click away.
    page.goto(server.url + "/#/devices")
    page.locator("table.devices a", has_text="Stereo").click()
    expect(page.locator("img.live-view").first).to_be_visible()
    page.get_by_role("button", name="Start DEPTH_B_C").click()
    expect(page.locator("img[alt^='DEPTH_B_C']")).to_be_visible()


def test_record_tag_and_play(server: ServerProcess, context: BrowserContext) -> None:
    page = context.new_page()
    ranges: list[int] = []
    page.on(
        "response",
        lambda r: ranges.append(r.status) if "/data/recordings/" in r.url else None,
    )
    sign_in(page, server)
    page.goto(server.url + "/#/recordings")
    expect(page.locator("meter").first).to_be_visible()  # storage figures
    page.get_by_role("button", name="Start recording").click()
    expect(page.locator("table.recordings tbody tr")).to_have_count(1)
    with admin_api(server) as api:
        assert api.get("/api").json()["record"] == "start"
    page.wait_for_timeout(2500)
    page.get_by_role("button", name="Stop recording").click()
    row = page.locator("table.recordings tbody tr").first
    expect(row.get_by_role("button", name="Play")).to_be_enabled()
    # The last ones (each action re-reads the list): tag the closed recording.
    page.wait_for_timeout(1000)
    row = page.locator("table.recordings tbody tr").first
    row.get_by_label("Tag title for recording").fill("door opened")
    row.get_by_role("button", name="Tag").click()
    expect(page.locator("ul.tags li", has_text="door opened")).to_be_visible()
    row = page.locator("table.recordings tbody tr").first
    expect(row).to_contain_text("tagged")
    expect(page.locator("svg.timeline circle.tag-mark")).to_have_count(1)
    row.get_by_role("button", name="Play").click()
    canvas = page.locator("canvas.player")
    poll(lambda: int(canvas.get_attribute("data-frames-shown") or 0) > 10, "frames were played")
    assert 206 in ranges  # read with Range requests
    with admin_api(server) as api:
        tags = api.get("/data/tags").json()["tags"]
        assert [t["title"] for t in tags] == ["door opened"]
    # Removing the tag from the page removes it on the server.
    page.get_by_role("button", name="Remove tag door opened").click()
    expect(page.locator("ul.tags li")).to_have_count(0)
    with admin_api(server) as api:
        assert api.get("/data/tags").json()["tags"] == []


def test_webhook_delivery_shows_in_the_log(server: ServerProcess, context: BrowserContext) -> None:
    receiver = Receiver().start()
    try:
        page = context.new_page()
        sign_in(page, server)
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator(".secret")).to_contain_text("whsec_")
        with admin_api(server) as api:
            light = api.get("/api").json()["light1"]
            assert api.post("/api", json={"light1": not light}).status_code == 200
        delivered = page.locator(f'[data-hook] >> text="{receiver.url}"')
        expect(delivered).to_be_visible()
        expect(page.locator("tr.delivery", has_text="200").first).to_be_visible(timeout=30_000)
        assert receiver.posts()
    finally:
        receiver.stop()
