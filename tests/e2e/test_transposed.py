"""The transposed page in a real browser: played to the end, the gather view, the overlap map's
checkerboard, the link to /backprop's same numbers, keys and axe."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations


def output(page: Page) -> list[list[str]]:
    grid = page.get_by_role("grid", name="Output", exact=True)
    return [row.get_by_role("gridcell").all_inner_texts() for row in grid.get_by_role("row").all()]


def test_scatter_plays_to_the_end_and_the_output_is_the_worked_example(page: Page) -> None:
    page.goto("/transposed?speed=8")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    # by hand: 0·K + 1·K shifted right + 2·K shifted down + 3·K shifted both
    assert output(page) == [["0", "0", "1"], ["0", "4", "6"], ["4", "12", "9"]]
    expect(page.locator("#arith")).to_contain_text("x(2,2) = 3 stamps 3 × kernel:")
    expect(page.locator("#arith")).to_contain_text("y(2,2) complete: 3×0 + 2×1 + 1×2 + 0×3 = 4")
    expect(page).to_have_url(re.compile(r"step=4"))
    screenshot(page, "transposed-scatter-end")


def test_the_stamps_add_up_step_by_step_with_the_keys(page: Page) -> None:
    page.goto("/transposed")
    page.keyboard.press("ArrowRight")  # x(1,1) = 0 stamps zeros
    expect(page.locator("#step-status")).to_have_text("Step 1 of 4")
    assert output(page) == [["0", "0", ""], ["0", "0", ""], ["", "", ""]]
    page.keyboard.press("ArrowRight")  # x(1,2) = 1 stamps the kernel one cell right
    expect(page.locator("#step-status")).to_have_text("Step 2 of 4")
    assert output(page) == [["0", "0", "1"], ["0", "2", "3"], ["", "", ""]]
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    page.keyboard.press("Home")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 4")
    assert output(page) == [["", "", ""]] * 3


def test_the_gather_toggle_shows_the_same_numbers_cell_by_cell(page: Page) -> None:
    page.goto("/transposed?speed=24")
    page.get_by_role("radio", name=re.compile("Gather")).check()
    expect(page).to_have_url(re.compile(r"show=gather"))
    expect(page.locator("#step-status")).to_have_text("Step 0 of 9")
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 9 of 9")
    assert output(page) == [["0", "0", "1"], ["0", "4", "6"], ["4", "12", "9"]]
    expect(page.locator("#arith")).to_contain_text("y(3,3) = 3×3 = 9")
    page.reload()  # the toggle is in the address
    expect(page.get_by_role("radio", name=re.compile("Gather"))).to_be_checked()


def test_kernel_3_stride_2_overlap_map_is_the_1_2_1_checkerboard_and_kernel_4_is_even(
        page: Page) -> None:
    page.goto("/transposed?input=ones4&kernel=k3&stride=2")
    grid = page.get_by_role("grid", name=re.compile("Overlap map"))
    rows = [r.get_by_role("gridcell").all_inner_texts() for r in grid.get_by_role("row").all()]
    assert rows[0] == ["1", "1", "2", "1", "2", "1", "2", "1", "1"]
    assert rows[2] == ["2", "2", "4", "2", "4", "2", "4", "2", "2"]
    assert rows[3] == rows[0] and rows[4] == rows[2]  # 1-2-1 down as well as across
    expect(page.locator("#stage")).to_contain_text("a checkerboard")
    screenshot(page, "transposed-checkerboard")
    page.get_by_role("combobox", name="Preset").nth(1).select_option("k4")
    expect(page).to_have_url(re.compile(r"kernel=k4"))
    rows = [r.get_by_role("gridcell").all_inner_texts() for r in grid.get_by_role("row").all()]
    assert rows[0] == ["1", "1", "2", "2", "2", "2", "2", "2", "1", "1"]
    assert all(row[2:-2] == ["4"] * 6 for row in rows[2:-2])  # inside, no pattern at all
    expect(page.locator("#stage")).to_contain_text("even")


def test_the_backward_pass_link_opens_backprop_with_the_same_numbers(page: Page) -> None:
    page.goto("/transposed?input=ramp3&kernel=k3&stride=2&padding=1&step=9")
    expect(page.locator("#step-status")).to_have_text("Step 9 of 9")
    ours = output(page)
    page.get_by_role("link", name=re.compile("This is the backward pass")).click()
    expect(page).to_have_url(re.compile(r"/backprop\?.*part=input"))
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text(re.compile(r"Step (\d+) of \1"))
    grid = page.get_by_role("grid", name="∂L/∂X", exact=True)
    theirs = [r.get_by_role("gridcell").all_inner_texts() for r in grid.get_by_role("row").all()]
    assert [[float(v) for v in row] for row in theirs] == \
        [[float(v) for v in row] for row in ours]
    screenshot(page, "transposed-as-backprop")


def test_a_stride_change_with_the_plus_button_keeps_the_page_in_its_url(page: Page) -> None:
    page.goto("/transposed?input=ones4&kernel=k3")
    page.locator(".stepper").filter(has=page.locator("#stride-field")).get_by_role(
        "button", name="one more").click()
    expect(page).to_have_url(re.compile(r"stride=2"))
    expect(page.locator("#stage")).to_contain_text("Output 9×9")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-status")).to_have_text("Step 1 of 16")


def test_the_transposed_page_is_accessible(page: Page, axe) -> None:
    for url in ("/transposed?step=2", "/transposed?show=gather&step=3",
                "/transposed?input=signal&kernel=k3&stride=2&step=2&projector=1"):
        page.goto(url)
        expect(page.locator("#arith")).not_to_contain_text("Press Play")
        assert serious_violations(axe, page) == [], url
