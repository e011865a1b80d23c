"""A real Chromium (Debian's, driven by Playwright) against the live server.

A missing browser fails the run: ``make test`` installs it, and a browser test that skips
would prove nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CONVSCOPE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Playwright turns off Chromium's flood protection, which ignores history.replaceState past
# 200 calls in 10 s: a player that rewrote the address every step would pass here and lose
# its place in a real browser. The tests keep Chromium as people have it.
KEPT = {"ignore_default_args": ["--disable-ipc-flooding-protection"]}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, **KEPT)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh page at 1280x800 whose console errors fail the test.

    A test that provokes an error response on purpose lists the console line it expects in
    ``page.expected_errors`` (Chromium logs every 4xx response it receives).
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  base_url=live_server.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.expected_errors = []
    yield tab
    context.close()
    unexpected = [e for e in errors if not any(x in e for x in tab.expected_errors)]
    assert unexpected == [], f"console errors: {unexpected}"


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def serious_violations(axe: Axe, tab: Page) -> list[str]:
    """axe-core's serious and critical findings, as 'rule: what' lines."""
    results = axe.run(tab)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def screenshot(tab: Page, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    # caret="initial": Playwright's default hides the caret with an inline style it leaves on
    # every input and textarea as style="", which htmx's settle then copies onto the swapped-in
    # fields, and the page's CSP (style-src 'self') logs that as an error
    tab.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page, caret="initial")


def poll(tab, script: str, want) -> object:
    """``script``'s value in ``tab`` (a page or a frame) once it is ``want``, or its last value
    after ~5 s of the browser's own frames: the caller asserts it."""
    for _ in range(200):
        value = tab.evaluate(script)
        if value == want:
            return value
        tab.wait_for_timeout(25)
    return tab.evaluate(script)
