"""A Korean page in a real browser: its URL said lang=ko, and after an edit, a step, a
navigation link and PageDown the page is still Korean and its address still says so; the
keys dialog (written by app.js) is in Korean; the switcher goes to where the page has come."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _korean(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    assert "lang=ko" in page.url


def test_korean_is_kept_through_an_edit_a_step_the_nav_and_pagedown(page: Page) -> None:
    page.goto("/2d?lang=ko")
    _korean(page)
    expect(page.get_by_role("group", name="재생기")).to_be_visible()
    # a control: the stride's field, typed in (an htmx request and a pushed address)
    stride = page.get_by_role("textbox", name="스트라이드")
    stride.fill("2")
    stride.press("Enter")
    expect(page).to_have_url(re.compile(r"/2d\?.*stride=2.*lang=ko|/2d\?.*lang=ko.*stride=2"))
    expect(page.get_by_role("grid", name="출력")).to_be_visible()
    # a step of the player: the arithmetic in Korean
    page.get_by_role("button", name="앞으로").click()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"단계 1 / \d+"))
    expect(page.locator("#arith")).to_contain_text("출력 (1, 1) =")
    page.evaluate("() => new Promise(r => setTimeout(r, 0))")
    _korean(page)
    # the nav
    page.get_by_role("navigation", name="페이지").get_by_role("link", name="풀링").click()
    expect(page).to_have_url(re.compile(r"/pool\?lang=ko$"))
    _korean(page)
    expect(page.get_by_role("heading", name="풀링(pooling): 최대와 평균")).to_be_visible()
    # the tour: PageDown goes to the next stop, in Korean
    page.goto("/2d?tour=4&lang=ko")
    expect(page.locator("#tour .number")).to_have_text("4 / 12")
    page.keyboard.press("PageDown")
    expect(page).to_have_url(re.compile(r"/2d\?input=digit&kernel=sobel-x&stride=2&padding=1"
                                        r"&tour=5&lang=ko$"))
    expect(page.locator("#tour .number")).to_have_text("5 / 12")
    _korean(page)


def test_the_keys_dialog_is_korean(page: Page) -> None:
    page.goto("/2d?lang=ko")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="키")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("columnheader", name="하는 일")).to_be_visible()
    expect(dialog.locator('tr[data-keys=" "] td')).to_have_text("재생 또는 일시 정지")
    expect(dialog.get_by_role("button", name="닫기")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Space")  # the play button's name follows the player, in Korean
    expect(page.locator('#player [data-action="play"]')).to_have_attribute("aria-label",
                                                                          "일시 정지")


def test_the_switcher_goes_to_where_the_page_has_come_in_english(page: Page) -> None:
    page.goto("/2d?lang=ko")
    page.get_by_role("button", name="앞으로").click()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"단계 1 / "))
    page.get_by_role("button", name="앞으로").click()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"단계 2 / "))
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/2d\?lang=en&step=2$"))  # setParam keeps the order
    expect(page.locator("#step-status")).to_have_text(re.compile(r"Step 2 of "))
    expect(page.locator("#lang-switch")).to_have_text("한국어")
