"""The backprop page over real HTTP: the lesson's gradients term by term, training, checks."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest

from app.engine import backward, forward
from app.presets import BACKPROP, LESSON_1D
from tests.web.html import Page

HTMX = {"HX-Request": "true"}


def numbers(page: Page, prefix: str) -> np.ndarray:
    """Every cell of the grids whose ids start with ``prefix`` (channel by channel)."""
    cells = [(ident, page.text(ident)) for ident in page.attrs if ident.startswith(prefix + "-")
             and page.attrs[ident].get("role") == "gridcell"]
    return np.array([float(text) if text else np.nan for _, text in cells])


def test_dl_dw1_is_built_term_by_term(client: httpx.Client) -> None:
    page = Page(client.get("/backprop?step=1").text)
    x, d = LESSON_1D["x"], LESSON_1D["delta"]
    text = page.text("arith")
    assert "∂L/∂w₁ = δ₁·x₁ + δ₂·x₂ + δ₃·x₃" in text
    assert f"= {d[0]}×{x[0]} + ({d[1]})×{x[1]} + {d[2]}×{x[2]} = " in text
    assert text.endswith(f"= {sum(di * xi for di, xi in zip(d, x, strict=False))}")


@pytest.mark.parametrize("preset", list(BACKPROP))
@pytest.mark.parametrize("part", ["weight", "input", "bias"])
def test_each_pass_played_to_the_end_is_the_engines_gradient(client: httpx.Client,
                                                             preset: str, part: str) -> None:
    p = BACKPROP[preset]
    x, w = np.array(p.x, float), np.array(p.w, float)
    y = forward(x, w)
    delta = {"custom": lambda: np.array(p.delta, float), "sum": lambda: np.ones_like(y),
             "mse": lambda: 2 * (y - np.array(p.target, float)) / y.size}[p.loss]()
    expected = backward(x, w, delta)._asdict()[f"grad_{part}"]
    page = Page(client.get(f"/backprop?preset={preset}&part={part}&step=10000").text)
    # cells show three significant digits
    np.testing.assert_allclose(numbers(page, "g"), expected.ravel(), rtol=5e-3, atol=1e-12)


def test_the_input_pass_shows_the_flip_and_the_zero_border(client: httpx.Client) -> None:
    page = Page(client.get("/backprop?part=input&step=3").text)
    assert page.grid("δ, dilated by the stride, with a zero border") == [
        ["0", "0", "1", "-1", "2", "0", "0"]]
    assert page.grid("Flipped kernel") == [["1", "-1", "2"]]
    assert "∂L/∂x₃ = δ₃·w₁ + δ₂·w₂ + δ₁·w₃" in page.text("arith")


def test_with_stride_the_delta_is_dilated(client: httpx.Client) -> None:
    page = Page(client.get("/backprop?preset=channels&part=input&stride=2&padding=1").text)
    grid = page.grid("δ, dilated by the stride, with a zero border channel 1")
    assert grid[1][1] != "" and grid[1][2] == "0"  # a zero between two deltas


def test_mse_training_lowers_the_loss_every_step(client: httpx.Client) -> None:
    html = client.get("/backprop?preset=learn-sobel&epoch=60").text
    history = np.array(re.search(r'aria-label="Loss per epoch" data-values="([^"]+)"',
                                 html).group(1).split(","), float)
    assert history.size == 61
    assert np.all(np.diff(history) < 0)
    assert history[-1] < 0.01 * history[0]


def test_training_state_lives_in_the_url(client: httpx.Client) -> None:
    first = client.get("/backprop?preset=learn-sobel&epoch=5").text
    again = client.get("/backprop?preset=learn-sobel&epoch=5").text
    assert Page(first).grid("Kernel") == Page(again).grid("Kernel")
    assert Page(first).grid("Kernel") != Page(client.get("/backprop?preset=learn-sobel").text
                                              ).grid("Kernel")


def test_the_finite_difference_check_agrees(client: httpx.Client) -> None:
    text = client.get("/backprop/verify?preset=channels").text
    errors = [float(v) for v in re.findall(r"<strong>([0-9.e+-]+)</strong>", text)]
    assert len(errors) == 2 and max(errors) < 1e-6
    assert "agrees" in text and "DISAGREES" not in text


def test_a_step_fragment_carries_the_sum_and_the_stage(client: httpx.Client) -> None:
    response = client.get("/backprop?step=2&prev=1", headers=HTMX)
    assert response.status_code == 200 and "<form" not in response.text
    assert "∂L/∂w₂" in response.text and 'id="pass-stage"' in response.text


@pytest.mark.parametrize(("query", "words"), [
    ("delta=1,2", "delta needs 3 values"),
    ("preset=nope", "no preset is named 'nope'"),
    ("eta=-1", "eta (the learning rate) must be above 0"),
    ("epoch=-1", "epoch must be 0 or more"),
    ("part=kernel", "part must be 'weight', 'input' or 'bias'"),
])
def test_bad_settings_are_explained(client: httpx.Client, query: str, words: str) -> None:
    response = client.get(f"/backprop?{query}")
    assert response.status_code == 422
    assert words in Page(response.text).text("main")


def test_training_beyond_the_epoch_limit_is_refused(client: httpx.Client) -> None:
    assert client.get("/backprop?preset=learn-sobel&epoch=500").status_code == 200
    response = client.get("/backprop?preset=learn-sobel&epoch=501")
    assert response.status_code == 413
    assert "epoch can be at most 500 here (page_max_epochs=500)" in Page(response.text).text("main")


DIVERGING = [f"/backprop?preset={name}&loss={loss}&eta=10&epoch={epoch}"
             for name in BACKPROP for loss in ("mse", "sum") for epoch in (60, 500)]
OVERFLOWING = [f"/backprop?preset=lesson-1d&loss=custom&delta=1e308,1e308,1e308&part={part}"
               f"&step={step}" for part in ("weight", "input", "bias") for step in (0, 1, 9)]


@pytest.mark.parametrize("url", DIVERGING)
def test_training_that_diverges_says_at_which_update(client: httpx.Client, url: str):
    """η = 10 makes every preset's weights overflow float64: that was a 500 (OverflowError
    in format_number(inf)). The page names the update, shows the ones before it, suggests
    a smaller η, and the Train button stops there."""
    reply = client.get(url)
    assert reply.status_code == 200
    page = Page(reply.text)
    scene = page.attrs["scene"]
    if scene["data-diverged"] == "true":
        match = re.search(r"Training diverged at update (\d+): with η = 10 .* a smaller η, "
                          r"such as 1, converges\.", page.text("scene"))
        assert match, page.text("scene")[:400]
        assert f"diverged at update {match.group(1)}" in page.text("scene")
        assert "∞" not in page.text("scene") or "overflowed" in page.text("scene")
    else:  # this preset's loss shrinks fast enough to stay finite for these updates
        assert "Training diverged" not in page.text("scene")


@pytest.mark.parametrize("url", OVERFLOWING)
def test_deltas_of_1e308_show_infinity_and_say_what_it_means(client: httpx.Client, url: str):
    reply = client.get(url)
    assert reply.status_code == 200
    text = Page(reply.text).text("scene")
    assert "Some results overflowed: ∞ (or −∞) marks a number too large for float64" in text
    if "step=0" not in url and "part=input" not in url:
        # every weight or bias gradient adds three products of 1e308 and a positive number
        arithmetic = Page(reply.text).text("arith")
        assert re.search(r"= −?∞$", arithmetic), arithmetic


def named_cells(page: Page, prefix: str) -> dict[str, str]:
    """The cells of the grids whose ids start with ``prefix``, by the name written on them."""
    return {a["data-name"]: page.text(ident) for ident, a in page.attrs.items()
            if ident.startswith(prefix + "-") and "data-name" in a}


def test_the_cells_carry_the_lessons_names(client: httpx.Client) -> None:
    page = Page(client.get("/backprop").text)
    assert named_cells(page, "fx") == {"x₁": "1", "x₂": "2", "x₃": "3", "x₄": "4", "x₅": "5"}
    assert named_cells(page, "w") == {"w₁": "2", "w₂": "-1", "w₃": "1"}
    assert named_cells(page, "fd") == {"δ₁": "1", "δ₂": "-1", "δ₃": "2"}
    # o₁ = 2·1 − 1·2 + 1·3 = 3, o₂ = 2·2 − 3 + 4 = 5, o₃ = 2·3 − 4 + 5 = 7 (by hand)
    assert named_cells(page, "fo") == {"o₁": "3", "o₂": "5", "o₃": "7"}


@pytest.mark.parametrize("part,steps", [("weight", 3), ("input", 5)])
def test_every_name_in_the_arithmetic_is_a_cell_holding_its_number(
        client: httpx.Client, part: str, steps: int) -> None:
    """δ₂·x₃ = (-1)×3: the cell named δ₂ holds -1 and the one named x₃ holds 3."""
    for step in range(1, steps + 1):
        page = Page(client.get(f"/backprop?part={part}&step={step}").text)
        cells = named_cells(page, "fx") | named_cells(page, "w") | named_cells(page, "fd")
        symbols, numbers_line = page.text("arith").split(" = ")[1:3]
        terms = symbols.split(" + ")
        factors = re.findall(r"\(?(-?[\d.]+)\)?×\(?(-?[\d.]+)\)?", numbers_line)
        assert len(terms) == len(factors), (step, symbols, numbers_line)
        for term, pair in zip(terms, factors, strict=True):
            names = term.split("·")
            assert [cells[n] for n in names] == list(pair), (step, term, pair)


def test_the_flipped_kernel_is_named_backwards(client: httpx.Client) -> None:
    page = Page(client.get("/backprop?part=input&step=1").text)
    names = [page.attrs[i]["data-name"] for i in page.attrs
             if i.startswith("kf-") and "data-name" in page.attrs[i]]
    assert names == ["w₃", "w₂", "w₁"]


def test_x_and_w_typed_into_the_url_are_the_scene(client: httpx.Client) -> None:
    response = client.get("/backprop?x=1,2,3,4,5,6&w=1,0,-1&step=1")
    assert response.status_code == 200
    page = Page(response.text)
    assert list(named_cells(page, "fx")) == [f"x{s}" for s in "₁₂₃₄₅₆"]
    # o_i = x_i − x_(i+2) = −2 for all four windows (by hand)
    assert named_cells(page, "fo") == {"o₁": "-2", "o₂": "-2", "o₃": "-2", "o₄": "-2"}
    # the preset's three δ no longer fit four outputs: δ = 1, and the page says so
    assert "δ is 1 everywhere" in response.text
    assert "∂L/∂w₁ = δ₁·x₁ + δ₂·x₂ + δ₃·x₃ + δ₄·x₄" in page.text("arith")
    assert "= 1×1 + 1×2 + 1×3 + 1×4 = 10" in page.text("arith")
    assert page.text("x-values") == "1 2 3 4 5 6" and page.text("w-values") == "1 0 -1"
    pushed = client.get("/backprop?x=1,2,3,4,5,6&step=1", headers=HTMX).headers["HX-Push-Url"]
    assert "x=1,2,3,4,5,6" in pushed
    # the preset's own values stay out of the URL
    assert "x=" not in client.get("/backprop?x=1,2,3,4,5", headers=HTMX).headers["HX-Push-Url"]


def test_a_2d_presets_x_is_a_matrix(client: httpx.Client) -> None:
    page = Page(client.get("/backprop?preset=lesson-2d&x=1,0,0;0,1,0;0,0,1").text)
    # the lesson's kernel [[0,1],[2,3]] over the identity, by hand: o(1,1) = 0·1 + 3·1 = 3,
    # o(1,2) = 2·1 = 2, o(2,1) = 1·1 = 1, o(2,2) = 0·1 + 3·1 = 3
    assert page.numbers("Output o") == [[3.0, 2.0], [1.0, 3.0]]


@pytest.mark.parametrize("query,status,message", [
    ("x=1,a", 422, "x must hold numbers separated by commas or spaces"),
    ("w=1e999", 422, "w must hold finite numbers"),
    ("x=" + ",".join(["1"] * 401), 413, "x can hold at most 400 values here (page_max_signal"),
    ("preset=channels&w=1,2", 422, "w can be typed in on the presets with one input channel"),
    ("preset=lesson-2d&x=1,2;3", 422, "x must be rectangular"),
    ("preset=lesson-2d&w=" + ";".join(["1"] * 10), 413, "page_max_kernel_side=9"),
    ("x=1,2", 422, "Kernel size can't be greater than actual input size"),
])
def test_bad_x_or_w_gets_a_message_not_a_500(client: httpx.Client, query: str, status: int,
                                             message: str) -> None:
    response = client.get(f"/backprop?{query}")
    assert response.status_code == status
    assert message in response.text.replace("&#39;", "'")
    assert len(response.text) < 200_000


def tick_labels(html: str, kind: str) -> list[float]:
    svg = re.search(r'<svg id="loss-plot".*?</svg>', html, re.S).group(0)
    return [float(v) for v in re.findall(rf'<text class="{kind}[^"]*"[^>]*>([^<]*)</text>',
                                         svg)]


def test_the_loss_plot_has_axes_with_values(client: httpx.Client) -> None:
    html = client.get("/backprop?loss=mse&epoch=6").text
    assert "loss ↑" in html and "epoch →" in html
    history = np.array(re.search(r'aria-label="Loss per epoch" data-values="([^"]+)"',
                                 html)[1].split(","), dtype=float)
    epochs, losses = tick_labels(html, "tx"), tick_labels(html, "ty")
    assert len(history) == 7 and epochs[0] == 0 and epochs[-1] <= 6 and len(epochs) >= 3
    assert all(float(e).is_integer() for e in epochs)
    assert losses[0] == 0 and len(losses) >= 2 and losses[-1] <= history.max()
    assert losses[-1] >= history.max() / 2.5  # the labels span the values drawn
