"""The backprop page in a real browser: the passes, training and the check."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
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
    history = np.array(page.get_by_role("img", name="Loss per epoch")
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


def cell_names(page: Page, grid: str) -> list[str]:
    return page.get_by_role("grid", name=grid, exact=True).locator("[data-name]").evaluate_all(
        "cells => cells.map(c => c.dataset.name)")


def test_typing_x_in_the_page_changes_the_scene(page: Page) -> None:
    page.goto("/backprop?step=1")
    assert cell_names(page, "Input x") == ["x₁", "x₂", "x₃", "x₄", "x₅"]
    # the name is drawn in the cell's corner (CSS generated text), the value stays its text
    shown = page.locator("#fx-0-0-0").evaluate(
        "c => getComputedStyle(c, '::before').content")
    assert shown == '"x₁"' and page.locator("#fx-0-0-0").inner_text() == "1"
    box = page.get_by_role("textbox", name="Input x")
    box.fill("1 2 3 4 5 6")
    box.press("Tab")
    expect(page).to_have_url(re.compile(r"x=1,2,3,4,5,6"))
    expect(page.get_by_role("grid", name="Output o", exact=True).get_by_role("gridcell")
           ).to_have_count(4)
    assert cell_names(page, "Input x")[-1] == "x₆"
    kernel = page.get_by_role("textbox", name="Kernel w")
    kernel.fill("1 0 -1")
    kernel.press("Tab")
    expect(page).to_have_url(re.compile(r"w=1,0,-1"))
    # o_i = x_i − x_(i+2) = −2 everywhere (by hand)
    expect(page.get_by_role("grid", name="Output o", exact=True).get_by_role("gridcell")
           ).to_have_text(["-2"] * 4)
    box.fill("1 2 x")
    box.press("Tab")
    page.expected_errors.append("422")
    expect(page.locator("#x-error")).to_contain_text("x must hold numbers")
    # another preset rewrites both boxes with its values
    page.get_by_role("combobox", name="Preset").select_option("lesson-2d")
    expect(page.get_by_role("textbox", name="Input x")).to_have_value("0 1 2\n3 4 5\n6 7 8")
    expect(page.get_by_role("textbox", name="Kernel w")).to_have_value("0 1\n2 3")


# the loss plot's tick labels and axis names: text, box, size in CSS px as drawn
LOSS_LABELS = """() => {
  const svg = document.getElementById('loss-plot'), box = svg.getBoundingClientRect();
  return {box: [box.left, box.top, box.right, box.bottom],
          labels: [...svg.querySelectorAll('text')].map(t => {
            const r = t.getBoundingClientRect();
            return {text: t.textContent, cls: t.getAttribute('class'),
                    px: t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize),
                    box: [r.left, r.top, r.right, r.bottom]};
          })};
}"""


@pytest.mark.parametrize("projector", [False, True])
def test_the_loss_plot_has_named_axes_with_values(page: Page, projector: bool) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/backprop?preset=learn-sobel&epoch=30" + ("&projector=1" if projector else ""))
    plot = page.get_by_role("img", name="Loss per epoch")
    expect(plot).to_be_in_viewport()
    found = page.evaluate(LOSS_LABELS)
    texts = [t["text"] for t in found["labels"]]
    assert "loss ↑" in texts and "epoch →" in texts
    assert {"0", "10", "20", "30"} <= set(texts)  # epochs 0..30
    left, top, right, bottom = found["box"]
    for t in found["labels"]:
        lf, tp, r, b = t["box"]
        assert left <= lf and r <= right + 0.5 and top <= tp and b <= bottom + 0.5, t
        assert t["px"] >= (24 if projector else 12), t
    for a, b in itertools.combinations(found["labels"], 2):
        (al, at, ar, ab), (bl, bt, br, bb) = a["box"], b["box"]
        assert ar <= bl + 1 or br <= al + 1 or ab <= bt + 1 or bb <= at + 1, (a, b)
    screenshot(page, f"backprop-loss-plot{'-projector' if projector else ''}", full_page=False)
