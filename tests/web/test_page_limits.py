"""The page limits of Settings (``page_*`` and the compute limits): a request exactly at a limit is
drawn, one just over it is refused with the limit named on the page, in the whole page and
in the fragment the page's controls ask for."""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer
from tests.web.html import Page

TIGHT = Settings(page_max_grid_side=4, page_max_kernel_side=2, page_max_signal=5,
                 page_max_kernel_1d=2, page_max_epochs=3, page_max_cells=61, max_macs=132,
                 page_max_query_bytes=300)


@pytest.fixture(scope="module")
def tight() -> Iterator[httpx.Client]:
    with LiveServer(TIGHT) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def refused(client: httpx.Client, url: str, words: str, status: int = 413) -> None:
    """``url`` is refused with ``status`` and ``words``, on the whole page and in the
    fragment its controls ask for."""
    page = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert (page.status_code, fragment.status_code) == (status, status), url
    assert words in Page(page.text).text("main")
    assert words in html.unescape(fragment.text)


# 4x4 input, 2x2 kernel: 16 + 9 = 25 cells and 36 multiply-adds; with padding 1, 36 + 25 = 61
# cells (exactly TIGHT's limit) and 100 multiply-adds.
#
# The backprop page's lesson-1d (5 inputs, 3 taps, 3 outputs) costs, per update replayed and
# once more for what it shows: a forward pass (3 x 3 = 9 multiply-adds), the weight gradient
# (9) and the input gradient as the full correlation of δ with the kernel over the 5 inputs
# (5 x 3 = 15): 33. With padding 1 (7 padded, 5 outputs): 15 + 15 + 7 x 3 = 51.
X4 = "x=1,2,3,4;5,6,7,8;9,10,11,12;13,14,15,16"


@pytest.mark.parametrize(("at", "over", "words"), [
    (f"/2d?{X4}&w=1,0;0,1", "/2d?x=" + ";".join(["1,2,3,4"] * 5) + "&w=1,0;0,1",
     "x can be at most 4 x 4 here (page_max_grid_side=4)"),
    (f"/2d?{X4}&w=1,0;0,1", f"/2d?{X4}&w=1,0,1;0,1,0;1,0,1",
     "w can be at most 2 x 2 here (page_max_kernel_side=2)"),
    ("/1d?view=discrete&x=1,2,3,4,5&w=1,1", "/1d?view=discrete&x=1,2,3,4,5,6&w=1,1",
     "x can hold at most 5 values here (page_max_signal=5)"),
    ("/1d?view=discrete&x=1,2,3,4,5&w=1,1", "/1d?view=discrete&x=1,2,3,4,5&w=1,1,1",
     "w can hold at most 2 values here (page_max_kernel_1d=2)"),
    ("/backprop?preset=lesson-1d&loss=mse&epoch=3", "/backprop?preset=lesson-1d&loss=mse&epoch=4",
     "epoch can be at most 3 here (page_max_epochs=3)"),
    (f"/2d?{X4}&w=1,0;0,1&padding=1", f"/2d?{X4}&w=1,0;0,1&padding=2",
     "would draw 113 values, and a page draws at most 61 (page_max_cells)"),
])
def test_at_a_page_limit_is_drawn_and_just_over_is_refused(
        tight: httpx.Client, at: str, over: str, words: str) -> None:
    assert tight.get(at).status_code == 200
    assert tight.get(at, headers={"HX-Request": "true"}).status_code == 200
    refused(tight, over, words)


def test_the_compute_budget_applies_to_pages(tight: httpx.Client) -> None:
    # 5 values, a 2-value kernel, full padding: 6 outputs x 2 = 12 multiply-adds, 13 cells;
    # comparing with the other mode computes both: 24. TIGHT allows 132.
    signal = "/1d?view=discrete&x=1,2,3,4,5&w=1,1&padding=full"
    assert tight.get(signal + "&compare=1").status_code == 200
    assert tight.get(f"/2d?{X4}&w=1,0;0,1&padding=1").status_code == 200  # 100 (see X4)
    # the backprop page: 3 updates and the one shown, 4 x 33 = 132, exactly at the limit
    assert tight.get("/backprop?preset=lesson-1d&loss=mse&epoch=3").status_code == 200
    # padding 1: 2 x 51 = 102 drawn; 3 x 51 = 153 refused
    assert tight.get("/backprop?preset=lesson-1d&loss=mse&epoch=1&padding=1").status_code == 200
    refused(tight, "/backprop?preset=lesson-1d&loss=mse&epoch=2&padding=1",
            "This setting needs 153 multiply-adds, and a page computes at most 132 (max_macs)")


def test_a_query_string_over_its_limit_is_refused_before_it_is_read(tight: httpx.Client) -> None:
    url = f"/2d?{X4}&w=1,0;0,1&note="
    at = url + "a" * (300 - len(url.split("?", 1)[1]))
    assert len(at.split("?", 1)[1]) == 300
    assert tight.get(at).status_code == 200
    refused(tight, at + "a", "its query has 301 bytes, and a page takes at most 300 "
                             "(page_max_query_bytes)", status=414)


def test_the_default_limits_draw_every_lesson_size(client: httpx.Client) -> None:
    # the defaults fit what the lesson shows: a 28x28 digit with 'same' padding, 400 samples
    assert client.get("/2d?input=digit28&kernel=sobel-x&padding=same").status_code == 200
    assert client.get("/1d?view=discrete&x=" + ",".join(["1"] * 400)).status_code == 200
    assert client.get("/1d?view=discrete&x=" + ",".join(["1"] * 401)).status_code == 413


def test_the_finite_difference_check_keeps_to_the_budget(tight: httpx.Client) -> None:
    # two forward passes per weight and per input value: 2 x (3 + 5) x 9 = 144 > 132
    response = tight.get("/backprop/verify?preset=lesson-1d&loss=mse")
    assert response.status_code == 413
    assert "needs 144 multiply-adds" in html.unescape(response.text)


def test_the_pool_page_keeps_to_the_page_limits(tight: httpx.Client) -> None:
    """The ties grid backward draws 16 input cells, 4 taps, the output and δ (4 each) and
    the gradient (16): 44 of TIGHT's 61; the 8x8 smiley forward 64 + 4 + 16 = 84."""
    assert tight.get("/pool?part=backward").status_code == 200
    refused(tight, "/pool?input=smiley",
            "would draw 84 values, and a page draws at most 61 (page_max_cells)")
