"""The 1D page over real HTTP: the lesson's animations as data, and the discrete sums."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest
from scipy import signal

from app.presets import KERNELS_1D, KERNELS_1D_DENSE, signal_values
from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def plot_values(html: str, name: str) -> np.ndarray:
    match = re.search(rf'aria-label="{name}"\s+data-values="([^"]*)"', html)
    assert match, name
    return np.array([float(v) for v in match.group(1).split(",") if v])


def test_box_with_itself_is_the_lessons_triangle(client: httpx.Client) -> None:
    html = client.get("/1d?signal=box&step=10000").text
    x, w = signal_values("box", dense=True), KERNELS_1D_DENSE["box"][1]
    output = plot_values(html, "Output")
    np.testing.assert_allclose(output, signal.convolve(x, w))  # 'full', as the lesson draws it
    peak = int(np.argmax(output))
    assert np.all(np.diff(output[: peak + 1]) >= 0) and np.all(np.diff(output[peak:]) <= 0)
    assert len(x) >= 200  # densely sampled, so it reads as continuous


def test_spiky_with_box_follows_scipy(client: httpx.Client) -> None:
    html = client.get("/1d?step=10000").text
    expected = signal.convolve(signal_values("spiky", True), KERNELS_1D_DENSE["box"][1])
    np.testing.assert_allclose(plot_values(html, "Output"), expected, atol=1e-9)


def test_the_output_fills_in_step_by_step(client: httpx.Client) -> None:
    html = client.get("/1d?signal=box&step=120").text
    assert plot_values(html, "Output").size == 120
    assert 'class="overlap"' in html and 'class="marker"' in html
    assert "Step 120 of 265" in html


def test_discrete_steps_write_out_their_terms(client: httpx.Client) -> None:
    html = client.get("/1d?view=discrete&signal=triangle&kernel=lesson&mode=cross-correlation"
                      "&padding=valid&step=5").text
    x, w = signal_values("triangle", dense=False), KERNELS_1D["lesson"][1]
    text = Page(html).text("arith")
    # output 5 reads x5, x6, x7 (0-based 4..6), weighted by w1, w2, w3 (not flipped)
    assert text.startswith("Output 5") and text.count("×") == 3
    assert f") = {w[0]}×{x[4]:g} + " in text
    assert text.endswith(f"= {sum(w[k] * x[4 + k] for k in range(3)):g}")


def test_toggling_the_mode_on_an_asymmetric_kernel_changes_the_output(
        client: httpx.Client) -> None:
    conv = plot_values(client.get("/1d?signal=step&kernel=ramp&step=10000").text, "Output")
    corr = plot_values(client.get("/1d?signal=step&kernel=ramp&mode=cross-correlation"
                                  "&step=10000").text, "Output")
    x, w = signal_values("step", True), KERNELS_1D_DENSE["ramp"][1]
    np.testing.assert_allclose(conv, signal.convolve(x, w), atol=1e-9)
    np.testing.assert_allclose(corr, signal.correlate(x, w), atol=1e-9)
    assert not np.allclose(conv, corr)


def test_compare_draws_both_results(client: httpx.Client) -> None:
    html = client.get("/1d?signal=step&kernel=ramp&compare=1&step=10").text
    assert 'class="other"' in html and "cross-correlation" in html


def test_a_step_fragment_is_small(client: httpx.Client) -> None:
    response = client.get("/1d?step=101&prev=100", headers=HTMX)
    assert response.status_code == 200 and "<form" not in response.text
    assert len(response.content) < 20_000
    assert re.findall(r'id="([^"]+)"[^>]*hx-swap-oob="true"', response.text) == [
        "step-status", "plot-input", "plot-output"]


@pytest.mark.parametrize(("query", "words"), [
    ("signal=nope", "no signal preset is named 'nope'"),
    ("view=wide", "view must be 'continuous' or 'discrete'"),
    ("x=1,a", "x must hold numbers"),
    ("view=discrete&kernel=lesson&x=1,2&padding=0", "Kernel size can't be greater"),
    ("stride=1,2", "stride must be a whole number"),
])
def test_bad_settings_are_explained(client: httpx.Client, query: str, words: str) -> None:
    response = client.get(f"/1d?{query}")
    assert response.status_code == 422
    assert words in Page(response.text).text("main")


def tick_labels(html: str, plot: str, kind: str) -> list[str]:
    """The tick labels of one plot's axis (``tx`` along the bottom, ``ty`` the values)."""
    svg = re.search(rf'<svg id="plot-{plot}".*?</svg>', html, re.S).group(0)
    return re.findall(rf'<text class="{kind}[^"]*"[^>]*>([^<]*)</text>', svg)


def test_every_plot_has_value_and_index_labels(client: httpx.Client) -> None:
    html = client.get("/1d?signal=box&step=10000").text
    # the box signal and box kernel are 0 and 1; box * box peaks at 66 (66 ones overlap)
    assert tick_labels(html, "input", "ty") == ["0", "0.5", "1"]
    assert tick_labels(html, "output", "ty") == ["0", "20", "40", "60"]
    assert tick_labels(html, "kernel", "ty") == ["0", "0.5", "1"]
    # the shift axis runs over the padded signal, -65 to 265 (200 samples, 65 a side)
    shifts = [int(v) for v in tick_labels(html, "input", "tx")]
    assert shifts == [int(v) for v in tick_labels(html, "output", "tx")]
    assert shifts[0] >= -65 and shifts[-1] <= 265 and 0 in shifts and len(shifts) >= 3
    taps = [int(v) for v in tick_labels(html, "kernel", "tx")]
    assert taps[0] == 0 and taps[-1] <= 65


def test_the_discrete_kernel_is_labelled_tap_by_tap(client: httpx.Client) -> None:
    html = client.get("/1d?view=discrete&kernel=lesson").text
    assert tick_labels(html, "kernel", "tx") == ["0", "1", "2"]  # w = [2, -1, 1]
    assert tick_labels(html, "kernel", "ty") == ["-1", "0", "1", "2"]


def test_overlay_draws_the_result_over_the_signals(client: httpx.Client) -> None:
    plain = client.get("/1d?signal=box&step=30").text
    assert 'id="overlay-result"' not in plain and "result-ticks" not in plain
    html = client.get("/1d?signal=box&step=30&overlay=1").text
    svg = re.search(r'<svg id="plot-input".*?</svg>', html, re.S).group(0)
    points = re.search(r'id="overlay-result" class="result" points="([^"]*)"', svg).group(1)
    assert len(points.split()) == 30  # the result so far: one point per step made
    assert "result-ticks" in svg and 'aria-label="Output"' in html  # own axis; output kept
    assert client.get("/1d?signal=box&overlay=1&step=3",
                      headers=HTMX).headers["HX-Push-Url"].count("overlay=1") == 1


def test_the_page_says_why_it_starts_in_convolution(client: httpx.Client) -> None:
    page = Page(client.get("/1d").text)
    why = page.text("mode-why")
    assert "lesson's animations flip g" in why and "cross-correlation" in why
    assert "plot-input" in page.attrs
