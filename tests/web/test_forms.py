"""Forms over real HTTP: an invalid URL shows exactly what it says, the bad field marked with
its message; a typo keeps its address; values boxes round-trip; the URL holds the step shown."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def selected(html: str, name: str) -> list[str]:
    """The selected option values of the select named ``name``."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)" selected>', select)


@pytest.mark.parametrize(("url", "field", "typed", "message", "kept"), [
    ("/2d?input=digit&kernel=sobel-x&stride=0", "stride", "0",
     "stride must be between 1 and 99", {"input": "digit", "kernel": "sobel-x"}),
    ("/2d?input=digit&kernel=sobel-x&padding=-1", "padding", "-1",
     "padding must be between 0 and 99", {"input": "digit", "kernel": "sobel-x"}),
    ("/1d?signal=box&kernel=triangle&dilation=abc", "dilation", "abc",
     "dilation must be a whole number", {"signal": "box", "kernel": "triangle"}),
    ("/3d?volume=edge&stride=1,2", "stride", "1,2",
     "stride must be a whole number, or 3 separated by commas", {"volume": "edge"}),
    ("/channels?preset=rgb-edge&padding=x", "padding", "x",
     "padding must be a whole number", {"preset": "rgb-edge"}),
    ("/backprop?preset=lesson-2d&stride=0", "stride", "0",
     "stride must be between 1 and 99", {"preset": "lesson-2d"}),
])
def test_an_invalid_url_shows_a_form_that_says_what_it_says(
        client: httpx.Client, url: str, field: str, typed: str, message: str,
        kept: dict) -> None:
    response = client.get(url)
    assert response.status_code == 422
    html, page = response.text, Page(response.text)
    for name, value in kept.items():  # the rest of the URL, as it says
        assert selected(html, name) == [value], name
    control = re.search(rf'<input name="{field}" value="([^"]*)"[^>]*>', html)
    assert control.group(1) == typed
    assert 'aria-invalid="true"' in control.group(0)
    assert f'aria-describedby="{field}-error"' in control.group(0)
    assert page.text(f"{field}-error").startswith(message)
    # said once, without the field's name in front of its own sentence
    assert f"{field}: {field}" not in page.text("main")
    assert page.text("field-errors").count(message) == 1


def test_the_input_box_shows_the_urls_preset_beside_a_bad_stride(client: httpx.Client) -> None:
    page = Page(client.get("/2d?input=digit&kernel=sobel-x&stride=0").text)
    box = page.text("x-values").split()
    assert len(box) == 64 and box[:3] == ["0", "0", "0"]  # the 8x8 digit, not the 3x3 lesson


def test_a_bad_value_in_a_chooser_is_shown_selected_and_marked(client: httpx.Client) -> None:
    html = client.get("/2d?input=digit&padding_mode=mirror").text
    chooser = re.search(r'<select name="padding_mode".*?</select>', html, re.S).group(0)
    assert chooser.count("selected") == 1  # the option shown is the URL's own
    assert '<option value="mirror" selected>mirror</option>' in chooser
    assert re.search(r'<select name="padding_mode"[^>]*aria-invalid="true"', html)
    assert "padding_mode must be one of zeros" in Page(html).text("padding_mode-error")


def test_a_typo_keeps_its_address_and_pushes_no_history(client: httpx.Client) -> None:
    # what the form sends after stride is set to 0 on /2d?input=digit&kernel=sobel-x
    response = client.get("/2d?input=digit&kernel=sobel-x&stride=0&padding=0&speed=4&step=0",
                          headers={**HTMX, "HX-Trigger-Name": "stride"})
    assert response.status_code == 422
    assert "hx-push-url" not in response.headers
    assert response.headers["hx-replace-url"] == "/2d?input=digit&kernel=sobel-x&stride=0"
    assert Page(response.text).text("field-errors").endswith("stride must be between 1 and 99")


def test_the_url_holds_the_step_the_player_shows(client: httpx.Client) -> None:
    # the 8x8 digit under a 3x3 kernel with stride 2 has a 3x3 output: 9 steps
    response = client.get("/2d?input=digit&kernel=sobel-x&stride=2&step=36", headers=HTMX)
    assert Page(response.text).text("step-status") == "Step 9 of 9"
    pushed = parse_qs(urlsplit(response.headers["hx-push-url"]).query)
    assert pushed["step"] == ["9"]
    full = Page(client.get("/2d?input=digit&kernel=sobel-x&stride=2&step=36").text)
    assert full.text("step-status") == "Step 9 of 9"
    assert re.search(r'name="step" value="9"',
                     client.get("/2d?input=digit&kernel=sobel-x&stride=2&step=36").text)


def test_a_preset_sent_back_from_its_values_box_stays_the_preset(client: httpx.Client) -> None:
    first = Page(client.get("/1d?step=100").text)
    assert first.text("arith").endswith("= 14.939")
    x, w = first.text("x-values"), first.text("w-values")
    # what the form sends when padding mode changes: the boxes as they are
    for mode in ("reflect", "zeros"):
        response = client.get("/1d", params={"x": x, "w": w, "padding_mode": mode,
                                             "step": "100"}, headers=HTMX)
        assert "x=" not in response.headers["hx-push-url"]
        assert "w=" not in response.headers["hx-push-url"]
    assert Page(response.text).text("arith").endswith("= 14.939")


def test_a_values_box_round_trips_exactly(client: httpx.Client) -> None:
    page = Page(client.get("/1d?view=discrete&x=0.123456789,1,2.5e-7,3").text)
    assert page.text("x-values") == "0.123456789 1 2.5e-7 3"
    response = client.get("/1d", params={"view": "discrete", "x": page.text("x-values")},
                          headers=HTMX)
    assert "x=0.123456789,1,2.5e-7,3" in response.headers["hx-push-url"]


def test_the_backprop_form_keeps_the_urls_delta_beside_another_fields_error(
        client: httpx.Client) -> None:
    html = client.get("/backprop?preset=lesson-2d&delta=1,-2.5,3,4&padding_mode=mirror").text
    delta = re.search(r'<textarea name="delta"[^>]*>([^<]*)</textarea>', html)
    assert delta.group(1) == "1 -2.5 3 4"
