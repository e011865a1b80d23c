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
