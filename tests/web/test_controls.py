"""The sliders beside stride, padding and dilation: each page's ranges, worked out by hand from
its input and kernel, in the page and in a scene fragment's HX-Trigger."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def sliders(page: Page) -> dict[str, tuple[int, int, int]]:
    """(min, max, value) of each parameter's slider."""
    found = {}
    for name in ("stride", "padding", "dilation"):
        a = page.attrs[f"{name}-slider"]
        assert a["type"] == "range" and a["aria-label"] == name.capitalize()
        found[name] = (int(a["min"]), int(a["max"]), int(a["value"]))
    return found


@pytest.mark.parametrize(("url", "expected"), [
    # 3x3 input, 2x2 kernel: stride up to the side 3; padding up to the kernel's extent 2;
    # dilation 2 still fits (2*(2-1)+1 = 3), one past it is 3
    ("/2d", {"stride": (1, 3, 1), "padding": (0, 2, 0), "dilation": (1, 3, 1)}),
    # 28x28, 2x2: dilation 27 fits (extent 28), 28 is one past; the field's 2,1 stands at 2
    ("/2d?input=digit28&stride=2,1", {"stride": (1, 28, 2), "padding": (0, 2, 0),
                                     "dilation": (1, 28, 1)}),
    # dilation 3 on a 2x2 kernel: extent 3*(2-1)+1 = 4, padding's top
    ("/2d?dilation=3", {"stride": (1, 3, 1), "padding": (0, 4, 0), "dilation": (1, 3, 3)}),
    # a padding by name stands at the low end until the page says what it is (app.js)
    ("/2d?padding=same", {"stride": (1, 3, 1), "padding": (0, 2, 0), "dilation": (1, 3, 1)}),
    # 4x5x5 volume, 3x3x3 kernel: (5-1)//2+1 = 3
    ("/3d", {"stride": (1, 5, 1), "padding": (0, 3, 0), "dilation": (1, 3, 1)}),
    # the discrete 1-D view: 16 samples, a 3-tap kernel, padding "full" by name
    ("/1d?view=discrete", {"stride": (1, 16, 1), "padding": (0, 3, 0), "dilation": (1, 8, 1)}),
])
def test_each_slider_spans_what_the_page_can_show_and_one_past(
        client: httpx.Client, url: str, expected: dict) -> None:
    assert sliders(Page(client.get(url).text)) == expected


def test_a_new_input_sends_the_sliders_new_ranges(client: httpx.Client) -> None:
    response = client.get("/2d?input=digit28", headers={**HTMX, "HX-Trigger-Name": "input"})
    assert response.status_code == 200
    ranges = json.loads(response.headers["hx-trigger"])["convscope:ranges"]
    assert ranges == {"stride": [1, 28], "padding": [0, 2], "dilation": [1, 28]}


def test_a_setting_the_page_cannot_show_still_sends_ranges_and_explains(
        client: httpx.Client) -> None:
    # dilation 3 on the 3x3 lesson input: the 2x2 kernel spans 4 cells, more than 3
    response = client.get("/2d?dilation=3", headers=HTMX)
    assert response.status_code == 422
    assert "hx-trigger" in response.headers
    assert "This setting has no output" in response.text
