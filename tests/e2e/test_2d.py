"""The 2D page in a real browser: the flows a teacher and a student go through."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect

from app.engine import forward
from tests.e2e.conftest import screenshot, serious_violations


def grid_text(page: Page, name: str) -> list[str]:
    return page.get_by_role("grid", name=name, exact=True).get_by_role("gridcell").all_inner_texts()


def output_numbers(page: Page) -> np.ndarray:
    rows = page.get_by_role("grid", name="Output", exact=True).get_by_role("row")
    return np.array([[float(t) for t in r.get_by_role("gridcell").all_inner_texts()]
                     for r in rows.all()])


def test_first_step_forward_shows_19_and_its_four_terms(page: Page) -> None:
    page.goto("/2d")
    screenshot(page, "2d-default")
    page.get_by_role("button", name="Step forward").click()
    arithmetic = page.locator("#arith")
    expect(arithmetic).to_contain_text("0×0 + 1×1 + 2×3 + 3×4 = 19")
    expect(page.locator("#step-status")).to_have_text("Step 1 of 4")
    assert grid_text(page, "Output")[0] == "19"
    assert arithmetic.get_attribute("aria-live") == "polite"
    assert re.search(r"[?&]step=1\b", page.url)


def test_play_runs_to_the_end(page: Page) -> None:
    page.goto("/2d?speed=4")
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"Step [234] of 4"))
    screenshot(page, "2d-mid-animation")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert grid_text(page, "Output") == ["19", "25", "37", "43"]


def test_changing_parameters_gives_the_engines_output(page: Page) -> None:
    page.goto("/2d")
    page.get_by_label("Preset").first.select_option("digit")
    page.get_by_label("Preset").nth(1).select_option("sobel-x")
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    page.get_by_role("combobox", name="Padding", exact=True).fill("1")
    page.get_by_role("combobox", name="Padding", exact=True).press("Tab")
    page.get_by_role("radio", name="Convolution").check()
    expect(page).to_have_url(re.compile(r"mode=convolution"))
    page.get_by_role("button", name="To end").click()
    expect(page.locator("#step-status")).to_have_text("Step 16 of 16")
    from app.presets import IMAGES_2D, KERNELS_2D

    expected = forward(np.array([IMAGES_2D["digit"][1]], float),
                       np.array([[KERNELS_2D["sobel-x"][1]]], float), stride=2, padding=1,
                       mode="convolution")[0]
    np.testing.assert_allclose(output_numbers(page), expected)
    assert "stride=2" in page.url and "padding=1" in page.url


def test_keyboard_drives_the_player(page: Page) -> None:
    page.goto("/2d")
    page.locator("body").press("ArrowRight")
    expect(page.locator("#step-status")).to_have_text("Step 1 of 4")
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    page.keyboard.press("Home")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 4")
    before = page.locator("#speed-value").inner_text()
    page.keyboard.press("+")
    assert page.locator("#speed-value").inner_text() != before
    page.keyboard.press("-")
    expect(page.locator("#speed-value")).to_have_text(before)
    page.keyboard.press("Space")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#step-status")).to_have_text("Step 3 of 4")


def test_projector_mode(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/2d?step=2")
    page.get_by_role("button", name="Projector").click()
    expect(page.locator("body")).to_have_class(re.compile("projector"))
    expect(page.locator("#x-values")).to_be_hidden()  # the form folds into the strip
    assert "projector=1" in page.url
    page.reload()
    expect(page.locator("body")).to_have_class(re.compile("projector"))
    cell = page.get_by_role("grid", name="Input", exact=True).get_by_role("gridcell").first
    assert cell.bounding_box()["height"] >= 60  # readable from the back of the room
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "2d-projector")
    page.keyboard.press("p")
    expect(page.locator("#x-values")).to_be_visible()


def test_reload_and_back_keep_state(page: Page) -> None:
    page.goto("/2d")
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page).to_have_url(re.compile(r"stride=2"))
    page.get_by_role("button", name="Step forward").click()
    expect(page).to_have_url(re.compile(r"step=1"))
    page.reload()
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("2")
    expect(page.locator("#step-status")).to_have_text("Step 1 of 1")
    page.go_back()
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("1")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 4")


def test_receptive_field_both_ways(page: Page) -> None:
    page.goto("/2d?step=4")
    page.locator("#out-1-1").hover()
    marked = page.locator('[data-grid="input"] .rf')
    expect(marked).to_have_count(4)
    assert sorted(marked.evaluate_all("els => els.map(e => e.id)")) == [
        "in-1-1", "in-1-2", "in-2-1", "in-2-2"]
    page.locator("#in-1-1").hover()  # the centre feeds every output
    expect(page.locator('[data-grid="output"] .rf')).to_have_count(4)


def test_an_impossible_setting_is_explained_not_broken(page: Page) -> None:
    page.expected_errors.append("status of 422 (Unprocessable Entity)")
    page.goto("/2d")
    page.get_by_role("combobox", name="Padding", exact=True).fill("same")
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page.get_by_role("alert")).to_contain_text("'same' is not supported for strided")


def test_a_setting_over_a_page_limit_is_explained_and_undone(page: Page) -> None:
    page.expected_errors.append("status of 413")
    page.goto("/2d?input=digit28")
    padding = page.get_by_role("combobox", name="Padding", exact=True)
    padding.fill("40")
    padding.press("Tab")
    expect(page.get_by_role("alert").get_by_role("heading")).to_have_text(
        "Too big to show on a page")
    expect(page.get_by_role("alert")).to_contain_text(
        "would draw 23,113 values, and a page draws at most 6,000 (page_max_cells)")
    expect(page).to_have_url(re.compile(r"padding=40"))
    padding.fill("1")
    padding.press("Tab")
    expect(page.get_by_role("alert")).to_have_count(0)
    # 28 + 2 x 1 - 2 + 1 = 29 outputs a side with the lesson's 2x2 kernel
    expect(page.locator('[data-grid="output"] .cell')).to_have_count(29 * 29)


def test_no_serious_accessibility_violations(page: Page, axe) -> None:
    urls = ("/", "/2d?step=2", "/2d?mode=convolution&padding=1&step=3&projector=1",
            "/2d?input=random&kernel=emboss&padding=1&padding_mode=reflect&step=20")
    for theme in ("light", "dark"):
        for url in urls:
            page.goto(url)
            page.evaluate(f"localStorage.setItem('convscope-theme', '{theme}')")
            page.reload()
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            assert serious_violations(axe, page) == [], (theme, url)
    screenshot(page, "2d-dark")


def test_editing_a_cell_recomputes_the_output(page: Page) -> None:
    page.goto("/2d?step=4")
    page.locator("#in-0-0").dblclick()
    editor = page.get_by_role("spinbutton", name="Input row 1, column 1")
    editor.fill("10")
    editor.press("Enter")
    expect(page).to_have_url(re.compile(r"x=10"))
    expect(page.locator("#in-0-0")).to_have_text("10")
    # the step is kept; w[0,0] = 0, so x[0,0] changes nothing yet
    assert grid_text(page, "Output") == ["19", "25", "37", "43"]
    page.get_by_role("grid", name="Kernel", exact=True).get_by_role("gridcell").first.focus()
    page.keyboard.press("Enter")
    page.get_by_role("spinbutton", name="Kernel row 1, column 1").fill("1")
    page.keyboard.press("Enter")
    expect(page.locator("#out-0-0")).to_have_text("29")  # 1×10 + 1×1 + 2×3 + 3×4


def test_a_phone_has_no_horizontal_scrolling(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ("/", "/2d?input=digit28&kernel=sobel-x&padding=1&step=30"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url


def test_two_quick_clicks_while_the_server_answers_are_two_steps(page: Page) -> None:
    """A student clicking Step forward twice before the first step has come back gets two
    steps (the second click counted from the step asked for, not the one still on screen).
    The first answer is held back until both clicks are made: a slow server, on demand."""
    page.goto("/2d")
    forward = page.get_by_role("button", name="Step forward")
    held = []

    def hold_the_first(route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r".*[?&]prev=\d+.*"), hold_the_first)
    forward.click()
    for _ in range(500):  # each call lets Playwright hand over the intercepted request
        if held:
            break
        page.evaluate("0")
    assert held, "the first step's request never left"
    forward.click()
    held[0].continue_()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^Step 2 of"))
    expect(page).to_have_url(re.compile(r"step=2"))
