"""The export menu's Copy as NumPy (the clipboard holds the script of the state shown), and
an embedded page: fitted to its frame's size, no document scroll, played to its end with
keys."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import poll


def test_copy_as_numpy_puts_the_pages_script_on_the_clipboard(browser: Browser,
                                                              live_server) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    tab = context.new_page()
    tab.goto(f"{live_server.url}/2d?padding=1&stride=2")
    tab.get_by_text("Export").click()
    tab.get_by_role("button", name="Copy as NumPy").click()
    assert poll(tab, "() => document.querySelector('.share-status').textContent",
                 "Copied") == "Copied"
    text = tab.evaluate("() => navigator.clipboard.readText()")
    assert text.startswith("#!/usr/bin/env python3")
    assert "/2d?padding=1&stride=2" in text and "stride = (2, 2)" in text
    assert "padding = ((1, 1), (1, 1))" in text
    context.close()


@pytest.mark.parametrize("size", [(800, 450), (640, 480), (1024, 768)])
def test_embedded_page_fits_its_frame_and_plays_with_keys(browser: Browser, live_server,
                                                          size) -> None:
    width, height = size
    tab = browser.new_page(viewport={"width": width, "height": height})
    tab.goto(f"{live_server.url}/2d?padding=1&embed=1")
    scroll = tab.evaluate("() => [document.documentElement.scrollWidth, "
                          "document.documentElement.scrollHeight]")
    assert scroll == [width, height]
    assert tab.locator(".topbar").count() == 0
    assert not tab.locator("#controls").is_visible()
    tab.keyboard.press("End")
    status = poll(tab, "() => document.querySelector('#player').dataset.step", "16")
    assert status == "16"
    # every output cell is shown whole: its text inside its box
    clipped = tab.evaluate("""() => [...document.querySelectorAll('[id^="out-"]')]
        .filter((c) => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1)
        .length""")
    assert clipped == 0
    assert poll(tab, "() => new URL(location.href).searchParams.get('embed')", "1") == "1"
    tab.close()
