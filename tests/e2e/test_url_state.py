"""The URL as the state, in a real browser: speed survives a reload on every page, a typo keeps
the address and says what is wrong, a preset stays a preset, drawing leaves no comb, and the
URL holds the step shown."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

# each page's own default speed, in steps per second (a reload without `speed` shows it)
DEFAULTS = {"/1d": 24, "/2d": 4, "/3d": 2, "/channels": 2, "/backprop": 2, "/pool": 2}


def params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def choose_speed(page: Page, shown: str) -> None:
    """Move the speed slider with the keyboard until it shows ``shown`` (e.g. "4/s"): ↑ and
    ↓, since ← and → step the player whatever has the focus."""
    slider = page.get_by_role("slider", name="Speed")
    value = page.locator("#speed-value")
    speeds = [float(s) for s in slider.get_attribute("data-speeds").split(",")]
    target = speeds.index(float(shown.removesuffix("/s")))
    key = "ArrowUp" if target > int(slider.input_value()) else "ArrowDown"
    while value.inner_text() != shown:
        slider.press(key)
    expect(value).to_have_text(shown)


@pytest.mark.parametrize("path", list(DEFAULTS))
def test_the_speed_chosen_survives_a_reload_on_every_page(page: Page, path: str) -> None:
    page.goto(path)
    choose_speed(page, "4/s")
    if DEFAULTS[path] == 4:
        expect(page).not_to_have_url(re.compile(r"speed="))
    else:
        expect(page).to_have_url(re.compile(r"[?&]speed=4(&|$)"))
    page.reload()
    expect(page.locator("#speed-value")).to_have_text("4/s")
    # and the page's own default is left out of the URL
    choose_speed(page, f"{DEFAULTS[path]}/s")
    expect(page).not_to_have_url(re.compile(r"speed="))
    page.reload()
    expect(page.locator("#speed-value")).to_have_text(f"{DEFAULTS[path]}/s")


@pytest.mark.parametrize("typed", ["0", "abc"])
def test_a_typo_keeps_the_address_and_says_what_is_wrong(page: Page, typed: str) -> None:
    page.expected_errors = ["422"]
    page.goto("/2d?input=digit&kernel=sobel-x")
    history = page.evaluate("history.length")
    stride = page.get_by_role("textbox", name="Stride")
    stride.fill(typed)
    stride.press("Tab")
    expect(page.get_by_role("alert")).to_contain_text("stride must be")
    expect(page).to_have_url(re.compile(rf"/2d\?input=digit&kernel=sobel-x&stride={typed}$"))
    assert page.evaluate("history.length") == history
    expect(stride).to_have_attribute("aria-invalid", "true")
    expect(stride).to_have_accessible_description(re.compile("^stride must be"))
    screenshot(page, f"2d-typo-stride-{typed}")
    page.reload()  # the page shows what the URL says: the digit, sobel-x, the bad stride
    expect(page.get_by_role("textbox", name="Stride")).to_have_value(typed)
    expect(page.get_by_role("textbox", name="Stride")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("combobox", name="Preset").first).to_have_value("digit")
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page.locator("#step-status")).to_have_text("Step 0 of 9")
    expect(page.get_by_role("textbox", name="Stride")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#stride-error")).to_have_text("")
    assert params(page) == {"input": ["digit"], "kernel": ["sobel-x"], "stride": ["2"]}


def test_a_preset_gives_one_answer_whatever_the_detour(page: Page) -> None:
    page.goto("/1d?step=100")
    result = page.locator("#arith")
    expect(result).to_have_text(re.compile(r"= 14\.939\s*$"))
    mode = page.get_by_role("combobox", name="Padding mode")
    mode.select_option("reflect")
    expect(page).to_have_url(re.compile("padding_mode=reflect"))
    mode.select_option("zeros")
    expect(page).not_to_have_url(re.compile("padding_mode"))
    expect(result).to_have_text(re.compile(r"= 14\.939\s*$"))
    assert "x" not in params(page) and len(page.url) < 100


def test_drawing_on_the_plot_sets_every_sample_it_crosses(page: Page) -> None:
    page.goto("/1d?view=discrete&signal=box&padding=0")
    plot = page.locator("#plot-input")
    box, d = plot.bounding_box(), plot.evaluate("svg => ({...svg.dataset})")
    width = float(plot.get_attribute("viewBox").split()[2])

    def sample_at(fraction: float) -> int:  # the sample under this fraction of the plot
        x = fraction * width
        t0, t1, left, right = (float(d[k]) for k in ("t0", "t1", "left", "right"))
        return round(t0 + (x - left) / (right - left) * (t1 - t0))

    y = box["y"] + box["height"] * 0.25
    page.mouse.move(box["x"] + box["width"] * 0.2, y)  # past the value axis's labels
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, y, steps=2)  # three events, far apart
    page.mouse.up()
    expect(page.get_by_role("combobox", name="Preset").first).to_have_value("custom")
    expect(page).to_have_url(re.compile(r"[?&]x="))
    after = [float(v) for v in plot.get_attribute("data-values").split(",")]
    first, last = sample_at(0.2), sample_at(0.85)
    assert first >= 0 and last - first >= 8 and last < len(after)
    drawn = after[first:last + 1]
    assert len(set(drawn)) == 1, drawn  # every sample the stroke crossed, level as drawn


def test_changing_stride_keeps_the_step_shown_in_the_url(page: Page) -> None:
    page.goto("/2d?input=digit&kernel=sobel-x&step=36")
    expect(page.locator("#step-status")).to_have_text("Step 36 of 36")
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page.locator("#step-status")).to_have_text("Step 9 of 9")
    expect(page).to_have_url(re.compile(r"[?&]step=9(&|$)"))
    page.get_by_role("button", name="Step back").click()
    expect(page.locator("#step-status")).to_have_text("Step 8 of 9")
