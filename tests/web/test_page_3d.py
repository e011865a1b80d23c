"""The 3D page over real HTTP."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest

from app.engine import forward
from app.presets import VOLUMES
from tests.web.html import Page


def output_volume(page: Page, depth: int) -> np.ndarray:
    return np.array([page.numbers(f"Output depth {z + 1}") for z in range(depth)], float)


@pytest.mark.parametrize("query", ["volume=box", "volume=edge&padding=1",
                                   "volume=box&stride=1,2,2&padding=1,0,1&dilation=1,1,2"])
def test_playing_to_the_end_gives_the_engines_volume(client: httpx.Client, query: str) -> None:
    params = dict(part.split("=") for part in query.split("&"))
    _, x, w = VOLUMES[params.pop("volume")]
    kw = {k: tuple(map(int, v.split(","))) if "," in v else int(v) for k, v in params.items()}
    expected = forward(np.array(x, float)[None], np.array(w, float)[None, None], **kw)[0]
    page = Page(client.get(f"/3d?{query}&step={expected.size}").text)
    np.testing.assert_allclose(output_volume(page, expected.shape[0]), expected)


def test_a_step_shows_the_formula_with_its_indices(client: httpx.Client) -> None:
    page = Page(client.get("/3d?step=14").text)
    text = page.text("arith")
    assert "[f ⋆ g](2, 2, 2) = Σ_p Σ_q Σ_r f(p, q, r) · g(2 + p, 2 + q, 2 + r)" in text
    assert "a sum of 27 products" in text


def test_the_cube_covers_three_depth_slices(client: httpx.Client) -> None:
    html = client.get("/3d?step=1").text
    assert 'data-covered="0 1 2"' in html
    window = [i for i, a in Page(html).attrs.items() if "win" in a.get("class", "").split()]
    assert len(window) == 27 and {w.split("-")[1] for w in window} == {"0", "1", "2"}


@pytest.mark.parametrize("url", ["/3d?padding=20", "/2d?input=digit28&padding=40",
                                 "/channels?preset=three-kernels&padding=30",
                                 "/backprop?preset=learn-sobel&padding=40"])
def test_a_setting_too_big_to_draw_is_refused_in_words(client: httpx.Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 413
    assert "a page draws at most 6,000 (page_max_cells)" in Page(response.text).text("main")


def _polygons(svg: str) -> list[tuple[str, str]]:
    """(class, points) of each polygon in an SVG's markup, in document order."""
    return re.findall(r'<polygon (?:class="([^"]*)" )?points="([^"]+)"', svg)


def test_the_3d_view_outlines_the_window_and_the_value_it_makes(client: httpx.Client) -> None:
    # padded 6x7x7 input, 3x3x3 kernel, stride 2: a 2x3x3 output; step 5 makes output
    # (0, 1, 1) in C order, whose window starts at padded (0, 2, 2) by the definition
    html = client.get("/3d?padding=1&stride=2&step=5").text
    base = html[html.index('<g class="iso-in">'):html.index('<g class="iso-out">')]
    out = html[html.index('<g class="iso-out">'):html.index("</g>", html.index("iso-out"))]
    window = html[html.index('<svg id="iso-window"'):]
    window = window[:window.index("</svg>")]
    d, h, w = 6, 7, 7  # the sheets are drawn deepest first, rows then columns in each
    order = [(z, r, c) for z in reversed(range(d)) for r in range(h) for c in range(w)]
    where = {points: cell for (_, points), cell in zip(_polygons(base), order, strict=True)}
    out_order = [(z, r, c) for z in reversed(range(2)) for r in range(3) for c in range(3)]
    out_where = {p: cell for (_, p), cell in zip(_polygons(out), out_order, strict=True)}
    outlined = {where[p] for cls, p in _polygons(window) if cls != "made"}
    made = [out_where[p] for cls, p in _polygons(window) if cls == "made"]
    i, j, k = np.unravel_index(5 - 1, (2, 3, 3))
    assert made == [(i, j, k)]
    assert outlined == {(2 * i + a, 2 * j + b, 2 * k + c)
                        for a in range(3) for b in range(3) for c in range(3)}
    # the padding is drawn as ghosts: the first sheet is all padding
    classes = [cls for cls, _ in _polygons(base)]
    assert all("ghost" in classes[order.index((0, r, c))] for r in range(h) for c in range(w))
    assert "ghost" not in classes[order.index((1, 1, 1))]


def test_a_step_swaps_the_3d_window_and_a_big_volume_skips_the_view(client: httpx.Client) -> None:
    step = client.get("/3d?step=2&prev=1", headers={"HX-Request": "true"}).text
    assert '<svg id="iso-window"' in step and 'hx-swap-oob="true"' in step
    assert 'data-cells="27"' in step
    big = client.get("/3d?padding=4")  # 12x13x13 padded: the slices below still show it
    assert big.status_code == 200 and "iso-view" not in big.text
