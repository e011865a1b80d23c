"""Stride, padding and dilation sliders and steppers in a real browser: a drag changes the
scene and the address live (one history entry a drag), the keyboard operates them as the
keymap says, a superseded request never shows, and they pass axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations


def output(page: Page):
    return page.locator("figcaption", has_text="Output")


def status(page: Page):
    return page.locator("#step-status")


def test_a_drag_changes_the_scene_and_the_address_in_one_history_entry(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/2d?input=digit")  # 8x8, the lesson's 2x2 kernel: stride 1..8
    expect(output(page)).to_contain_text("7×7")
    entries = page.evaluate("history.length")
    slider = page.get_by_role("slider", name="Stride")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    seen = set()
    for i in range(1, 11):  # past the middle and on: each position asks for its scene
        page.mouse.move(box["x"] + 4 + i * (box["width"] - 8) * 0.06, y)
        seen.add(output(page).inner_text())
    page.mouse.move(box["x"] + box["width"] - 2, y)  # the far end: stride 8
    page.mouse.up()
    field = page.get_by_role("textbox", name="Stride")
    expect(field).to_have_value("8")
    # (8 - 2) // 8 + 1 = 1 output per axis, by the size formula
    expect(output(page)).to_contain_text("1×1")
    expect(page).to_have_url(re.compile(r"stride=8$"))
    expect(slider).to_have_attribute("aria-valuetext", "8")
    assert page.evaluate("history.length") == entries + 1  # one entry for the whole drag
    page.go_back()
    expect(page).to_have_url(re.compile(r"input=digit$"))
    expect(output(page)).to_contain_text("7×7")
    expect(page.get_by_role("slider", name="Stride")).to_have_value("1")


def test_a_slider_reached_with_tab_takes_the_arrows_and_escape_hands_them_back(
        page: Page) -> None:
    page.goto("/2d?input=digit&step=3")
    page.get_by_role("textbox", name="Stride").focus()
    page.keyboard.press("Tab")  # −
    page.keyboard.press("Tab")
    slider = page.get_by_role("slider", name="Stride")
    expect(slider).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"stride=2"))
    expect(output(page)).to_contain_text("4×4")  # (8 - 2) // 2 + 1
    page.keyboard.press("ArrowRight")
    expect(output(page)).to_contain_text("3×3")  # (8 - 2) // 3 + 1
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("3")
    page.keyboard.press("ArrowLeft")
    expect(output(page)).to_contain_text("4×4")
    expect(status(page)).to_have_text("Step 3 of 16")  # the player did not move
    page.keyboard.press("Escape")
    expect(slider).not_to_be_focused()
    page.keyboard.press("ArrowRight")  # the player's again
    expect(status(page)).to_have_text("Step 4 of 16")
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("2")


def test_a_slider_moved_with_the_mouse_leaves_the_arrows_to_the_player(page: Page) -> None:
    page.goto("/2d?input=digit&step=3")
    slider = page.get_by_role("slider", name="Dilation")
    slider.focus()  # reached by keyboard first, then clicked: the click hands the keys back
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"dilation=2"))
    expect(page.locator("figcaption", has_text="Kernel")).to_contain_text("dilation 2")
    steps = status(page).inner_text()
    page.keyboard.press("ArrowRight")
    expect(status(page)).not_to_have_text(steps)  # a step, not a dilation
    expect(page.get_by_role("textbox", name="Dilation")).to_have_value("2")


def test_steppers_are_pressed_with_enter_and_space_still_plays(page: Page) -> None:
    page.goto("/2d?input=digit")
    more = page.get_by_role("button", name="one more").nth(2)  # dilation's +
    more.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"dilation=2"))
    expect(page.get_by_role("slider", name="Dilation")).to_have_value("2")
    expect(output(page)).to_contain_text("6×6")  # 8 - 2*(2-1) - 1 + 1
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("textbox", name="Dilation")).to_have_value("2")


def test_quick_changes_end_on_the_last_and_never_show_an_older_one(page: Page) -> None:
    page.goto("/2d?input=digit28")
    shown = page.evaluate("""() => new Promise((done) => {
        const slider = document.getElementById("stride-slider"), seen = [];
        document.body.addEventListener("htmx:afterSwap", () => {
          const caption = document.querySelector("#stage figure:last-child small");
          seen.push(caption.textContent);
        });
        for (const value of [2, 3, 4, 5, 6, 7]) {
          slider.value = String(value);
          slider.dispatchEvent(new Event("input", { bubbles: true }));
        }
        const wait = () => document.querySelector(".htmx-request") ?
          setTimeout(wait, 100) : setTimeout(() => done(seen), 300);
        setTimeout(wait, 100);
    })""")
    # output sides by the formula (28 - 2) // s + 1 for s = 2..7
    sides = {2: "14×14", 3: "9×9", 4: "7×7", 5: "6×6", 6: "5×5", 7: "4×4"}
    order = list(sides.values())
    assert shown[-1] == sides[7], shown
    assert len(shown) < 6, shown  # the positions in between were dropped, not all fetched
    assert [order.index(s) for s in shown] == sorted(order.index(s) for s in shown), shown
    expect(output(page)).to_contain_text("4×4")
    expect(page).to_have_url(re.compile(r"stride=7$"))


def test_a_slider_reaches_a_setting_the_page_explains(page: Page) -> None:
    page.expected_errors = ["422"]
    page.goto("/2d")  # 3x3: dilation 3 makes the 2x2 kernel 4 cells wide
    slider = page.get_by_role("slider", name="Dilation")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("alert")).to_contain_text("This setting has no output")
    expect(page).to_have_url(re.compile(r"dilation=3"))
    page.keyboard.press("ArrowLeft")
    expect(output(page)).to_contain_text("1×1")


@pytest.mark.parametrize("url", ["/2d?input=digit28", "/3d", "/1d", "/channels",
                                 "/2d?input=digit28&projector=1", "/pool?projector=1"])
def test_the_controls_are_accessible(page: Page, axe, url: str) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(url)
    expect(page.get_by_role("slider", name="Stride")).to_be_visible()
    page.get_by_role("slider", name="Padding").scroll_into_view_if_needed()
    assert serious_violations(axe, page) == []
    if url.startswith("/2d"):
        screenshot(page, "controls-2d" + ("-projector" if "projector" in url else ""), False)
