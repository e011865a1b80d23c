"""The 2D page's pictures over real HTTP: each pixel's grey is its engine value on the scale the
page states (computed here from the definition, not by the page's code), the numbers under the
kernel at each step, and the URL fields that choose them."""

from __future__ import annotations

import html
import re

import httpx
import numpy as np
import pytest
from scipy.signal import correlate2d

from app.config import Settings
from app.presets import IMAGES_2D, KERNELS_2D
from app.web.parsing import StateError, parse_view_2d
from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def greys(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The definition: linear from black (lo) to white (hi), rounded half up, clipped."""
    return np.clip(np.floor((values - lo) / (hi - lo) * 255 + 0.5), 0, 255).astype(int)


def drawn(page: Page, prefix: str, shape: tuple[int, int]) -> np.ndarray:
    """The grey class (p0..p255) of every cell ``prefix-r-c``."""
    out = np.full(shape, -1)
    for r in range(shape[0]):
        for c in range(shape[1]):
            classes = page.attrs[f"{prefix}-{r}-{c}"]["class"].split()
            out[r, c] = next(int(n[1:]) for n in classes if re.fullmatch(r"p\d+", n))
    return out


def scale_words(page: Page) -> str:
    return " ".join(page.text("grey-scale").split())


def test_the_fields_are_read_and_bad_ones_named() -> None:
    view = parse_view_2d({"show": "picture", "scale": "each"}, Settings())
    assert (view.show, view.scale) == ("picture", "each")
    assert "show=picture" in view.query() and "scale=each" in view.query()
    assert parse_view_2d({}, Settings()).query() == ""  # numbers, shared: the defaults
    for field, value in (("show", "pixels"), ("scale", "log")):
        with pytest.raises(StateError) as caught:
            parse_view_2d({field: value}, Settings())
        assert caught.value.field == field and field in caught.value.message


def test_a_bad_show_is_explained_on_the_page(client: httpx.Client) -> None:
    response = client.get("/2d?show=pixels")
    assert response.status_code == 422
    assert "show must be 'numbers' or 'picture'" in html.unescape(response.text)


@pytest.mark.parametrize("kernel", ["box-blur", "sharpen", "sobel-x"])
def test_pixels_are_the_engines_values_on_the_shared_scale(client: httpx.Client,
                                                           kernel: str) -> None:
    x = np.array(IMAGES_2D["digit"][1], float)
    w = np.array(KERNELS_2D[kernel][1], float)
    out = correlate2d(x, w, mode="valid")  # SciPy, not the engine, is the reference
    lo, hi = min(x.min(), out.min()), max(x.max(), out.max())
    page = Page(client.get(f"/2d?input=digit&kernel={kernel}&show=picture&step=999").text)
    assert (drawn(page, "in", x.shape) == greys(x, lo, hi)).all()
    assert (drawn(page, "out", out.shape) == greys(out, lo, hi)).all()
    words = scale_words(page)
    assert f"Input and output: black = {lo:g}, white = {hi:g}" in words.replace("−", "-")
    assert "clipped" not in words
    # the values stay each pixel's name: a screen reader reads the number, not a grey
    assert page.attrs["out-0-0"]["aria-label"] == f"{out[0, 0]:.10g}"
    assert page.grid("Output picture")[0][0] == ""  # no digits drawn on a picture


def test_the_inputs_range_clips_the_output_and_says_how_many(client: httpx.Client) -> None:
    x = np.array(IMAGES_2D["smiley"][1], float)
    w = np.array(KERNELS_2D["sharpen"][1], float)
    out = correlate2d(x, w, mode="valid")
    page = Page(client.get("/2d?input=smiley&kernel=sharpen&show=picture&scale=input"
                           "&step=999").text)
    assert (drawn(page, "out", out.shape) == greys(out, 0, 1)).all()
    above, below = int((out > 1).sum()), int((out < 0).sum())
    assert above and below
    assert f"{above + below} values beyond it drawn clipped" in scale_words(page)
    classes = {(r, c): page.attrs[f"out-{r}-{c}"]["class"].split()
               for r in range(out.shape[0]) for c in range(out.shape[1])}
    assert sum("clip-hi" in v for v in classes.values()) == above
    assert sum("clip-lo" in v for v in classes.values()) == below


def test_each_picture_can_have_its_own_scale(client: httpx.Client) -> None:
    x = np.array(IMAGES_2D["edge"][1], float)
    w = np.array(KERNELS_2D["sobel-x"][1], float)
    out = correlate2d(x, w, mode="valid")
    page = Page(client.get("/2d?input=edge&kernel=sobel-x&show=picture&scale=each"
                           "&step=999").text)
    assert (drawn(page, "in", x.shape) == greys(x, 0, 9)).all()
    assert (drawn(page, "out", out.shape) == greys(out, out.min(), out.max())).all()
    words = scale_words(page)
    assert "Input: black = 0, white = 9" in words
    assert f"Output: black = {out.min():g}, white = {out.max():g}" in words


def test_the_magnifier_shows_the_numbers_under_the_kernel_at_each_step(
        client: httpx.Client) -> None:
    x = np.array(IMAGES_2D["digit"][1], float)
    w = np.array(KERNELS_2D["sobel-y"][1], float)
    padded = np.pad(x, 1)
    out = correlate2d(padded, w, mode="valid")
    base = "/2d?input=digit&kernel=sobel-y&padding=1&show=picture"
    previous = 0
    for step in (1, 12, 30, 64):
        r, c = divmod(step - 1, out.shape[1])
        under = padded[r:r + 3, c:c + 3]
        for url in (f"{base}&step={step}", f"{base}&step={step}&prev={previous}"):
            page = Page(client.get(url, headers=HTMX if "prev" in url else {}).text)
            assert page.grid("Under the kernel") == [[f"{v:g}" for v in row] for row in under]
            assert page.grid("Output value made") == [[f"{out[r, c]:g}"]]
            assert f"makes output ({r + 1}, {c + 1})" in page.text("magnifier")
        previous = step
    page = Page(client.get(base).text)  # step 0: the kernel has not moved yet
    assert page.grid("Under the kernel") == [["", "", ""]] * 3
    assert page.grid("Kernel") == [[f"{v:g}" for v in row] for row in w]


def test_in_convolution_mode_the_kernel_shown_is_the_flipped_one(client: httpx.Client) -> None:
    w = np.array(KERNELS_2D["emboss"][1], float)
    page = Page(client.get("/2d?input=digit&kernel=emboss&mode=convolution&show=picture"
                           "&step=1").text)
    assert page.grid("Kernel, as it slides") == [[f"{v:g}" for v in row] for row in w[::-1, ::-1]]


def test_a_step_sends_only_the_changed_pixels_and_the_magnifier(client: httpx.Client) -> None:
    fragment = client.get("/2d?input=digit28&kernel=box-blur&show=picture&step=5&prev=4",
                          headers=HTMX).text
    page = Page(fragment)
    assert "magnifier" in page.attrs and page.attrs["magnifier"].get("hx-swap-oob") == "true"
    cells = [i for i in page.attrs if re.fullmatch(r"(in|out)-\d+-\d+", i)]
    # the two windows' 3x4 input cells; the new output, and the one before it, no longer current
    assert len(cells) == 12 + 2
    assert len(fragment) < 8_000
