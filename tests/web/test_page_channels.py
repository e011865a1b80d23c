"""The channels page over real HTTP: output maps, partial sums, groups and the batch."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest

from app.engine import forward
from app.presets import CHANNELS
from tests.web.html import Page


def output_maps(page: Page, count: int) -> np.ndarray:
    return np.array([page.numbers(f"Output {k + 1}") for k in range(count)], dtype=float)


def engine_output(preset: str, groups: int | None = None, sample: int = 0) -> np.ndarray:
    p = CHANNELS[preset]
    g = groups or p.groups
    bank = np.array(p.w, float)
    per, c_out = bank.shape[1] // g, bank.shape[0]
    w = np.stack([bank[co, (co // (c_out // g)) * per:(co // (c_out // g) + 1) * per]
                  for co in range(c_out)])
    bias = None if p.bias is None else np.array(p.bias, float)
    return forward(np.array(p.x, float), w, bias, groups=g)[sample]


@pytest.mark.parametrize("preset", list(CHANNELS))
def test_playing_to_the_end_gives_the_engines_maps(client: httpx.Client, preset: str) -> None:
    expected = engine_output(preset)
    page = Page(client.get(f"/channels?preset={preset}&step={expected.size}").text)
    np.testing.assert_allclose(output_maps(page, len(expected)), expected, atol=5e-4)
    assert f"{len(expected)} kernel" in page.text("kernel-count")


def test_partial_sums_add_up_to_the_output(client: httpx.Client) -> None:
    html = client.get("/channels?step=3").text
    partials = [float(v) for v in re.findall(
        r'<li class="partial" data-channel="\d+">.*?= <strong>(-?[\d.]+)</strong>', html)]
    total = float(re.search(r'<strong class="result">(-?[\d.]+)</strong>', html)[1])
    assert len(partials) == 2  # one partial sum per input channel
    assert total == engine_output("lesson")[0, 1, 0]  # the third output, row 2 column 1
    assert sum(partials) + CHANNELS["lesson"].bias[0] == total


def test_the_shapes_are_stated(client: httpx.Client) -> None:
    page = Page(client.get("/channels?preset=three-kernels").text)
    text = page.text("shapes")
    assert "(1, 3, 8, 8)" in text and "(3, 3, 3, 3)" in text and "(1, 3, 6, 6)" in text
    assert "(3, 3, 3) ⋆ (8, 8, 3) → (6, 6, 3)" in text


def test_groups_change_which_channels_a_kernel_sees(client: httpx.Client) -> None:
    one = client.get("/channels?preset=three-kernels&groups=1&step=40").text
    three = client.get("/channels?preset=three-kernels&groups=3&step=40").text
    done = Page(client.get("/channels?preset=three-kernels&groups=3&step=108").text)
    assert re.search(r'data-sees="0 1 2"', one) and re.search(r'data-sees="1"', three)
    assert "sees G</small>" in three and "sees R, G, B</small>" in one
    np.testing.assert_allclose(output_maps(done, 3), engine_output("three-kernels", groups=3),
                               atol=5e-4)


def test_the_batch_applies_the_same_kernels_to_each_sample(client: httpx.Client) -> None:
    for sample in (0, 1):
        page = Page(client.get(f"/channels?preset=batch&sample={sample}&step=8").text)
        np.testing.assert_allclose(output_maps(page, 2), engine_output("batch", sample=sample))


@pytest.mark.parametrize(("query", "words"), [
    ("preset=depthwise&groups=2", "must be divisible by groups (2)"),
    ("preset=batch&sample=5", "sample must be between 0 and 1"),
    ("preset=nope", "no preset is named 'nope'"),
])
def test_bad_settings_are_explained(client: httpx.Client, query: str, words: str) -> None:
    response = client.get(f"/channels?{query}")
    assert response.status_code == 422
    assert words in Page(response.text).text("main")


@pytest.mark.parametrize("preset", [name for name, p in CHANNELS.items() if p.bias is not None])
def test_the_bias_is_shown_beside_its_output_from_the_first_step(client: httpx.Client,
                                                                 preset: str) -> None:
    page = Page(client.get(f"/channels?preset={preset}").text)  # step 0: nothing made yet
    bias = CHANNELS[preset].bias
    subscripts = "₁₂₃₄₅₆₇₈₉"
    for co, b in enumerate(bias):
        assert page.text(f"bias-{co}") == f"+ bias b{subscripts[co]} = {b:g}"


def test_the_lessons_first_sum_names_its_bias(client: httpx.Client) -> None:
    # the lesson's example by hand: channel 1 [[1,0],[0,1]]·[[1,0],[0,1]] = 2, channel 2
    # [[0,1],[1,0]]·[[0,1],[1,2]] = 2, and the bias 1
    page = Page(client.get("/channels?step=1").text)
    assert page.text("arith").startswith("Kernel 1, output (1, 1): 2 + 2 + 1 (bias b₁) = 5")


def test_a_preset_without_a_bias_shows_none(client: httpx.Client) -> None:
    html = client.get("/channels?preset=rgb-edge").text
    assert CHANNELS["rgb-edge"].bias is None
    assert "bias-note" not in html and "bias" not in Page(html).text("arith")
