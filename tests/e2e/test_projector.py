"""Projector mode at a classroom projector's 1024x768: type read from the back row, numbers
whole in their cells, an Exit projector that covers nothing, and a strip of the parameters a
teacher changes live, which changes the scene as the form does."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, serious_violations

# each page's default preset and a few others, at step 2 (the window and its badges shown)
URLS = ["/1d", "/2d", "/3d", "/channels", "/backprop", "/2d?input=digit28",
        "/channels?preset=three-kernels", "/backprop?preset=learn-sobel", "/pool?part=backward"]

# font sizes in px of the page's own elements, as the browser computed them
MEASURE = """() => {
  const px = el => parseFloat(getComputedStyle(el).fontSize);
  const shown = el => el.offsetParent !== null;
  const cells = [...document.querySelectorAll('.cell')].filter(c => shown(c) && c.firstChild);
  return {
    body: px([...document.querySelectorAll('figcaption, .count, .loss, .plot-panel figcaption')]
      .find(shown)),
    step: px(document.getElementById('step-status')),
    arith: px(document.getElementById('arith')),
    overflowing: cells.filter(c => c.scrollWidth > c.clientWidth || c.scrollHeight > c.clientHeight)
      .map(c => `${c.id} "${c.textContent}"`),
    height: document.documentElement.scrollHeight,
  };
}"""

# visible elements whose box meets the Exit projector button's (its own ancestors and
# descendants aside)
COVERED = """exit => {
  const e = exit.getBoundingClientRect();
  return [...document.querySelectorAll('body *')].filter(el => {
    if (el === exit || el.contains(exit) || exit.contains(el)) return false;
    let r = el.getBoundingClientRect();
    const style = getComputedStyle(el), stage = el.closest('.fit-box');
    if (stage) {  // a stage scrolls within its box: what lies outside the box is not seen
      const b = stage.getBoundingClientRect();
      r = {left: Math.max(r.left, b.left), right: Math.min(r.right, b.right),
           top: Math.max(r.top, b.top), bottom: Math.min(r.bottom, b.bottom)};
      r.width = r.right - r.left; r.height = r.bottom - r.top;
    }
    if (r.width <= 0 || r.height <= 0 || style.visibility === 'hidden') return false;
    return r.left < e.right && e.left < r.right && r.top < e.bottom && e.top < r.bottom;
  }).map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className);
}"""


def at_step_2(url: str, projector: bool) -> str:
    query = "step=2" + ("&projector=1" if projector else "")
    return f"{url}{'&' if '?' in url else '?'}{query}"


def shot_name(url: str, projector: bool) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", url.strip("/")).strip("-")
    return f"projector-{name}" if projector else f"normal-{name}"


@pytest.mark.parametrize("url", URLS)
def test_projector_type_is_read_from_the_back_row(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(at_step_2(url, projector=False))
    normal = page.evaluate(MEASURE)
    assert normal["overflowing"] == [], "normal mode"
    screenshot(page, shot_name(url, projector=False))
    page.get_by_role("button", name="Projector").click()  # as a teacher switches it on
    expect(page.locator("body")).to_have_class(re.compile("projector"))
    sizes = page.evaluate(MEASURE)
    screenshot(page, shot_name(url, projector=True))
    assert sizes["body"] >= 24 and sizes["step"] >= 24, sizes
    assert sizes["arith"] >= 28, sizes
    assert sizes["overflowing"] == [], sizes
    # the cells' own sizes follow the room the screen leaves them: tests/e2e/test_one_screen.py
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    exit_button = page.get_by_role("button", name="Exit projector")
    expect(exit_button).to_be_visible()
    assert exit_button.evaluate(COVERED) == []
    # normal mode gets its sizes back
    exit_button.click()
    expect(page.locator("body")).not_to_have_class(re.compile("projector"))
    expect(page.locator("#step-status")).to_have_css("font-size", f"{normal['step']:g}px")
    assert page.evaluate(MEASURE) == normal


@pytest.mark.parametrize("url", ["/2d", "/backprop?preset=learn-sobel"])
def test_exit_projector_is_reached_from_the_keyboard(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(at_step_2(url, projector=True))
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Exit projector":
            break
    page.keyboard.press("Enter")
    expect(page.locator("body")).not_to_have_class(re.compile("projector"))
    assert "projector" not in page.url


def test_the_strip_changes_the_scene_as_the_form_does(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/2d?input=digit&step=3&projector=1")
    stride = page.get_by_role("textbox", name="Stride")
    expect(stride).to_be_visible()
    # the − and + beside stride's slider: bigger than a fingertip, and reached by Tab
    more = page.get_by_role("button", name="one more").first
    box = more.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    stride.focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="one less").first).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("slider", name="Stride")).to_be_focused()
    page.keyboard.press("Tab")
    expect(more).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"stride=2"))
    expect(stride).to_have_value("2")
    output = page.locator("figcaption", has_text="Output")
    expect(output).to_contain_text("4×4")  # the 8x8 digit and the lesson's 2x2 kernel
    page.keyboard.press("Enter")  # focus stays on +: stride 3
    expect(page).to_have_url(re.compile(r"stride=3"))
    expect(output).to_contain_text("3×3")
    # typing still works
    stride.fill("1")
    stride.press("Tab")
    expect(output).to_contain_text("7×7")
    padding = page.get_by_role("combobox", name="Padding", exact=True)
    padding.fill("same")
    padding.press("Tab")
    expect(page).to_have_url(re.compile(r"padding=same"))
    # a padding by name steps from the numbers the engine made of it: same pads a 2x2
    # kernel by 0 before and 1 after, so one more is 1 all round, and the output 9x9
    page.get_by_role("button", name="one more").nth(1).click()
    expect(padding).to_have_value("1")
    expect(page).to_have_url(re.compile(r"padding=1\b"))
    expect(output).to_contain_text("9×9")
    page.get_by_role("radio", name="Convolution").check()
    expect(page).to_have_url(re.compile(r"mode=convolution"))
    expect(page.locator(".operator").first).to_have_text("∗")
    page.get_by_role("combobox", name="Preset").select_option("sobel-x")
    expect(page).to_have_url(re.compile(r"kernel=sobel-x"))
    expect(page.locator("figcaption", has_text="Kernel")).to_contain_text("3×3")
    assert re.search(r"projector=1", page.url)
    screenshot(page, "projector-strip-2d")
    # the form the strip belongs to says the same on the way out
    page.get_by_role("button", name="Exit projector").click()
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("1")
    expect(page.get_by_role("combobox", name="Padding", exact=True)).to_have_value("1")
    expect(page.locator("#kernel-preset")).to_have_value("sobel-x")


@pytest.mark.parametrize("url", ["/1d", "/3d", "/channels", "/backprop?loss=sum"])
def test_the_strip_steps_on_every_page(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(at_step_2(url, projector=True))
    stride = page.get_by_role("textbox", name="Stride")
    page.get_by_role("button", name="one more").first.click()
    expect(page).to_have_url(re.compile(r"stride=2"))
    expect(stride).to_have_value("2")
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^Step \d+ of \d+$"))
    page.get_by_role("button", name="one less").first.click()
    expect(stride).to_have_value("1")
    expect(page).not_to_have_url(re.compile(r"stride="))
    expect(page).to_have_url(re.compile(r"projector=1"))


def test_a_stepper_does_not_go_below_its_minimum(page: Page) -> None:
    page.goto("/2d?projector=1")
    page.get_by_role("button", name="one less").first.click()  # stride is 1 already
    expect(page.get_by_role("textbox", name="Stride")).to_have_value("1")
    page.get_by_role("button", name="one less").nth(1).click()  # padding 0
    expect(page.get_by_role("combobox", name="Padding", exact=True)).to_have_value("0")
    assert "stride" not in page.url and "padding" not in page.url


def test_projector_mode_is_accessible_in_both_themes(page: Page, axe) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    for theme in ("light", "dark"):
        for url in ("/2d?step=2&projector=1", "/1d?projector=1",
                    "/backprop?preset=learn-sobel&step=2&projector=1"):
            page.goto(url)
            page.evaluate(f"localStorage.setItem('convscope-theme', '{theme}')")
            page.reload()
            assert serious_violations(axe, page) == [], (theme, url)
    screenshot(page, "projector-backprop-dark")
