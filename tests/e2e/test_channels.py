"""The channels page in a real browser."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from app.engine import forward
from app.presets import CHANNELS
from tests.e2e.conftest import screenshot, serious_violations


def test_lesson_channels_play_to_the_engines_map(page: Page) -> None:
    page.goto("/channels?speed=30")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    cells = page.get_by_role("grid", name="Output 1", exact=True).get_by_role("gridcell")
    p = CHANNELS["lesson"]
    expected = forward(np.array(p.x, float), np.array(p.w, float), np.array(p.bias, float))
    assert [float(v) for v in cells.all_inner_texts()] == expected.ravel().tolist()
    arith = page.locator("#arith")
    expect(arith).to_contain_text("channel 1:")
    expect(arith).to_contain_text(f"(bias b₁) = {expected.ravel()[-1]:g}")


def test_changing_groups_changes_the_highlighted_channels(page: Page) -> None:
    page.goto("/channels?preset=three-kernels&step=40")
    state = page.locator("#kernel-state")
    expect(state).to_have_attribute("data-sees", "0 1 2")
    page.get_by_role("combobox", name=re.compile("^Groups")).select_option("3")
    expect(page).to_have_url(re.compile("groups=3"))
    expect(state).to_have_attribute("data-sees", "1")
    screenshot(page, "channels-depthwise")
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#step-status")).to_have_text("Step 41 of 108")


def test_the_channels_page_is_accessible(page: Page, axe) -> None:
    for url in ("/channels?step=2", "/channels?preset=three-kernels&step=45",
                "/channels?preset=batch&sample=1&step=3"):
        page.goto(url)
        assert serious_violations(axe, page) == [], url


@pytest.mark.parametrize("preset", list(CHANNELS))
def test_every_preset_ends_on_the_engines_maps(page: Page, preset: str) -> None:
    page.goto(f"/channels?preset={preset}")
    page.get_by_role("button", name="To end").click()
    p = CHANNELS[preset]
    bank = np.array(p.w, float)
    per, c_out = bank.shape[1] // p.groups, bank.shape[0]
    w = np.stack([bank[co, (co // (c_out // p.groups)) * per:][:per] for co in range(c_out)])
    bias = None if p.bias is None else np.array(p.bias, float)
    expected = forward(np.array(p.x, float), w, bias, groups=p.groups)[0]
    expect(page.locator("#step-status")).to_have_text(
        f"Step {expected.size} of {expected.size}")
    for k, plane in enumerate(expected):
        cells = page.get_by_role("grid", name=f"Output {k + 1}", exact=True)
        shown = [float(v) for v in cells.get_by_role("gridcell").all_inner_texts()]
        np.testing.assert_allclose(shown, plane.ravel(), atol=5e-4)


def test_marking_the_channels_a_kernel_sees_keeps_every_cell_colour(page: Page) -> None:
    page.goto("/channels?preset=three-kernels&groups=3&step=40")
    # the seen channel is marked as a whole; its cells keep their value colours (a column of
    # cells once took the mark because cells carry data-c too)
    expect(page.locator('.inputs > .channel[data-c="1"]')).to_have_css(
        "background-color", re.compile(r"color\(srgb|rgba"))
    backgrounds = page.locator('[data-grid^="input"] .cell').evaluate_all(
        "cells => cells.map(c => getComputedStyle(c).backgroundColor)")
    assert backgrounds and not any("/ 0.12" in b for b in backgrounds)
