"""The backprop page in a real browser: the passes, training and the check."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations


def test_the_first_step_builds_dl_dw1(page: Page) -> None:
    page.goto("/backprop")
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#arith")).to_contain_text("∂L/∂w₁ = δ₁·x₁ + δ₂·x₂ + δ₃·x₃")
    expect(page.locator("#arith")).to_contain_text("= 1×1 + (-1)×2 + 2×3 = 5")
    expect(page.get_by_role("grid", name="∂L/∂W", exact=True)).to_contain_text("5")
    screenshot(page, "backprop-weight")


def test_each_pass_plays_to_the_end(page: Page) -> None:
    page.goto("/backprop?speed=30")
    for name, expected in (("1. ∂L/∂W", ["5", "7", "9"]),
                           ("2. ∂L/∂X", ["2", "-3", "6", "-3", "2"]),
                           ("3. ∂L/∂b", ["2"])):
        page.get_by_role("navigation", name="Passes").get_by_role("link").filter(
            has_text=name).click()
        expect(page.locator(".htmx-request")).to_have_count(0)  # the pass is shown: a scene
        page.get_by_role("button", name="Play").click()  # arriving later would pause it
        expect(page.locator("#step-status")).to_have_text(
            f"Step {len(expected)} of {len(expected)}")
        grid = page.locator("#pass-stage [role=grid]").last
        assert grid.get_by_role("gridcell").all_inner_texts() == expected
    screenshot(page, "backprop-bias")


def test_training_lowers_the_loss(page: Page) -> None:
    page.goto("/backprop?preset=learn-sobel")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#scene")).to_have_attribute("data-epoch", re.compile(r"^([89]|\d\d+)$"))
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Train")).to_be_visible()
    history = np.array(page.get_by_role("img", name="Loss per update")
                       .get_attribute("data-values").split(","), float)
    assert history.size >= 9 and np.all(np.diff(history) < 0)
    assert re.search(r"epoch=\d+", page.url)
    screenshot(page, "backprop-training")


def test_the_finite_difference_check_agrees(page: Page) -> None:
    page.goto("/backprop?preset=channels")
    page.get_by_role("button", name="Verify with finite differences").click()
    expect(page.locator("#verify")).to_contain_text("∂L/∂W: largest relative difference")
    expect(page.locator("#verify")).not_to_contain_text("DISAGREES")


def test_the_backprop_page_is_accessible(page: Page, axe) -> None:
    for url in ("/backprop?step=2", "/backprop?part=input&step=3",
                "/backprop?preset=learn-sobel&epoch=3&step=4"):
        page.goto(url)
        assert serious_violations(axe, page) == [], url
