"""The 1D page in a real browser: the lesson's animations played, drawn on, and flipped."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect

from app.engine import forward
from app.presets import KERNELS_1D_DENSE, signal_values
from tests.e2e.conftest import screenshot, serious_violations


def plot_values(page: Page, name: str) -> np.ndarray:
    text = page.get_by_role("img", name=name, exact=True).get_attribute("data-values")
    return np.array([float(v) for v in text.split(",") if v])


def test_box_with_box_plays_to_a_triangle(page: Page) -> None:
    page.goto("/1d?signal=box&speed=60")
    page.get_by_role("button", name="Play").click()
    # halfway or later (a regex, not a script: the page's CSP forbids eval)
    expect(page.locator("#step-status")).to_have_text(re.compile(r"Step (1[3-9]\d|2\d\d) of"),
                                                      timeout=30_000)
    screenshot(page, "1d-box-mid-animation")
    expect(page.locator("#step-status")).to_have_text("Step 265 of 265", timeout=30_000)
    output = plot_values(page, "Output")
    expected = forward([signal_values("box", True)], [[KERNELS_1D_DENSE["box"][1]]],
                       padding="full", mode="convolution")[0]
    np.testing.assert_allclose(output, expected)
    peak = int(np.argmax(output))
    assert np.all(np.diff(output[: peak + 1]) >= 0) and np.all(np.diff(output[peak:]) <= 0)


def test_the_discrete_first_step_shows_its_terms(page: Page) -> None:
    page.goto("/1d?view=discrete&signal=triangle&kernel=lesson&padding=valid"
              "&mode=cross-correlation")
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#arith")).to_contain_text("2×0 + (-1)×0 + 1×0 = 0")
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 14 of 14")
    screenshot(page, "1d-discrete")


def test_toggling_the_mode_on_the_ramp_changes_the_output(page: Page) -> None:
    page.goto("/1d?signal=step&kernel=ramp&step=265")
    convolution = plot_values(page, "Output")
    page.get_by_role("radio", name="Cross-correlation").check()
    expect(page).to_have_url(re.compile("mode=cross-correlation"))
    correlation = plot_values(page, "Output")
    assert convolution.size == correlation.size and not np.allclose(convolution, correlation)
    page.get_by_label("Show the other operation's result too").check()
    expect(page.locator("#plot-output .other")).to_have_count(1)


def test_drawing_on_the_plot_changes_the_input(page: Page) -> None:
    page.goto("/1d?signal=box")
    before = plot_values(page, "Input")
    box = page.locator("#plot-input").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.30, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.40, box["y"] + box["height"] * 0.3, steps=12)
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"[?&]x="))
    after = plot_values(page, "Input")
    assert after.size == before.size and np.count_nonzero(after != before) >= 5


def test_the_1d_page_is_accessible_in_both_views(page: Page, axe) -> None:
    for url in ("/1d?step=40", "/1d?view=discrete&kernel=lesson&step=4&compare=1"):
        page.goto(url)
        assert serious_violations(axe, page) == [], url
