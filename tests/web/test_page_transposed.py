"""The transposed page and its fragments over real HTTP: its numbers against a scatter written
here by hand (NumPy loops, the definition) and hand-computed values, the overlap map, the link
to /backprop, URL state and explained errors."""

from __future__ import annotations

import html
import re

import httpx
import numpy as np
import pytest

from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def scatter(x, w, stride=1, padding=0, output_padding=0, dilation=1, upto=None):
    """The definition, by hand: each input cell (C order), up to ``upto`` of them, adds
    x[i]·w[k] at i·S + k·D − P of the uncropped output; the padding crops P cells from both
    ends and output_padding gives back that many at the end."""
    x, w = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(w, float))
    (ih, iw), (kh, kw) = x.shape, w.shape
    s = np.broadcast_to(stride, 2) if x.shape[0] > 1 else (1, stride)
    p = np.broadcast_to(padding, 2) if x.shape[0] > 1 else (0, padding)
    op = np.broadcast_to(output_padding, 2) if x.shape[0] > 1 else (0, output_padding)
    d = np.broadcast_to(dilation, 2) if x.shape[0] > 1 else (1, dilation)
    out = [(i - 1) * s_ - 2 * p_ + d_ * (k - 1) + o_ + 1
           for i, k, s_, p_, d_, o_ in zip((ih, iw), (kh, kw), s, p, d, op, strict=True)]
    y = np.zeros(out)
    for n, (a, b) in enumerate(np.ndindex(ih, iw)):
        if upto is not None and n >= upto:
            break
        for u, v in np.ndindex(kh, kw):
            r, c = a * s[0] + u * d[0] - p[0], b * s[1] + v * d[1] - p[1]
            if 0 <= r < out[0] and 0 <= c < out[1]:
                y[r, c] += x[a, b] * w[u, v]
    return y


def numbers(rows: list[list[str]]) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in rows])


def test_the_default_is_the_worked_example_and_its_output_is_hand_computed(
        client: httpx.Client) -> None:
    page = Page(client.get("/transposed").text)
    assert page.grid("Input") == [["0", "1"], ["2", "3"]]
    assert page.grid("Kernel") == [["0", "1"], ["2", "3"]]
    assert page.grid("Output") == [[""] * 3] * 3  # nothing stamped yet
    assert page.text("step-status") == "Step 0 of 4"  # one step per input cell
    assert "H = (2 − 1)×1 − 0 − 0 + 1×(2 − 1) + 0 + 1 = 3" in html.unescape(
        page.text("scene"))
    end = Page(client.get("/transposed?step=4").text)
    # by hand: 0·K at (0,0), 1·K at (0,1), 2·K at (1,0), 3·K at (1,1), summed
    assert end.grid("Output") == [["0", "0", "1"], ["0", "4", "6"], ["4", "12", "9"]]


@pytest.mark.parametrize("query", [
    {}, {"input": "ones4", "kernel": "k3", "stride": "2"},
    {"input": "ones4", "kernel": "k4", "stride": "2", "padding": "1"},
    {"input": "ramp3", "kernel": "d2l", "stride": "2", "output_padding": "1"},
    {"input": "ramp3", "kernel": "k3", "stride": "2,1", "dilation": "1,2", "padding": "1,0"},
    {"input": "signal", "kernel": "k3", "stride": "2"},
    {"input": "signal", "kernel": "d2l", "stride": "3", "dilation": "2", "output_padding": "1"},
    {"x": "1,-2;0.5,3;4,0", "w": "1,2;-1,0", "stride": "2"},
], ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "default")
def test_scatter_and_gather_end_on_the_definitions_output(client: httpx.Client,
                                                          query: dict) -> None:
    first = Page(client.get("/transposed", params=query).text)
    x = numbers(first.grid("Input"))
    w = numbers(first.grid("Kernel"))
    params = {k: tuple(map(int, query[k].split(","))) if "," in query[k] else int(query[k])
              for k in ("stride", "padding", "output_padding", "dilation") if k in query}
    expected = scatter(x if x.shape[0] > 1 else x[0], w if w.shape[0] > 1 else w[0], **params)
    for show in ("scatter", "gather"):
        end = Page(client.get("/transposed", params={**query, "show": show,
                                                     "step": "9999"}).text)
        np.testing.assert_array_equal(numbers(end.grid("Output")), expected)


def test_each_scatter_step_adds_one_stamp_and_leaves_the_rest_blank(
        client: httpx.Client) -> None:
    x, w = np.ones((4, 4)), np.ones((3, 3))
    for step in (1, 5, 9):
        page = Page(client.get(f"/transposed?input=ones4&kernel=k3&stride=2&step={step}").text)
        so_far = scatter(x, w, stride=2, upto=step)
        reached = scatter(x, np.ones_like(w), stride=2, upto=step) > 0
        shown = page.grid("Output")
        assert [[v != "" for v in row] for row in shown] == reached.tolist()
        assert [[float(v) for v in row if v] for row in shown] == \
            [[v for v, r in zip(row, rrow, strict=True) if r]
             for row, rrow in zip(so_far, reached, strict=True)]


def test_a_scatter_step_says_the_stamp_and_writes_out_the_cells_it_completes(
        client: httpx.Client) -> None:
    text = html.unescape(Page(client.get("/transposed?step=4").text).text("arith"))
    # x(2,2) = 3 stamps 3×K = [[0, 3], [6, 9]] onto y(2,2)..y(3,3), and completes all four
    assert "x(2,2) = 3 stamps 3 × kernel:" in text
    assert "+0 → y(2,2), +3 → y(2,3), +6 → y(3,2), +9 → y(3,3)" in text
    assert "y(2,2) complete: 3×0 + 2×1 + 1×2 + 0×3 = 4" in text
    assert "y(3,3) = 3×3 = 9" in text


def test_gather_writes_each_output_cell_as_the_sum_of_what_reaches_it(
        client: httpx.Client) -> None:
    page = Page(client.get("/transposed?show=gather&step=5").text)
    assert "y(2,2) = 3×0 + 2×1 + 1×2 + 0×3 = 4" in html.unescape(page.text("arith"))
    assert page.grid("Output") == [["0", "0", "1"], ["0", "4", "", ], ["", "", ""]]
    assert page.text("step-status") == "Step 5 of 9"  # one step per output cell
    marked = {i: a["data-tap"] for i, a in page.attrs.items()
              if i.startswith("in-") and "data-tap" in a}
    # every input cell reaches y(2,2), each through the tap k = (2,2) − i
    assert marked == {"in-0-0": "3", "in-0-1": "2", "in-1-0": "1", "in-1-1": "0"}
    gather = client.get("/transposed?show=gather&step=2&prev=1", headers=HTMX)
    assert 'id="out-0-1"' in gather.text and 'id="out-2-2"' not in gather.text


def test_the_overlap_map_of_k3_stride_2_is_the_checkerboard_and_k4_is_even(
        client: httpx.Client) -> None:
    k3 = Page(client.get("/transposed?input=ones4&kernel=k3&stride=2").text)
    label = "Overlap map: stamps landing on each output cell"
    axis = np.array([1, 1, 2, 1, 2, 1, 2, 1, 1])  # by hand: I=4, K=3, S=2
    assert numbers(k3.grid(label)).tolist() == np.outer(axis, axis).tolist()
    assert "a checkerboard" in k3.text("stage")
    k4 = Page(client.get("/transposed?input=ones4&kernel=k4&stride=2").text)
    axis = np.array([1, 1, 2, 2, 2, 2, 2, 2, 1, 1])  # K=4: every inner cell gets 2 per axis
    assert numbers(k4.grid(label)).tolist() == np.outer(axis, axis).tolist()
    assert "even" in k4.text("stage") and "checkerboard" not in k4.text("stage")
    one_d = Page(client.get("/transposed?input=ones-1d&kernel=k3&stride=2").text)
    # I=6, K=3, S=2 in 1-D: one row, 1-1-2 then 1-2 repeating, 1-1 at the end
    assert one_d.grid(label) == [["1", "1", "2", "1", "2", "1", "2", "1", "2", "1", "2", "1",
                                  "1"]]


@pytest.mark.parametrize("query", [
    "", "input=ones4&kernel=k3&stride=2", "input=ramp3&kernel=k3&stride=2&padding=1",
    "input=ramp3&kernel=d2l&stride=2&output_padding=1&dilation=2",
    "input=signal&kernel=k3&stride=2", "input=signal&kernel=d2l&stride=3&padding=1",
])
def test_the_backward_pass_link_opens_backprop_whose_grad_input_is_this_output(
        client: httpx.Client, query: str) -> None:
    page = Page(client.get(f"/transposed?{query}&step=9999").text)
    ours = numbers(page.grid("Output"))
    link = html.unescape(re.search(r'id="backprop-link"><a href="([^"]+)"',
                                   client.get(f"/transposed?{query}").text)[1])
    assert "part=input" in link and "loss=custom" in link
    reply = client.get(link + "&step=9999")
    assert reply.status_code == 200
    theirs = Page(reply.text).grid("∂L/∂X")
    np.testing.assert_allclose(numbers(theirs).reshape(ours.shape), ours)


def test_no_link_when_output_padding_reaches_the_stride_and_the_page_says_why(
        client: httpx.Client) -> None:
    page = client.get("/transposed?stride=1&dilation=2&output_padding=1").text
    assert 'id="backprop-link"' not in page
    assert "no δ fits" in page


@pytest.mark.parametrize(("query", "status", "words"), [
    ("output_padding=2&stride=2", 422, "output_padding must be smaller than either stride or "
                                       "dilation"),
    ("padding=3", 422, "Output size is too small"),
    ("show=sideways", 422, "show must be 'scatter' or 'gather'"),
    ("stride=0", 422, "stride must be between 1 and 99"),
    ("stride=99999999999999999999", 422, "stride must be between 1 and 99"),
    ("padding=same", 422, "padding must be a whole number"),
    ("output_padding=-1", 422, "output_padding must be between 0 and 99"),
    ("x=1,nan;2,3", 422, "x must hold finite numbers"),
    ("x=1,inf", 422, "x must hold finite numbers"),
    ("w=", 200, ""),
    ("input=nope", 422, "no input preset is named 'nope'"),
    ("step=-5", 200, "Step 0 of 4"),
    ("x=" + ";".join([",".join(["1"] * 33)] * 33), 413, "page_max_grid_side"),
    ("input=ones4&kernel=k4&stride=40", 413, "page_max_cells"),
])
def test_bad_values_are_explained_on_the_page(client: httpx.Client, query: str, status: int,
                                              words: str) -> None:
    reply = client.get(f"/transposed?{query}")
    assert reply.status_code == status
    assert words in html.unescape(reply.text)
    if status != 200:
        assert 'role="alert"' in reply.text


def test_a_step_fragment_sends_only_what_changed(client: httpx.Client) -> None:
    reply = client.get("/transposed?step=2&prev=1", headers=HTMX)
    assert reply.status_code == 200
    ids = re.findall(r'<div id="(out-\d+-\d+)"', reply.text)
    # x(1,2) = 1 stamps [[0,1],[2,3]] at y(1,2)..y(2,3): those four cells change (and y(1,1)
    # and y(2,1), whose marks from step 1 go), never the last row
    assert set(ids) >= {"out-0-1", "out-0-2", "out-1-1", "out-1-2"}
    assert not any(i.startswith("out-2-") for i in ids)
    assert 'id="arith"' in reply.text and "x(1,2) = 1 stamps" in html.unescape(reply.text)


def test_the_url_says_it_all_and_a_scene_fragment_pushes_it(client: httpx.Client) -> None:
    reply = client.get("/transposed?input=ones4&kernel=k3&stride=2&show=gather&padding=0",
                       headers=HTMX)
    assert reply.headers["hx-push-url"] == "/transposed?input=ones4&kernel=k3&stride=2&show=gather"
