"""The matrix page in a real browser: played to the end, the output is the engine's and W's
product; at every step the outlined row of W is the window on the input (its taps on the
window's cells, in the window's colours); the view toggle; the keys; axe."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect

from app.engine import forward
from app.presets import IMAGES_2D, KERNELS_2D
from tests.e2e.conftest import screenshot, serious_violations

X = np.array(IMAGES_2D["random"][1], float)
SOBEL = np.array(KERNELS_2D["sobel-x"][1], float)

# The outlined row's taps (column -> tap) and the window's cells on the input (its padded
# grid's row, column -> tap), as the page shows them.
READ = """() => {
  const row = document.querySelector('#grid-matrix .row.now');
  const taps = {};
  if (row) for (const cell of row.querySelectorAll('.cell')) {
    if (!cell.classList.contains('faint')) taps[cell.dataset.c] = cell.dataset.tap;
  }
  const win = {};
  for (const cell of document.querySelectorAll('[data-grid="input"] .cell.win')) {
    win[cell.dataset.r + ',' + cell.dataset.c] = cell.dataset.tap;
  }
  return {row: row ? row.id : null, taps, win,
          step: document.getElementById('step-status').textContent};
}"""


def test_play_to_the_end_and_read_the_output(page: Page) -> None:
    page.goto("/matrix?input=random&kernel=sobel-x&speed=24")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#step-status")).to_have_text("Step 16 of 16", timeout=10_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    cells = page.get_by_role("grid", name="Output", exact=True).get_by_role("gridcell")
    shown = np.array([float(t) for t in cells.all_inner_texts()]).reshape(4, 4)
    np.testing.assert_array_equal(shown, forward(X[None], SOBEL[None, None])[0])
    side = page.get_by_role("grid", name="vec(y) = W · vec(x)").get_by_role("gridcell")
    np.testing.assert_array_equal([float(t) for t in side.all_inner_texts()], shown.ravel())
    screenshot(page, "matrix-played", full_page=False)


def test_the_outlined_row_follows_the_sliding_window_at_each_step(page: Page) -> None:
    # padding 1: the windows at the edges read padding cells, which W has no column for
    page.goto("/matrix?input=random&kernel=sobel-x&padding=1&stride=2")
    steps = 9  # 3x3 outputs
    expect(page.locator("#step-status")).to_have_text(f"Step 0 of {steps}")
    assert page.evaluate(READ)["row"] is None
    for step in range(1, steps + 1):
        page.get_by_role("button", name="Step forward").click()
        expect(page.locator("#step-status")).to_have_text(f"Step {step} of {steps}")
        expect(page.locator(f"#mrow-{step - 1}")).to_have_class(re.compile(r"\bnow\b"))
        seen = page.evaluate(READ)
        assert seen["row"] == f"mrow-{step - 1}"
        # the window: the output (i, j) reads padded cells (2i + a, 2j + b)
        i, j = divmod(step - 1, 3)
        window = {f"{2 * i + a},{2 * j + b}": str(3 * a + b) for a in range(3) for b in range(3)}
        assert seen["win"] == window, step
        # the row's entries: the same taps on the real cells, at column (r - 1) * 6 + (c - 1)
        real = {str((r - 1) * 6 + c - 1): tap for cell, tap in window.items()
                for r, c in [map(int, cell.split(","))] if 1 <= r <= 6 and 1 <= c <= 6}
        assert seen["taps"] == real, step
        assert page.locator("#grid-matrix .row.now").count() == 1


def test_the_toggle_changes_the_matrix_and_the_url(page: Page) -> None:
    page.goto("/matrix?input=random&kernel=sobel-x")
    expect(page.get_by_role("grid", name="Weight matrix W, 16 × 36")).to_be_visible()
    page.get_by_role("radio", name=re.compile("im2col")).check()
    expect(page).to_have_url(re.compile(r"matrix=im2col"))
    expect(page.get_by_role("grid", name="Patches matrix P, 16 × 9")).to_be_visible()
    page.get_by_role("radio", name=re.compile("Wᵀ")).check()
    expect(page).to_have_url(re.compile(r"matrix=Wt"))
    expect(page.get_by_role("grid", name="Transposed matrix Wᵀ, 36 × 16")).to_be_visible()
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page.get_by_role("grid", name="Transposed matrix Wᵀ, 36 × 4")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("grid", name="Transposed matrix Wᵀ, 36 × 16")).to_be_visible()


def test_the_link_opens_backprop_with_the_same_input_gradient(page: Page) -> None:
    page.goto("/matrix?input=random&kernel=emboss&matrix=Wt")
    side = page.get_by_role("grid", name="∂L/∂x = Wᵀ · vec(δ)").get_by_role("gridcell")
    ours = [float(t) for t in side.all_inner_texts()]
    page.get_by_role("link", name="/backprop's ∂L/∂X").click()
    expect(page).to_have_url(re.compile(r"/backprop\?.*part=input"))
    page.get_by_role("button", name="To end").click()
    expect(page.locator("#step-status")).to_have_text("Step 36 of 36")
    theirs = page.get_by_role("grid", name="∂L/∂X", exact=True).get_by_role("gridcell")
    assert [float(t) for t in theirs.all_inner_texts()] == ours


def test_keys_work_after_a_mouse_choice_of_the_matrix(page: Page) -> None:
    page.goto("/matrix")
    radio = page.get_by_role("radio", name=re.compile("im2col"))
    radio.click()
    expect(page).to_have_url(re.compile(r"matrix=im2col"))
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-status")).to_have_text("Step 1 of 4")
    expect(page.locator("#mrow-0")).to_have_class(re.compile(r"\bnow\b"))
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    page.keyboard.press("Home")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 4")
    page.keyboard.press("+")
    expect(page.locator("#speed-value")).to_have_text("3/s")
    expect(radio).to_be_checked()


def test_the_matrix_page_is_accessible(page: Page, axe) -> None:
    for url in ("/matrix?step=2", "/matrix?input=random&kernel=sobel-x&step=3",
                "/matrix?input=random&kernel=sobel-x&matrix=Wt&step=3&projector=1",
                "/matrix?input=random&kernel=box-blur&matrix=im2col&padding=1&step=1"):
        page.goto(url)
        expect(page.locator(".fit-box")).to_have_class(re.compile("fitted"))
        assert serious_violations(axe, page) == [], url
