"""The 3D page in a real browser."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page, expect

from app.engine import forward
from app.presets import VOLUMES
from tests.e2e.conftest import screenshot, serious_violations


def test_the_volume_plays_to_the_engines_output(page: Page) -> None:
    page.goto("/3d?speed=30")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#step-status")).to_have_text("Step 18 of 18")
    _, x, w = VOLUMES["box"]
    expected = forward(np.array(x, float)[None], np.array(w, float)[None, None])[0]
    for z in range(expected.shape[0]):
        cells = page.get_by_role("grid", name=f"Output depth {z + 1}", exact=True)
        values = [float(v) for v in cells.get_by_role("gridcell").all_inner_texts()]
        assert values == expected[z].ravel().tolist()
    page.get_by_role("button", name="Step back").click()
    expect(page.locator("#step-status")).to_have_text("Step 17 of 18")
    expect(page.locator("#covered-state")).to_have_attribute("data-covered", "1 2 3")
    # the 3-D view's outlines were swapped in as SVG (an HTML element would not draw)
    window = page.locator("#iso-window")
    expect(window).to_have_attribute("data-cells", "27")
    expect(window.locator("polygon")).to_have_count(28)
    assert window.evaluate("e => e.namespaceURI") == "http://www.w3.org/2000/svg"
    assert window.locator("polygon").first.evaluate("e => e.getBBox().width") > 0
    screenshot(page, "3d")


def test_the_3d_page_is_accessible(page: Page, axe) -> None:
    page.goto("/3d?volume=edge&padding=1&step=20")
    assert serious_violations(axe, page) == []
