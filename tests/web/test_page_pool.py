"""The pool page over real HTTP: its numbers against a reference written here (plain loops
over the windows, the padding as PyTorch has it) or worked out by hand; the winner and the
ties marked; backward, each δ where it goes; the convolution beside it; values it cannot
use explained on the page."""

from __future__ import annotations

import html
import itertools
import math
import re

import httpx
import numpy as np
import pytest

from app.engine import forward
from app.web.view_pool import INPUTS
from tests.web.html import Page

TIES = np.array(INPUTS["ties"][1], dtype=float)


def numbers(page: Page, label: str) -> np.ndarray:
    return np.array([[float(c.replace("−", "-")) for c in row] for row in page.grid(label)])


def exact(text: str, prefix: str) -> np.ndarray:
    """A grid's values in full: a cell's title when its text is rounded to fit, else its
    text (ids ``prefix-row-col``)."""
    cells = {}
    for tag, shown in re.findall(rf'(<div id="{prefix}-\d+-\d+"[^>]*>)([^<]*)', text):
        r, c = map(int, re.search(r'id="[^"]*-(\d+)-(\d+)"', tag).groups())
        title = re.search(r'title="([^"]*)"', tag)
        cells[r, c] = float(html.unescape(title.group(1) if title else shown).replace("−", "-"))
    rows, cols = max(cells)[0] + 1, max(c for _, c in cells) + 1
    return np.array([[cells[r, c] for c in range(cols)] for r in range(rows)])


def reference_pool(x: np.ndarray, kind: str, k: int, s: int, p: int, d: int = 1,
                   ceil: bool = False, include: bool = True) -> np.ndarray:
    """Pooling by its definition, one window at a time (PyTorch's rules: padding at most
    k // 2, a ceil_mode window must start inside the input or the left padding, a mean's
    divisor counts padding but not the overhang past it)."""
    h, w = x.shape

    def size(i: int) -> int:
        span = i + 2 * p - d * (k - 1) - 1
        out = (math.ceil(span / s) if ceil else span // s) + 1
        return out - 1 if ceil and (out - 1) * s >= i + p else out

    out = np.zeros((size(h), size(w)))
    for r, c in itertools.product(range(out.shape[0]), range(out.shape[1])):
        values, count = [], 0
        for i, j in itertools.product(range(k), range(k)):
            y, z = r * s + i * d - p, c * s + j * d - p
            if 0 <= y < h and 0 <= z < w:
                values.append(x[y, z])
                count += 1
            elif -p <= y < h + p and -p <= z < w + p and include:
                count += 1
        out[r, c] = max(values) if kind == "max" else sum(values) / count
    return out


CASES = [  # (input, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad)
    ("ties", "max", 2, 2, 0, 1, False, True),
    ("digit", "max", 3, 2, 1, 1, False, True),
    ("digit", "max", 3, 2, 0, 1, True, True),
    ("smiley", "max", 2, 1, 0, 2, False, True),
    ("edge", "avg", 2, 2, 1, 1, False, True),
    ("edge", "avg", 3, 2, 1, 1, True, False),
    ("random", "avg", 3, 1, 1, 1, False, False),
    ("checkerboard", "max", 3, 3, 1, 1, True, True),
]


@pytest.mark.parametrize("case", CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_played_to_the_end_the_output_is_the_pool_by_its_definition(
        client: httpx.Client, case: tuple) -> None:
    name, kind, k, s, p, d, ceil, include = case
    expected = reference_pool(np.array(INPUTS[name][1], float), kind, k, s, p, d, ceil,
                              include)
    query = (f"input={name}&kind={kind}&kernel={k}&stride={s}&padding={p}&step={expected.size}"
             + (f"&dilation={d}" if d != 1 else "") + ("&ceil_mode=1" if ceil else "")
             + ("" if include else "&count_include_pad=0"))
    np.testing.assert_allclose(exact(client.get(f"/pool?{query}").text, "out"), expected,
                               rtol=1e-12)


def test_the_first_window_marks_its_winner_and_the_tie_it_beats(client: httpx.Client) -> None:
    """Window (1, 1) of the ties grid holds 1, 3 / 2, 3: the 3 at (1, 2) comes first in window
    order and wins; the 3 below it ties."""
    text = client.get("/pool?step=1").text
    page = Page(text)
    arith = page.text("arith")
    assert "Output (1, 1) = max(1, 3, 2, 3) = 3" in arith
    assert "1 tie: the first in window order wins" in arith
    assert re.search(r'id="in-0-1" class="[^"]*\bwinner\b', text)
    assert re.search(r'id="in-1-1" class="[^"]*\btie\b', text)
    assert not re.search(r'id="in-0-0" class="[^"]*\b(winner|tie)\b', text)
    assert "first maximum in window order" in page.text("tie-rule")


def test_backward_max_sends_each_delta_to_its_winner_alone(client: httpx.Client) -> None:
    """δ = 1, 2, 3, 4 over the ties grid's four windows: each δ lands on its window's first
    maximum, none on the cells that tie with it."""
    page = Page(client.get("/pool?part=backward&step=4").text)
    expected = [[0, 1, 2, 0], [0, 0, 0, 0], [0, 0, 4, 0], [3, 0, 0, 0]]
    np.testing.assert_array_equal(numbers(page, "∂L/∂x so far"), expected)
    assert page.text("arith") == ("δ(2,2) = 4 goes to the window's maximum, all of it: "
                                  "∂L/∂x(3,3) = 0 + 4 = 4")
    midway = Page(client.get("/pool?part=backward&step=2").text)
    np.testing.assert_array_equal(numbers(midway, "∂L/∂x so far"),
                                  [[0, 1, 2, 0]] + [[0] * 4] * 3)


def test_backward_through_overlapping_windows_adds_the_deltas_up(client: httpx.Client) -> None:
    """The 9 at the centre of the peak is the max of all nine 3x3 windows: it gets
    1 + 2 + ... + 9 = 45, added one δ at a time."""
    page = Page(client.get("/pool?input=peak&kernel=3&stride=1&part=backward&step=9").text)
    expected = np.zeros((5, 5))
    expected[2, 2] = 45
    np.testing.assert_array_equal(numbers(page, "∂L/∂x so far"), expected)
    assert "∂L/∂x(3,3) = 36 + 9 = 45" in page.text("arith")


def test_backward_average_spreads_each_delta_evenly(client: httpx.Client) -> None:
    page = Page(client.get("/pool?kind=avg&part=backward&step=4").text)
    quarter = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]) / 4
    np.testing.assert_allclose(numbers(page, "∂L/∂x so far"), quarter)
    assert "δ(2,2) = 4 is shared: 4 / 4 = 1 to each of its 4 cells" in page.text("arith")
    padded = Page(client.get("/pool?kind=avg&part=backward&padding=1&step=1").text)
    # window (1, 1) is three padding cells and x(1, 1): 1 / 4 reaches x, the rest is lost
    assert "the 3 in the padding lose theirs" in padded.text("arith")
    assert numbers(padded, "∂L/∂x so far")[0, 0] == 0.25


def test_the_mean_is_written_out(client: httpx.Client) -> None:
    page = Page(client.get("/pool?kind=avg&step=2").text)
    assert "Output (1, 2) = (3 + 0 + 1 + 1) / 4 = 1.25" in page.text("arith")
    no_pad = Page(client.get("/pool?kind=avg&padding=1&count_include_pad=0&step=1").text)
    assert "Output (1, 1) = (1) / 1 = 1" in no_pad.text("arith")


def test_beside_it_the_mean_convolution_is_average_pooling(client: httpx.Client) -> None:
    page = Page(client.get("/pool?input=digit&kind=avg&compare=1&step=16").text)
    x = np.array(INPUTS["digit"][1], float)
    conv = forward(x[None, None], np.full((1, 1, 2, 2), 0.25), stride=2)[0, 0]
    blocks = x.reshape(4, 2, 4, 2).mean(axis=(1, 3))  # the means, computed another way
    np.testing.assert_allclose(numbers(page, "Output of the convolution"), conv, atol=5e-4)
    np.testing.assert_allclose(numbers(page, "Output"), blocks, atol=5e-4)
    note = page.text("compare-note")
    assert "It is a convolution with the mean kernel" in note and "at most 0" in note
    maxed = Page(client.get("/pool?input=digit&compare=1&conv=mean").text)
    assert "throws away the rest" in maxed.text("compare-note")


def test_the_output_size_formula_says_floor_or_ceil(client: httpx.Client) -> None:
    text = html.unescape(client.get("/pool?input=digit&kernel=3&stride=2&ceil_mode=1").text)
    assert "⌈(8 + 2×0 − 1×(3 − 1) − 1) / 2⌉ + 1 = 4 (floor: 3)" in re.sub(r"</?sub>", "", text)
    page = Page(text)
    assert page.grid("Output") and len(page.grid("Output")) == 4
    # the fourth window runs past the input: its overhang is drawn, dotted
    assert "the overhang of ceil_mode" in text


@pytest.mark.parametrize(("query", "words"), [
    ("padding=2", "padding must be at most half of kernel_size"),
    ("kind=avg&dilation=2", "average pooling has no dilation"),
    ("kernel=9", "Output size is too small"),
    ("compare=1&conv=sobel-x", "choose a kernel of the window's size"),
    ("kernel=abc", "kernel must be a whole number"),
    ("count_include_pad=maybe", "count_include_pad must be 1"),
    ("kind=min", "kind must be 'max' or 'avg'"),
    ("input=nope", "no input preset is named 'nope'"),
])
def test_a_value_the_pool_cannot_take_is_explained(client: httpx.Client, query: str,
                                                   words: str) -> None:
    for headers in ({}, {"HX-Request": "true"}):
        reply = client.get(f"/pool?{query}", headers=headers)
        assert reply.status_code == 422, query
        assert words in html.unescape(reply.text), query


def test_the_stride_follows_the_kernel_until_it_is_set(client: httpx.Client) -> None:
    reply = client.get("/pool?kernel=3&stride=3", headers={"HX-Request": "true"})
    assert reply.headers["HX-Push-Url"] == "/pool?kernel=3"
    page = Page(client.get("/pool?kernel=3").text)
    assert page.attrs["stride-field"]["value"] == "3"
    assert "not stride" in page.attrs["kernel-field"]["hx-params"]
    assert "stride-field" in Page(client.get("/pool?stride=1").text).attrs
    assert "hx-params" not in Page(client.get("/pool?stride=1").text).attrs["kernel-field"]


CELL = re.compile(r'(<div id="((?:in|out|d|g|conv)-\d+-\d+)"[^>]*>.*?</div>)')


def cells(text: str) -> dict[str, str]:
    """Every stepped grid's cell, by id, as written (its hx-swap-oob aside)."""
    return {ident: tag.replace(' hx-swap-oob="true"', "") for tag, ident in CELL.findall(text)}


@pytest.mark.parametrize("query", ["input=digit&kind=max&kernel=3&stride=1&padding=1",
                                   "input=peak&kernel=3&stride=1&part=backward",
                                   "input=edge&kind=avg&padding=1&part=backward",
                                   "input=digit&kind=avg&compare=1&ceil_mode=1&kernel=3&stride=2"])
def test_a_step_update_turns_one_step_into_another(client: httpx.Client, query: str) -> None:
    """A player's step update sends only the cells that change: put into the page at step
    ``prev``, they make exactly the page at the new step, forward or back, one step or many."""
    for prev, step in ((0, 1), (1, 2), (2, 9), (9, 3), (5, 0), (3, 3)):
        page = cells(client.get(f"/pool?{query}&step={prev}").text)
        update = client.get(f"/pool?{query}&step={step}&prev={prev}",
                            headers={"HX-Request": "true"}).text
        sent = cells(update)
        assert set(sent) <= set(page)
        page.update(sent)
        assert page == cells(client.get(f"/pool?{query}&step={step}").text), (prev, step)
        assert len(sent) < len(page) / 2 or prev == 0 or step == 0, (prev, step, len(sent))
