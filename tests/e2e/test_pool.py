"""The pool page in a real browser: played to the end it shows the pool's output; backward,
the winners are marked and the gradient fills in; its controls and keys work; axe finds
nothing serious."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations


def grid_texts(page: Page, label: str) -> list[list[str]]:
    grid = page.get_by_role("grid", name=label, exact=True)
    return [[c.strip() for c in row.get_by_role("gridcell").all_inner_texts()]
            for row in grid.get_by_role("row").all()]


def test_played_to_the_end_it_shows_the_max_of_every_window(page: Page, axe) -> None:
    page.goto("/pool")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 4")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4", timeout=10_000)
    # the ties grid's windows, by hand: max(1,3,2,3), max(3,0,1,1), max(0,1,2,2), max(4,4,4,4)
    assert grid_texts(page, "Output") == [["3", "3"], ["2", "4"]]
    expect(page.locator("#arith")).to_contain_text("max(4, 4, 4, 4) = 4")
    expect(page.locator("#arith")).to_contain_text("3 ties: the first in window order wins")
    expect(page).to_have_url(re.compile(r"/pool\?step=4$"))
    assert serious_violations(axe, page) == []


def test_the_backward_view_marks_the_winners_and_adds_up_the_gradient(page: Page,
                                                                      axe) -> None:
    page.goto("/pool")
    page.get_by_role("link", name=re.compile("^Backward")).click()
    expect(page).to_have_url(re.compile(r"part=backward"))
    page.keyboard.press("ArrowRight")
    expect(page.locator("#arith")).to_have_text(re.compile(r"δ\(1,1\) = 1 goes to the window's "
                                                           r"maximum"))
    winner = page.locator("#pool-stage .cell.winner")
    expect(winner).to_have_count(1)
    expect(winner).to_have_id("in-0-1")  # the first 3 in window order
    expect(page.locator("#pool-stage .cell.tie")).to_have_id("in-1-1")
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    assert grid_texts(page, "∂L/∂x so far") == [["0", "1", "2", "0"], ["0", "0", "0", "0"],
                                                 ["0", "0", "4", "0"], ["3", "0", "0", "0"]]
    expect(page.locator("#pool-stage .cell.tie")).to_have_count(3)  # the four 4s: one wins
    assert serious_violations(axe, page) == []
    page.set_viewport_size({"width": 1024, "height": 768})
    screenshot(page, "pool-backward-1024", full_page=False)


def test_average_pooling_and_the_convolution_beside_it(page: Page) -> None:
    page.goto("/pool?input=digit")
    page.get_by_role("radio", name="Average pooling").check()
    expect(page).to_have_url(re.compile(r"kind=avg"))
    page.get_by_role("checkbox", name="A strided convolution of the same windows").check()
    expect(page).to_have_url(re.compile(r"compare=1"))
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 16 of 16")
    assert grid_texts(page, "Output") == grid_texts(page, "Output of the convolution")
    expect(page.locator("#compare-note")).to_contain_text("It is a convolution with the mean")
    assert grid_texts(page, "Output")[0] == ["1.5", "4.5", "4.5", "2"]  # (0+0+0+6)/4 .. (0+0+8+0)/4


def test_the_kernel_stepper_keeps_the_stride_on_the_kernel(page: Page) -> None:
    page.goto("/pool?input=digit")
    page.get_by_role("group", name="Window").get_by_role("button", name="one more").first.click()
    expect(page).to_have_url(re.compile(r"/pool\?input=digit&kernel=3$"))
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("3")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 4")
    page.get_by_role("textbox", name="Padding").fill("2")
    page.get_by_role("textbox", name="Padding").press("Enter")
    page.expected_errors.append("422")
    expect(page.locator("#scene")).to_contain_text("padding must be at most half of kernel_size")


def test_the_keys_work_after_choosing_with_the_mouse(page: Page) -> None:
    page.goto("/pool")
    status = page.locator("#step-status")
    page.get_by_role("radio", name="Average pooling").click()
    expect(page).to_have_url(re.compile(r"kind=avg"))
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text("Step 1 of 4")
    page.keyboard.press("End")
    expect(status).to_have_text("Step 4 of 4")
    page.keyboard.press("Home")
    expect(status).to_have_text("Step 0 of 4")
    preset = page.get_by_role("combobox", name="Preset")
    preset.click()
    page.keyboard.press("Escape")
    preset.select_option("smiley")
    expect(status).to_have_text("Step 0 of 16")
    page.keyboard.press(" ")  # plays, whatever has the focus
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press(" ")
    page.keyboard.press("ArrowLeft")
    expect(preset).to_have_value("smiley")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
