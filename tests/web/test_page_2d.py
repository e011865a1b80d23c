"""The 2D page and its fragments over real HTTP: right numbers, URL state, explained errors."""

from __future__ import annotations

import html
import re

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.engine import forward
from app.presets import IMAGES_2D, KERNELS_2D
from app.web.parsing import parse_view_2d
from app.web.views import View2D
from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def test_default_view_is_the_lessons_worked_example(client: httpx.Client) -> None:
    response = client.get("/2d")
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    page = Page(response.text)
    assert page.grid("Input") == [["0", "1", "2"], ["3", "4", "5"], ["6", "7", "8"]]
    assert page.grid("Kernel") == [["0", "1"], ["2", "3"]]
    assert page.grid("Output") == [["", ""], ["", ""]]  # it fills in as the kernel slides
    assert page.text("step-status") == "Step 0 of 4"


def test_the_first_step_writes_out_the_lessons_sum(client: httpx.Client) -> None:
    page = Page(client.get("/2d?step=1").text)
    assert "0×0 + 1×1 + 2×3 + 3×4 = 19" in page.text("arith")
    assert page.grid("Output") == [["19", ""], ["", ""]]
    window = [ident for ident, a in page.attrs.items() if "win" in a.get("class", "").split()]
    assert sorted(window) == ["in-0-0", "in-0-1", "in-1-0", "in-1-1"]
    assert page.attrs["arith"]["aria-live"] == "polite"


def test_the_last_step_shows_the_whole_output(client: httpx.Client) -> None:
    page = Page(client.get("/2d?step=4").text)
    assert page.grid("Output") == [["19", "25"], ["37", "43"]]


@pytest.mark.parametrize("query", [
    "input=digit&kernel=sobel-x&padding=1&padding_mode=reflect",
    "input=smiley&kernel=box-blur&dilation=2",
    "input=random&kernel=emboss&mode=convolution&stride=2,1",
    "input=checkerboard&kernel=laplacian&padding=same&padding_mode=circular&bias=0.5",
    "input=edge&kernel=sharpen&padding=full",
])
def test_every_output_number_is_the_engines(client: httpx.Client, query: str) -> None:
    view = parse_view_2d(dict(p.split("=") for p in query.split("&")), Settings())
    expected = forward(np.array(view.input_values)[None], np.array(view.kernel_values)[None, None],
                       np.array([view.bias]) if view.bias else None, **view.engine_params())[0]
    page = Page(client.get(f"/2d?{query}&step={expected.size}").text)
    np.testing.assert_allclose(page.numbers("Output"), expected, atol=5e-4)


def test_padding_is_drawn_as_ghost_cells_with_their_values(client: httpx.Client) -> None:
    page = Page(client.get("/2d?padding=1&padding_mode=reflect").text)
    grid = page.grid("Input")
    assert len(grid) == 5 and len(grid[0]) == 5
    assert grid[0] == ["4", "3", "4", "5", "4"]  # numpy/PyTorch reflect: the edge is not repeated
    assert "ghost" in page.attrs["in-0-0"]["class"]


def test_convolution_mode_shows_the_flipped_kernel(client: httpx.Client) -> None:
    page = Page(client.get("/2d?mode=convolution&step=1").text)
    assert page.grid("Kernel") == [["0", "1"], ["2", "3"]]
    assert page.grid("Flipped kernel") == [["3", "2"], ["1", "0"]]
    assert "3×0 + 2×1 + 1×3 + 0×4 = 5" in page.text("arith")


def test_the_size_formula_is_filled_in(client: httpx.Client) -> None:
    text = client.get("/2d?input=digit&kernel=sobel-x&stride=2&padding=1").text
    assert "⌊(8 + 2×1 − 1×(3 − 1) − 1) / 2⌋ + 1 = 4" in text


def test_a_step_fragment_swaps_only_what_changed(client: httpx.Client) -> None:
    response = client.get("/2d?input=digit&kernel=sobel-x&step=8&prev=7", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    assert "<form" not in response.text and "<html" not in response.text
    swapped = re.findall(r'id="([^"]+)"[^>]*hx-swap-oob="true"', response.text)
    # 6x6 outputs: step 7 made (1, 0), step 8 makes (1, 1); their 3x3 windows share 6 cells
    assert len([s for s in swapped if s.startswith("in-")]) == 12
    assert sorted(s for s in swapped if s.startswith("out-")) == ["out-1-0", "out-1-1"]
    assert "step-status" in swapped


def test_a_parameter_change_gets_the_scene_and_a_short_url(client: httpx.Client) -> None:
    response = client.get("/2d?input=lesson&x=0+1+2%0A3+4+5%0A6+7+8&kernel=lesson"
                          "&w=0+1%0A2+3&bias=0&stride=2&padding=0&padding_mode=zeros"
                          "&dilation=1&mode=cross-correlation&speed=4", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-push-url"] == "/2d?stride=2"
    assert "<html" not in response.text and 'id="controls"' not in response.text
    assert 'id="scene"' in response.text and 'id="x-values"' not in response.text


def test_choosing_a_preset_rewrites_its_values_box(client: httpx.Client) -> None:
    response = client.get("/2d?input=digit&kernel=lesson",
                          headers={**HTMX, "HX-Trigger-Name": "input"})
    box = re.search(r'<textarea id="x-values"[^>]*hx-swap-oob="true"[^>]*>([^<]*)<',
                    response.text)
    assert box and box.group(1).splitlines()[1] == "0 6 9 9 9 9 8 0"


def test_history_restore_gets_the_whole_page(client: httpx.Client) -> None:
    response = client.get("/2d?stride=2", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.text


@pytest.mark.parametrize(("query", "words"), [
    ("x=a,b", "x must hold numbers"),
    ("x=1,2;3", "x must be rectangular"),
    ("input=nope", "no input preset is named 'nope'"),
    ("stride=0", "stride must be between 1 and 99"),
    ("padding=-1", "padding must be between 0 and 99"),
    ("kernel=sobel-x&x=1,2;3,4", "Kernel size can't be greater than actual input size"),
    ("stride=2&padding=same", "'same' is not supported for strided"),
    ("padding=3&padding_mode=reflect", "reflect padding must be smaller than the input size"),
])
def test_an_impossible_setting_is_explained_on_the_page(client: httpx.Client, query: str,
                                                        words: str) -> None:
    response = client.get(f"/2d?{query}")
    assert response.status_code == 422
    assert words in Page(response.text).text("main")
    fragment = client.get(f"/2d?{query}", headers=HTMX)
    assert fragment.status_code == 422 and words in html.unescape(fragment.text)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["input", "x", "kernel", "w", "bias", "stride", "padding", "padding_mode",
                     "dilation", "mode", "step", "speed", "prev", "projector"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    max_size=5,
))
def test_no_query_string_breaks_the_page(client: httpx.Client, params: dict) -> None:
    for headers in ({}, HTMX):
        response = client.get("/2d", params=params, headers=headers)
        assert response.status_code in (200, 422)


@settings(max_examples=100, deadline=None)
@given(st.builds(
    View2D, input=st.sampled_from(list(IMAGES_2D)), kernel=st.sampled_from(list(KERNELS_2D)),
    bias=st.sampled_from([0.0, 1.0, -0.5]), stride=st.sampled_from([1, 2, (1, 2)]),
    padding=st.sampled_from([0, 1, (2, 1), "same", "full"]),
    padding_mode=st.sampled_from(["zeros", "replicate", "circular"]),
    dilation=st.sampled_from([1, 2, (2, 1)]),
    mode=st.sampled_from(["cross-correlation", "convolution"]), step=st.integers(0, 50),
    speed=st.sampled_from([1, 4, 30]), projector=st.booleans(),
))
def test_the_url_round_trips_every_view(view: View2D) -> None:
    query = view.query()
    assert parse_view_2d(dict(part.split("=", 1) for part in query.split("&") if part)
                         if query else {}, Settings()) == view
    assert len(query) < 8000
