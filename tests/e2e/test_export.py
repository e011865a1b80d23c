"""The Export menu in a real Chromium: its Download PNG follows the page's state (the player's
step, a control changed), and the keymap keeps working with the menu focused."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Page, expect

LESSON = "/2d?x=0,1,2;3,4,5;6,7,8&w=0,1;2,3"


def test_download_png_is_the_state_after_a_control_change(page: Page) -> None:
    page.goto(LESSON)
    page.get_by_role("button", name="Step forward").click()
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#step-status")).to_have_text("Step 2 of 4")
    page.get_by_role("radio", name="Convolution").check()  # a control: the mode
    expect(page).to_have_url(re.compile("mode=convolution"))
    page.locator("#share > summary").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PNG").click()
    download = info.value
    step = page.locator("#player").get_attribute("data-step")
    assert download.suggested_filename == f"convscope-2d-step{step}.png"
    data = download.path().read_bytes()
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG" and picture.size[0] <= 1024 and picture.size[1] <= 768
    # the same picture as the server draws for the address the page now shows
    served = page.request.get(page.url + "&format=png")
    assert served.body() == data


def test_keys_work_with_the_export_menu_focused(page: Page) -> None:
    page.goto(LESSON)
    page.locator("#share > summary").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-status")).to_have_text("Step 1 of 4")
    page.keyboard.press("End")
    expect(page.locator("#step-status")).to_have_text("Step 4 of 4")
