"""The classroom, in a real browser: projector mode and the theme survive every link and Back,
and the tour walks the lesson stop by stop with PageDown alone (what a clicker sends)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.web.lesson import STOPS
from tests.e2e.conftest import screenshot, serious_violations

PROJECTOR = re.compile(r"\bprojector\b")


def theme(page: Page) -> str:
    return page.evaluate("document.documentElement.dataset.theme")


def choose_theme(page: Page, wanted: str) -> None:
    if theme(page) != wanted:
        page.get_by_role("button", name="Dark").click()
    assert theme(page) == wanted


def test_projector_and_theme_survive_a_lesson_link_and_back(page: Page) -> None:
    page.goto("/")
    choose_theme(page, "dark")
    page.keyboard.press("p")
    expect(page.locator("body")).to_have_class(PROJECTOR)
    expect(page).to_have_url(re.compile(r"/\?projector=1$"))
    page.get_by_role("link", name="Blur a handwritten digit").click()
    expect(page).to_have_url(re.compile(r"/2d\?input=digit&kernel=box-blur&projector=1$"))
    expect(page.locator("body")).to_have_class(PROJECTOR)
    assert theme(page) == "dark"

    page.keyboard.press("p")  # off here, and a lighter room
    choose_theme(page, "light")
    expect(page.locator("body")).not_to_have_class(PROJECTOR)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?projector=1$"))
    expect(page.locator("body")).to_have_class(PROJECTOR)  # what the URL says
    assert theme(page) == "light"  # the room's latest choice
    page.go_forward()
    expect(page).to_have_url(re.compile(r"kernel=box-blur$"))
    expect(page.locator("body")).not_to_have_class(PROJECTOR)


def test_back_after_a_parameter_change_shows_what_the_url_says(page: Page) -> None:
    pressed = page.locator("#projector-toggle")
    page.goto("/2d")
    page.get_by_role("textbox", name="Stride").fill("2")
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page).to_have_url(re.compile(r"/2d\?stride=2$"))
    page.keyboard.press("Escape")  # out of the Padding field that Tab went to
    page.keyboard.press("p")
    expect(page).to_have_url(re.compile(r"/2d\?stride=2&projector=1$"))
    page.go_back()  # an htmx history restore, to a URL without projector mode
    expect(page).to_have_url(re.compile(r"/2d$"))
    expect(page.locator("body")).not_to_have_class(PROJECTOR)
    expect(pressed).to_have_attribute("aria-pressed", "false")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/2d\?stride=2&projector=1$"))
    expect(page.locator("body")).to_have_class(PROJECTOR)
    expect(pressed).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Step forward").click()  # the player keeps the mode too
    expect(page).to_have_url(re.compile(r"/2d\?stride=2&(step=1&projector=1|projector=1&step=1)$"))

    page.goto("/backprop?projector=1")
    page.get_by_role("link", name=re.compile("full convolution of δ")).click()  # htmx, projector on
    expect(page).to_have_url(re.compile(r"/backprop\?(?=.*\bpart=input\b)(?=.*\bprojector=1\b)"))
    page.keyboard.press("p")
    expect(page).to_have_url(re.compile(r"/backprop\?part=input$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/backprop\?projector=1$"))
    expect(page.locator("body")).to_have_class(PROJECTOR)  # as its URL says
    expect(pressed).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("body")).to_have_class(PROJECTOR)


def test_every_link_carries_projector_mode_and_htmx_requests_too(page: Page) -> None:
    page.goto("/backprop")
    page.keyboard.press("p")
    nav = page.locator('nav[aria-label="Pages"] a')  # hidden in projector mode, still links
    expect(nav).to_have_count(11)
    assert nav.evaluate_all("links => links.map(a => a.getAttribute('href'))") == [
        "/?projector=1", "/1d?projector=1", "/2d?projector=1", "/3d?projector=1",
        "/channels?projector=1", "/backprop?projector=1", "/matrix?projector=1",
        "/transposed?projector=1", "/pool?projector=1", "/network?projector=1", "/docs"]
    page.get_by_role("link", name=re.compile("full convolution of δ")).click()  # an htmx link
    expect(page).to_have_url(re.compile(r"/backprop\?(?=.*\bpart=input\b)(?=.*\bprojector=1\b)"))
    page.reload()
    expect(page.locator("body")).to_have_class(PROJECTOR)
    previous = page.locator('nav.stop-links a[rel="prev"]')
    expect(previous).to_have_attribute("href", re.compile(r"three-kernels&projector=1&tour=7$"))
    page.keyboard.press("p")
    expect(previous).to_have_attribute("href", re.compile(r"three-kernels&tour=7$"))
    expect(page.get_by_role("link", name="3D", exact=True)).to_have_attribute("href", "/3d")
    page.get_by_role("link", name="Lesson").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_the_tour_walks_every_stop_with_page_down_alone(page: Page, axe) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/tour")
    tour = page.get_by_role("navigation", name="Tour of the lesson")
    for number, stop in enumerate(STOPS, 1):
        expect(page).to_have_url(re.compile(rf"{stop.path}\?(.*&)?tour={number}$"))
        expect(tour).to_contain_text(f"{number} of {len(STOPS)}")
        expect(tour).to_contain_text(stop.caption)
        expect(page.locator("#scene")).to_be_visible()  # the stop's live scene
        expect(page.get_by_role("button", name="Step forward")).to_be_visible()
        if number == 4:
            page.keyboard.press("ArrowRight")  # live: the worked example's first output
            expect(page.locator("#arith")).to_contain_text("= 19")
            assert serious_violations(axe, page) == []
            screenshot(page, "tour-1024", full_page=False)
        page.keyboard.press("PageDown")
    # PageDown on the last stop does nothing: the same stop, its player where it was
    expect(tour).to_contain_text(f"{len(STOPS)} of {len(STOPS)}")
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^Step 0 of"))
    expect(page).to_have_url(re.compile(rf"tour={len(STOPS)}$"))
    expect(tour).to_contain_text("The last stop")
    page.keyboard.press("PageUp")
    expect(page).to_have_url(re.compile(rf"tour={len(STOPS) - 1}$"))
    tour.get_by_role("link", name="← Previous stop").click()
    expect(page).to_have_url(re.compile(rf"tour={len(STOPS) - 2}$"))
    tour.get_by_role("link", name="Next stop →").click()
    expect(page).to_have_url(re.compile(rf"tour={len(STOPS) - 1}$"))


def test_projector_mode_carries_through_the_tour(page: Page, axe) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/tour?stop=3&projector=1")
    tour = page.get_by_role("navigation", name="Tour of the lesson")
    expect(tour).to_contain_text(f"3 of {len(STOPS)} {STOPS[2].caption}")
    page.keyboard.press("PageDown")
    expect(page).to_have_url(re.compile(r"/2d\?projector=1&tour=4$"))
    expect(page.locator("body")).to_have_class(PROJECTOR)
    expect(tour).to_be_visible()
    expect(tour).to_contain_text(STOPS[3].caption)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#arith")).to_contain_text("= 19")
    assert serious_violations(axe, page) == []
    screenshot(page, "tour-1024-projector", full_page=False)
    page.keyboard.press("p")  # off in the middle of the tour: the next stop is off too
    page.keyboard.press("PageDown")
    expect(page).to_have_url(re.compile(r"padding=1&tour=5$"))
    expect(page.locator("body")).not_to_have_class(PROJECTOR)
    page.get_by_role("textbox", name="Stride").fill("1")  # a change on a stop stays in the tour
    page.get_by_role("textbox", name="Stride").press("Tab")
    expect(page).to_have_url(re.compile(r"padding=1&tour=5$"))
    expect(page).not_to_have_url(re.compile("stride"))
    page.reload()
    expect(tour).to_contain_text(f"5 of {len(STOPS)}")


def test_every_page_links_to_the_stops_either_side(page: Page) -> None:
    page.goto("/3d")
    stops = page.get_by_role("navigation", name="The lesson's stops")
    expect(stops.get_by_role("link")).to_have_text([
        f"← Previous stop: {STOPS[1].title}", f"Next stop: {STOPS[3].title} →"])
    stops.get_by_role("link", name=re.compile("^Next stop")).click()
    expect(page).to_have_url(re.compile(r"/2d\?tour=4$"))
    expect(page.get_by_role("navigation", name="Tour of the lesson")).to_contain_text(
        STOPS[3].caption)
    page.goto("/")
    page.get_by_role("link", name="Walk through the lesson, stop by stop").click()
    expect(page).to_have_url(re.compile(r"/1d\?tour=1$"))
