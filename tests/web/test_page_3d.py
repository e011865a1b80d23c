"""The 3D page over real HTTP."""

from __future__ import annotations

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
