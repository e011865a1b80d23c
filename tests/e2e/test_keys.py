"""The keys, in a real browser: one keymap that works whatever has the focus (a select, a
radio, a button, a cell, a slider), except while typing in a text field; a help overlay that
lists it; a blank screen; PageDown and PageUp, which is what a classroom clicker sends."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations


def status(page: Page):
    return page.locator("#step-status")


def active_id(page: Page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def choose_with_the_mouse(page: Page, select, value: str) -> None:
    """What a mouse does: a click focuses the select and opens its list, the choice closes
    it. (Playwright cannot click inside the browser's own list: Escape closes it, and the
    option is chosen as the mouse would.)"""
    select.click()
    page.keyboard.press("Escape")
    select.select_option(value)


def test_right_after_choosing_a_preset_with_the_mouse_steps_and_keeps_the_choice(
        page: Page) -> None:
    page.goto("/2d")
    kernel = page.get_by_role("combobox", name="Preset").nth(1)
    choose_with_the_mouse(page, kernel, "sobel-x")
    expect(page).to_have_url(re.compile(r"kernel=sobel-x"))
    choose_with_the_mouse(page, page.get_by_role("combobox", name="Preset").first, "digit")
    expect(status(page)).to_have_text("Step 0 of 36")
    assert active_id(page) == "input-preset"
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 1 of 36")
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 2 of 36")
    page.keyboard.press("ArrowLeft")
    expect(status(page)).to_have_text("Step 1 of 36")
    expect(page.get_by_role("combobox", name="Preset").first).to_have_value("digit")
    expect(kernel).to_have_value("sobel-x")
    expect(page).to_have_url(re.compile(r"input=digit&kernel=sobel-x&step=1$"))


def test_right_on_the_focused_convolution_radio_steps_and_keeps_the_mode(page: Page) -> None:
    page.goto("/2d")
    radio = page.get_by_role("radio", name="Convolution")
    radio.click()
    expect(page).to_have_url(re.compile(r"mode=convolution"))
    expect(radio).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 1 of 4")
    page.keyboard.press("ArrowLeft")
    expect(status(page)).to_have_text("Step 0 of 4")
    expect(radio).to_be_checked()
    expect(page).to_have_url(re.compile(r"mode=convolution"))


def test_tab_out_of_padding_then_right_steps_instead_of_changing_the_padding_mode(
        page: Page) -> None:
    page.goto("/2d")
    page.get_by_role("combobox", name="Padding", exact=True).click()
    for _ in range(4):  # padding's −, its slider, +, then the padding mode
        page.keyboard.press("Tab")
    mode = page.get_by_role("combobox", name="Padding mode")
    expect(mode).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 1 of 4")
    expect(mode).to_have_value("zeros")
    assert "padding_mode" not in page.url


def test_space_on_the_focused_step_button_plays(page: Page) -> None:
    page.goto("/2d")
    step = page.get_by_role("button", name="Step forward")
    step.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()  # playing, not one step
    expect(status(page)).to_have_text("Step 4 of 4")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    expect(step).to_be_focused()


def test_keys_on_a_slider_and_a_clicked_cell_drive_the_player(page: Page) -> None:
    page.goto("/2d?input=digit&step=3")
    page.get_by_role("slider", name="Speed").click()
    speed = page.locator("#speed-value").inner_text()
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 4 of 49")
    page.keyboard.press("End")
    expect(status(page)).to_have_text("Step 49 of 49")
    expect(page.locator("#speed-value")).to_have_text(speed)
    page.locator("#in-2-2").click()  # a cell clicked (its receptive field shown)
    page.keyboard.press("ArrowLeft")
    expect(status(page)).to_have_text("Step 48 of 49")
    page.keyboard.press("Home")
    expect(status(page)).to_have_text("Step 0 of 49")


def test_a_grid_reached_with_tab_keeps_its_arrow_keys(page: Page) -> None:
    page.goto("/2d?step=1")
    page.get_by_role("slider", name="Speed").focus()
    first = page.get_by_role("grid", name="Input", exact=True).get_by_role("gridcell").first
    page.keyboard.press("Tab")  # from the player's last control into the input grid
    expect(first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#in-0-1")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#in-1-1")).to_be_focused()
    expect(status(page)).to_have_text("Step 1 of 4")
    page.keyboard.press("Space")  # the other keys are the player's
    expect(status(page)).to_have_text("Step 4 of 4")


def test_page_down_and_page_up_step_without_scrolling(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 500})
    page.goto("/2d")
    assert page.evaluate("document.documentElement.scrollHeight") > 500  # it could scroll
    page.keyboard.press("PageDown")
    expect(status(page)).to_have_text("Step 1 of 4")
    page.keyboard.press("PageDown")
    expect(status(page)).to_have_text("Step 2 of 4")
    page.keyboard.press("PageUp")
    expect(status(page)).to_have_text("Step 1 of 4")
    assert page.evaluate("window.scrollY") == 0
    page.get_by_role("radio", name="Cross-correlation").click()  # scrolls it into view
    scrolled = page.evaluate("window.scrollY")
    page.keyboard.press("PageDown")
    expect(status(page)).to_have_text("Step 2 of 4")
    assert page.evaluate("window.scrollY") == scrolled


def test_a_text_field_takes_every_key_and_escape_hands_them_back(page: Page) -> None:
    page.goto("/2d")
    bias = page.get_by_label("Bias")
    bias.click()
    page.keyboard.press("End")
    page.keyboard.type(" p b ?+-")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Home")
    page.keyboard.type("1")
    expect(bias).to_have_value("10 p b ?+-")
    expect(page.locator("body")).not_to_have_class(re.compile("projector"))
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(status(page)).to_have_text("Step 0 of 4")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    page.keyboard.press("Escape")
    expect(bias).not_to_be_focused()
    expect(page).to_have_url(re.compile(r"bias=2"))  # leaving the field sent it
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 1 of 4")
    page.keyboard.press("Tab")  # Tab still moves the focus, on from the field left
    expect(page.get_by_role("textbox", name="Stride")).to_be_focused()
    page.keyboard.press("Escape")

    values = page.locator("#x-values")  # a textarea too, new lines and all
    values.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" 9")
    expect(values).to_have_value(re.compile(r"6 7 8 9$"))
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    expect(values).not_to_be_focused()
    expect(values).to_have_value(re.compile(r"6 7 8$"))
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 2 of 4")


def help_rows(page: Page) -> list[tuple[list[str], str, str]]:
    """The help's rows as a person reads them (the keys' names, what they do), with the key
    values each row says it answers."""
    rows = page.get_by_role("dialog", name="Keys").get_by_role("row")
    found = []
    for row in rows.all()[1:]:
        found.append((row.get_attribute("data-keys").split(" "),
                      row.get_by_role("rowheader").inner_text(),
                      row.get_by_role("cell").inner_text()))
    return found


def test_the_help_lists_the_keys_and_each_does_what_it_says(page: Page, axe) -> None:
    page.goto("/2d?input=digit&step=5")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keys")
    expect(dialog).to_be_visible()
    assert serious_violations(axe, page) == []
    rows = help_rows(page)
    listed = {name: does for _, name, does in rows}
    for name in ("Space", "→", "←", "Home", "End", "+", "−", "Page Down", "Page Up", "P",
                 "B or .", "?"):
        assert name in listed, (name, listed)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # each listed key, pressed as listed on the page at step 5 and 4/s, does what it says
    effects = {
        "Step forward": lambda: expect(status(page)).to_have_text("Step 6 of 49"),
        "Step back": lambda: expect(status(page)).to_have_text("Step 4 of 49"),
        "Go to the last step": lambda: expect(status(page)).to_have_text("Step 49 of 49"),
        "Go to the first step": lambda: expect(status(page)).to_have_text("Step 0 of 49"),
        "Next stop in a tour; elsewhere, step forward":
            lambda: expect(status(page)).to_have_text("Step 6 of 49"),
        "Previous stop in a tour; elsewhere, step back":
            lambda: expect(status(page)).to_have_text("Step 4 of 49"),
        "Faster": lambda: expect(page.locator("#speed-value")).to_have_text("6/s"),
        "Slower": lambda: expect(page.locator("#speed-value")).to_have_text("3/s"),
        "Projector mode": lambda: expect(page.locator("body")).to_have_class(
            re.compile("projector")),
        "Blank the screen": lambda: expect(page.locator("dialog.blank")).to_be_visible(),
        "Show this list": lambda: expect(dialog).to_be_visible(),
    }
    pressed = []
    for keys, name, does in rows:
        effect = next((check for start, check in effects.items() if does.startswith(start)),
                      None)
        if effect is None:
            continue
        page.goto("/2d?input=digit&step=5")
        page.keyboard.press(keys[0])
        effect()
        pressed.append(name)
    assert len(pressed) == 11, pressed
    page.keyboard.press("?")  # ? closes it too
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Keys").click()  # and a button for the mouse
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_space_plays_and_pauses(page: Page) -> None:
    page.goto("/2d?input=digit&speed=2")
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(status(page)).not_to_have_text("Step 0 of 49")
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    shown = status(page).inner_text()
    page.get_by_role("button", name="Step back").click()  # stepping stops at what it shows
    expect(status(page)).to_have_text(f"Step {int(shown.split()[1]) - 1} of 49")


def test_b_blanks_the_screen_and_any_key_or_click_brings_it_back(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/2d?step=2")
    page.keyboard.press("b")
    blank = page.locator("dialog.blank")
    expect(blank).to_be_visible()
    box = blank.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 1024, 768)
    assert blank.evaluate("d => getComputedStyle(d).backgroundColor") == "rgb(0, 0, 0)"
    page.keyboard.press("ArrowRight")  # brings the screen back, and only that
    expect(blank).to_be_hidden()
    expect(status(page)).to_have_text("Step 2 of 4")
    page.keyboard.press("B")
    expect(blank).to_be_visible()
    page.mouse.click(500, 400)
    expect(blank).to_be_hidden()
    expect(status(page)).to_have_text("Step 2 of 4")
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text("Step 3 of 4")


def test_screenshots_of_the_help(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    for url, name in (("/2d?step=2", "help-1024"), ("/2d?step=2&projector=1",
                                                     "help-1024-projector")):
        page.goto(url)
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keys")
        expect(dialog).to_be_visible()
        box = dialog.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box  # all of it on screen
        screenshot(page, name, full_page=False)

