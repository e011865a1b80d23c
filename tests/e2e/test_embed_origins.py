"""An embedded page framed by a slide on another origin, as a teacher's deck frames it: with
that origin in ``frame_ancestors`` the frame loads, fits and plays to its end with keys;
without it (the default) Chromium refuses to show the page in the frame at all."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from app.config import Settings
from tests.conftest import LiveServer
from tests.e2e.conftest import poll


class Slides:
    """A slide deck on its own origin (another loopback port): one slide, an iframe of
    ``src``, served by Python's own HTTP server."""

    def __init__(self) -> None:
        self.html = b""
        deck = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the base class names it
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(deck.html)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def show(self, src: str) -> None:
        self.html = (f'<!doctype html><title>Slide</title><h1>Convolution</h1>'
                     f'<iframe id="demo" src="{src}" width="800" height="450" '
                     f'style="border:0"></iframe>').encode()


@pytest.fixture(scope="module")
def slides() -> Iterator[Slides]:
    deck = Slides()
    yield deck
    deck.httpd.shutdown()
    deck.httpd.server_close()


def test_an_allowed_origin_frames_the_page_and_it_plays(browser: Browser, slides) -> None:
    with LiveServer(Settings(frame_ancestors=[slides.origin])) as app:
        slides.show(f"{app.url}/2d?padding=1&embed=1")
        tab = browser.new_page(viewport={"width": 1024, "height": 768})
        tab.goto(slides.origin)
        frame = tab.frame_locator("#demo")
        frame.locator("#player").wait_for()
        inner = next(f for f in tab.frames if f.url.startswith(app.url))
        # fitted to its 800x450 frame: nothing scrolls, no navigation, the player is there
        assert inner.evaluate("() => [document.documentElement.scrollWidth, "
                              "document.documentElement.scrollHeight]") == [800, 450]
        assert inner.locator(".topbar").count() == 0
        frame.locator("#scene").click()  # the keys go to the frame the teacher clicked
        tab.keyboard.press("End")
        assert poll(inner, "() => document.querySelector('#player').dataset.step",
                     "16") == "16"
        tab.close()


def test_the_default_setting_refuses_every_frame(browser: Browser, slides) -> None:
    with LiveServer(Settings()) as app:
        slides.show(f"{app.url}/2d?embed=1")
        tab = browser.new_page(viewport={"width": 1024, "height": 768})
        seen = []
        tab.on("response", lambda r: seen.append(r.url) if r.url.startswith(app.url) else None)
        tab.goto(slides.origin)
        tab.wait_for_selector("#demo")
        # the app answered, and Chromium kept its page out of the frame: no frame shows it
        for _ in range(200):
            if seen:
                break
            tab.wait_for_timeout(25)
        assert seen, "the frame's request never reached the app"
        frame = tab.frame_locator("#demo")
        assert frame.locator("#player").count() == 0
        assert not any(f.url.startswith(app.url) and f.evaluate(
            "() => !!document.querySelector('#player')") for f in tab.frames)
        tab.close()
