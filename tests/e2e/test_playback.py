"""Playback in a real browser: every step is painted, in order, none skipped, and the page it
ends on is the page its address draws; Pause stops it where it is; a parameter change while
playing shows no step of the old scene.

What was painted is read in the page (tests/e2e/painted.py). No timing is asserted here: how
fast each page plays is bench/playback.py's question.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import Error, Page, Route, expect

from tests.e2e import painted

# Each page's fragments differ (grid cells, 1-D plots, the 3-D window, the kernel at work, a
# backprop pass), so each page plays one scene; speed=60 asks for the top of the page's slider.
SCENES = ["/2d?input=digit", "/1d?signal=box&kernel=box", "/3d",
          "/channels?preset=three-kernels", "/backprop?preset=learn-sobel"]

# Every element of the scene as markup: tags, attributes in a fixed order, text, and a form
# field's current value. Left out: the cells' tabindex (the page's own roving focus), and the
# step in a link's address (backprop's Verify button was drawn with the step the page was
# loaded at, and checks gradients that do not depend on it).
SCENE_MARKUP = """() => {
  const unstepped = (url) => url.replace(/\\bstep=\\d+&?/, "").replace(/[?&]$/, "");
  const value = (node, a) => a.name === "value" && "value" in node ? node.value :
    a.name === "hx-get" || a.name === "href" ? unstepped(a.value) : a.value;
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent.trim();
    if (node.nodeType !== Node.ELEMENT_NODE) return "";
    const attrs = [...node.attributes].filter((a) => a.name !== "tabindex")
      .map((a) => a.name + "=" + value(node, a)).sort();
    return "<" + node.tagName + " " + attrs.join(" ") + ">" +
      [...node.childNodes].map(walk).join("") + "</" + node.tagName + ">";
  };
  return walk(document.getElementById("scene"));
}"""


@pytest.fixture
def watched(page: Page) -> Page:
    """The test's page, with what its frames paint logged."""
    painted.install(page.context)
    return page


def status(page: Page):
    return page.locator("#step-status")


def total(page: Page) -> int:
    return int(page.locator("#player").get_attribute("data-steps"))


def expect_as_its_address_draws_it(page: Page) -> None:
    """The scene on screen is the one a fresh load of the page's address shows."""
    shown = page.evaluate(SCENE_MARKUP)
    page.reload()
    assert page.evaluate(SCENE_MARKUP) == shown


@pytest.mark.parametrize("scene", SCENES)
def test_play_paints_every_step_in_order_and_ends_where_the_address_says(
        watched: Page, scene: str) -> None:
    page = watched
    page.goto(f"{scene}{'&' if '?' in scene else '?'}speed=60")
    steps = total(page)
    painted.reset(page)
    page.get_by_role("button", name="Play").click()
    expect(status(page)).to_have_text(f"Step {steps} of {steps}", timeout=60_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # it stopped by itself
    painted.frames(page, 2)
    assert painted.steps(page) == list(range(steps + 1))  # each once, in order, none skipped
    expect(page).to_have_url(re.compile(rf"[?&]step={steps}(&|$)"))
    expect(page.get_by_role("slider", name="Step")).to_have_value(str(steps))
    expect_as_its_address_draws_it(page)


def test_pause_stops_on_the_step_shown_and_play_goes_on_from_it_then_again_from_0(
        watched: Page) -> None:
    page = watched
    page.goto("/2d?input=digit&speed=16")
    steps = total(page)
    painted.reset(page)
    page.keyboard.press("Space")
    expect(status(page)).to_have_text(re.compile(r"^Step ([5-9]|\d\d) of"))
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    stopped = int(page.locator("#player").get_attribute("data-step"))
    painted.frames(page, 30)  # half a second: eight more steps, had it not stopped
    assert painted.steps(page)[-1] == stopped
    expect(status(page)).to_have_text(f"Step {stopped} of {steps}")
    expect(page).to_have_url(re.compile(rf"[?&]step={stopped}(&|$)"))
    expect_as_its_address_draws_it(page)

    painted.reset(page)
    page.keyboard.press("Space")
    expect(status(page)).to_have_text(f"Step {steps} of {steps}", timeout=30_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    painted.frames(page, 2)
    assert painted.steps(page) == list(range(stopped, steps + 1))

    painted.reset(page)  # from the end, Play starts again at step 0, painted too
    page.keyboard.press("Space")
    expect(status(page)).not_to_have_text(f"Step {steps} of {steps}")
    expect(status(page)).to_have_text(f"Step {steps} of {steps}", timeout=30_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    painted.frames(page, 2)
    assert painted.steps(page) == [steps, *range(steps + 1)]


def test_a_parameter_change_while_playing_shows_no_step_of_the_old_scene(
        watched: Page) -> None:
    """The answers for steps 6 onwards are held back until the change has been made and its
    scene shown, so they are certainly in flight when the stride changes."""
    page = watched
    page.goto("/2d?input=digit&speed=60")
    held: list[Route] = []

    def hold_from_step_6(route: Route) -> None:
        if int(re.search(r"[?&]step=(\d+)", route.request.url).group(1)) >= 6:
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r".*[?&]prev=\d+.*"), hold_from_step_6)
    painted.reset(page)
    page.get_by_role("button", name="Play").click()
    expect(status(page)).to_have_text("Step 5 of 49")
    assert held, "no request was ahead of the step shown"
    stride = page.get_by_role("textbox", name="Stride")
    stride.fill("2")
    stride.press("Tab")
    expect(status(page)).to_have_text("Step 5 of 16")  # the new scene, at the step shown
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    for route in held:
        with contextlib.suppress(Error):  # the player dropped it: the request is gone
            route.continue_()
    painted.frames(page, 10)
    assert painted.steps(page) == list(range(6))
    expect(status(page)).to_have_text("Step 5 of 16")
    expect(page).to_have_url(re.compile(r"[?&]stride=2(&|$)"))
    expect_as_its_address_draws_it(page)


def test_a_sum_opened_to_read_stays_open_as_the_steps_go_on(page: Page) -> None:
    """The 3-D page folds each step's 27 products into a <details>: opened, it stays open."""
    page.goto("/3d")
    page.get_by_role("button", name="Step forward").click()
    sums = page.locator("#arith details")
    sums.locator("summary").click()
    expect(sums).to_have_attribute("open", "")
    page.keyboard.press("ArrowRight")
    expect(status(page)).to_have_text(re.compile(r"^Step 2 of"))
    expect(page.locator("#arith summary")).to_contain_text("Output (1, 1, 2)")
    expect(sums).to_have_attribute("open", "")
