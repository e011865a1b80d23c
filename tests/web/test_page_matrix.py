"""The matrix page over real HTTP: W as the test builds it (unit vectors pushed through
``forward``), the patches matrix from numpy.pad and slicing, Wᵀ · δ and δ · P against NumPy
products, the row the step highlights, the link to /backprop's ∂L/∂X, and the page's limits."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import numpy as np
import pytest

from app.engine import forward
from app.presets import IMAGES_2D, KERNELS_2D
from tests.web.html import Page

HTMX = {"HX-Request": "true"}
NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def entries(page: Page, prefix: str) -> np.ndarray:
    """The cells ``{prefix}-r-c`` as a matrix of their exact values (title, else text)."""
    found = {}
    for ident, attrs in page.attrs.items():
        m = re.fullmatch(rf"{prefix}-(\d+)-(\d+)", ident)
        if m and attrs.get("role") == "gridcell":
            found[int(m[1]), int(m[2])] = float(attrs.get("title") or page.text(ident))
    rows, cols = max(r for r, _ in found) + 1, max(c for _, c in found) + 1
    out = np.full((rows, cols), np.nan)
    for (r, c), v in found.items():
        out[r, c] = v
    return out


def vector(page: Page, name: str) -> np.ndarray:
    values = []
    i = 0
    while f"{name}-{i}" in page.attrs:
        attrs = page.attrs[f"{name}-{i}"]
        values.append(float(attrs.get("title") or page.text(f"{name}-{i}") or "nan"))
        i += 1
    return np.array(values)


def by_unit_vectors(x: np.ndarray, w: np.ndarray, **params) -> np.ndarray:
    """W column by column: column j is the output of the j-th unit input."""
    columns = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = 1
        columns.append(forward(e.reshape(1, *x.shape), w[None, None], **params).ravel())
    return np.stack(columns, 1)


GEOMETRIES = [
    ("input=lesson&kernel=lesson", {}),
    ("input=random&kernel=sobel-x", {}),
    ("input=random&kernel=laplacian&padding=1", {"padding": 1}),
    ("input=random&kernel=emboss&padding=1&padding_mode=circular",
     {"padding": 1, "padding_mode": "circular"}),
    ("input=random&kernel=sharpen&padding=1&padding_mode=replicate&stride=2",
     {"padding": 1, "padding_mode": "replicate", "stride": 2}),
    ("input=random&kernel=sobel-y&padding=2&padding_mode=reflect&dilation=2",
     {"padding": 2, "padding_mode": "reflect", "dilation": 2}),
    ("input=random&kernel=emboss&mode=convolution&stride=2,1",
     {"mode": "convolution", "stride": (2, 1)}),
]


def arrays(query: str) -> tuple[np.ndarray, np.ndarray]:
    q = dict(p.split("=") for p in query.split("&"))
    return (np.array(IMAGES_2D[q["input"]][1], float), np.array(KERNELS_2D[q["kernel"]][1], float))


@pytest.mark.parametrize(("query", "params"), GEOMETRIES)
def test_w_on_the_page_is_the_matrix_unit_vectors_make(client: httpx.Client, query: str,
                                                        params: dict) -> None:
    page = Page(client.get(f"/matrix?{query}&matrix=W").text)
    x, w = arrays(query)
    expected = by_unit_vectors(x, w, **params)
    shown = entries(page, "m")
    assert shown.shape == expected.shape
    np.testing.assert_allclose(shown, expected, rtol=1e-12, atol=1e-12)
    # the top is vec(x); the side, all made at the end, is vec(y) = W · vec(x)
    np.testing.assert_array_equal(vector(page, "vx"), x.ravel())
    end = Page(client.get(f"/matrix?{query}&matrix=W&step=999").text)
    np.testing.assert_allclose(vector(end, "vy"), expected @ x.ravel(), rtol=1e-12, atol=1e-12)


def test_the_zeros_no_tap_reaches_are_faint_and_each_row_holds_the_kernel(
        client: httpx.Client) -> None:
    page = Page(client.get("/matrix?input=random&kernel=sobel-x").text)
    faint = np.zeros((16, 36), bool)
    for ident, attrs in page.attrs.items():
        m = re.fullmatch(r"m-(\d+)-(\d+)", ident)
        if m:
            faint[int(m[1]), int(m[2])] = "faint" in attrs["class"].split()
    # no padding: row (i, j) holds the 9 taps at columns (i + a) * 6 + (j + b)
    for r in range(16):
        i, j = divmod(r, 4)
        taps = {(i + a) * 6 + (j + b) for a in range(3) for b in range(3)}
        assert {c for c in range(36) if not faint[r, c]} == taps
        # sobel-x's middle column is 0: those taps are kept bold, zeros that are the kernel's
        sobel = np.array(KERNELS_2D["sobel-x"][1])
        shown = entries(page, "m")[r]
        assert [shown[(i + a) * 6 + j + b] for a in range(3) for b in range(3)] == \
            sobel.ravel().tolist()


@pytest.mark.parametrize("mode", list(NP_MODES))
def test_the_patches_matrix_is_each_padded_window_unrolled(client: httpx.Client,
                                                           mode: str) -> None:
    page = Page(client.get(f"/matrix?input=random&kernel=sharpen&matrix=im2col&padding=1"
                           f"&padding_mode={mode}&stride=2").text)
    x = np.array(IMAGES_2D["random"][1], float)
    xp = np.pad(x, 1, mode=NP_MODES[mode])
    expected = np.array([xp[i:i + 3, j:j + 3].ravel() for i in range(0, 6, 2)
                         for j in range(0, 6, 2)])
    np.testing.assert_array_equal(entries(page, "m"), expected)
    w = np.array(KERNELS_2D["sharpen"][1], float)
    np.testing.assert_array_equal(vector(page, "vw"), w.ravel())
    # ∂L/∂w = δ · P, δ = 1 everywhere by default
    np.testing.assert_allclose(vector(page, "vg"), np.ones(9) @ expected, atol=1e-12)


def test_w_transposed_times_delta_is_the_input_gradient_and_backprop_agrees(
        client: httpx.Client) -> None:
    delta = np.arange(1.0, 17.0) * np.array([1, -1] * 8)
    text = ",".join(str(v) for v in delta)
    page = Page(client.get(f"/matrix?input=random&kernel=emboss&matrix=Wt&delta={text}").text)
    x = np.array(IMAGES_2D["random"][1], float)
    w = np.array(KERNELS_2D["emboss"][1], float)
    big_w = by_unit_vectors(x, w)
    np.testing.assert_allclose(entries(page, "m"), big_w.T, atol=1e-12)
    np.testing.assert_array_equal(vector(page, "vd"), delta)
    expected = big_w.T @ delta
    np.testing.assert_allclose(vector(page, "vgx"), expected, rtol=1e-12, atol=1e-12)
    # the link opens /backprop with the same x, kernel and δ: its ∂L/∂X, played to the end
    href = unquote(page.attrs["backprop-link"]["href"]).replace("&amp;", "&")
    assert href.startswith("/backprop?") and "part=input" in href and "loss=custom" in href
    back = Page(client.get(href + "&step=999").text)
    np.testing.assert_allclose(np.array(back.numbers("∂L/∂X"), float).ravel(), expected,
                               rtol=1e-12, atol=1e-12)


def test_the_step_outlines_its_row_and_a_step_update_swaps_the_rows(client: httpx.Client) -> None:
    page = Page(client.get("/matrix?input=random&kernel=sobel-x&step=5").text)
    now = [i for i, a in page.attrs.items() if i.startswith("mrow-") and
           "now" in a["class"].split()]
    assert now == ["mrow-4"]
    assert page.attrs["grid-matrix"]["data-highlight"] == "4"
    update = client.get("/matrix?input=random&kernel=sobel-x&step=6&prev=5", headers=HTMX).text
    rows = re.findall(r'<div class="row( now)?" role="row" id="mrow-(\d+)"', update)
    assert sorted(rows) == [("", "4"), (" now", "5")]
    assert "Row 6 of W · vec(x) = output (2, 2) =" in Page(update).text("arith")


def test_on_w_transposed_the_step_marks_a_column(client: httpx.Client) -> None:
    page = Page(client.get("/matrix?input=random&kernel=sobel-x&matrix=Wt&step=3").text)
    marked = {(int(m[1]), int(m[2])) for i, a in page.attrs.items()
              if (m := re.fullmatch(r"m-(\d+)-(\d+)", i)) and "now" in a["class"].split()}
    assert marked == {(r, 2) for r in range(36)}


@pytest.mark.parametrize(("query", "status", "words"), [
    ("x=" + ";".join(["1,2,3,4,5,6,7"] * 7), 413, "page_max_matrix_side"),
    ("w=" + ";".join(["1,2,3,4"] * 4), 413, "page_max_matrix_kernel"),
    ("input=random&kernel=sobel-x&padding=3", 413, "page_max_matrix_entries"),
    ("input=digit", 422, "no input preset is named 'digit'"),
    ("matrix=V", 422, "matrix must be 'im2col', 'W' or 'Wt'"),
    ("delta=1,2,3", 422, "delta needs 4 values"),
    ("delta=nan", 422, "delta must hold finite numbers"),
    ("stride=99999999999999999999", 422, "stride must be between 1 and 99"),
    ("padding=-1", 422, "padding must be between 0 and 99"),
    ("padding_mode=mirror", 422, "padding_mode must be one of"),
    ("x=inf", 422, "x must hold finite numbers"),
    ("x=", 200, ""),
])
def test_what_the_page_cannot_draw_it_says_with_the_field_and_limit(
        client: httpx.Client, query: str, status: int, words: str) -> None:
    reply = client.get(f"/matrix?{query}")
    assert reply.status_code == status, reply.text[:300]
    assert words in Page(reply.text).text("scene")
