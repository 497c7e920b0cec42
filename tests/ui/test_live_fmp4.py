"""The dashboard's fMP4 live view (``static/stream_live.js``) in Debian's Chromium: chosen per
device beside MJPEG, played through Media Source Extensions from the stream's WebSocket
(the video's time advances, frames are decoded and show the scene), kept across reloads,
and MJPEG where the browser cannot play H.264."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support import ServerProcess
from tests.ui.browser import chromium

TIMEOUT_MS = 20_000
H264 = 'video/mp4; codecs="avc1.42E01E"'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("ui-fmp4"))
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


def poll(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not seen in {seconds} s: {what}"
        time.sleep(0.2)


def stereo_page(context: BrowserContext, server: ServerProcess) -> Page:
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("table.devices a", has_text="Stereo").click()
    expect(page.locator("#video-mode")).to_be_visible()
    return page


def test_fmp4_plays_in_chromium(server: ServerProcess, context: BrowserContext) -> None:
    page = stereo_page(context, server)
    playable = page.evaluate(f"() => MediaSource.isTypeSupported('{H264}')")
    if not playable:
        pytest.skip("this Chromium cannot play H.264; test_mjpeg_where_h264_cannot_play covers it")
    # MJPEG until someone chooses.
    expect(page.locator("#video-mode")).to_have_value("mjpeg")
    expect(page.locator("img.live-view").first).to_be_visible()
    page.locator("#video-mode").select_option("fmp4")
    video = page.locator("figure[data-mode='fmp4'] video").first
    expect(video).to_be_visible()

    def playing() -> bool:
        state = video.evaluate(
            "v => [v.currentTime, v.getVideoPlaybackQuality().totalVideoFrames, v.videoWidth]"
        )
        return bool(state[0] > 1.0 and state[1] > 20 and state[2] > 0)

    poll(playing, "the fMP4 view plays: time advances, frames decoded")
    # The frames show the scene (not black, not a flat card).
    shot = cv2.imdecode(np.frombuffer(video.screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert shot is not None
    assert 20 < shot.mean() < 235, shot.mean()
    assert shot.std() > 10, shot.std()
    before = video.evaluate("v => v.currentTime")
    poll(lambda: video.evaluate("v => v.currentTime") > before + 0.5, "time keeps advancing")
    # The choice is kept for this device.
    page.reload()
    expect(page.locator("#video-mode")).to_have_value("fmp4")
    expect(page.locator("figure[data-mode='fmp4'] video").first).to_be_visible()
    page.locator("#video-mode").select_option("mjpeg")
    expect(page.locator("img.live-view").first).to_be_visible()
    expect(page.locator("figure[data-mode='fmp4']")).to_have_count(0)


def test_mjpeg_where_h264_cannot_play(server: ServerProcess, context: BrowserContext) -> None:
    # A browser without H.264 in MSE (as some builds of Chromium): even a kept choice of
    # fMP4 shows MJPEG, and the choice is offered disabled.
    context.add_init_script(
        "MediaSource.isTypeSupported = (type) => !type.includes('avc1');"
        "localStorage.setItem('camnet.live.probe', 'x');"
    )
    page = stereo_page(context, server)
    name = page.locator("h1").first.inner_text()
    page.evaluate(f"() => localStorage.setItem('camnet.live.{name}', 'fmp4')")
    page.reload()
    expect(page.locator("#video-mode")).to_have_value("mjpeg")
    expect(page.locator("#video-mode option[value='fmp4']")).to_be_disabled()
    expect(page.locator("img.live-view").first).to_be_visible()
    expect(page.locator("figure[data-mode='fmp4']")).to_have_count(0)
