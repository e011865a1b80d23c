"""``?format=numpy``: each page's script, fetched over HTTP and run with this Python in a
subprocess, prints on its last line the numbers the engine computes for that state. The
engine's numbers are computed here, from the same values, by calling its functions directly
(never the script generator)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from urllib.parse import quote

import numpy as np
import pytest

from app.engine import (
    avg_pool,
    avg_pool_backward,
    backward,
    conv_matrix,
    conv_transpose,
    forward,
    max_pool,
    max_pool_backward,
)
from app.engine.digits import split
from app.engine.layers import softmax
from app.engine.loss import train
from app.engine.training import TrainConfig, advance
from app.presets import CHANNELS, VOLUMES
from app.web.view_pool import INPUTS

#: a script computes a page with plain loops; the largest page takes well under this
TIMEOUT = 120


def run(source: str, python: str = sys.executable) -> dict:
    """Run a script's text; its last line of output, as JSON."""
    done = subprocess.run([python, "-c", source], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def script(client, url: str, flavour: str = "numpy") -> str:
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}format={flavour}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/x-python; charset=utf-8"
    page = url.split("?")[0].strip("/")
    suffix = "" if flavour == "numpy" else "-torch"
    assert response.headers["content-disposition"] == \
        f'inline; filename="convscope-{page}{suffix}.py"'
    assert "import app" not in response.text and "from app" not in response.text
    return response.text


def close(actual, expected) -> None:
    """Same shape, NaN and ±inf in the same places, finite values within 1e-12 of the
    largest magnitude (sums are added in another order than the engine's BLAS)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape
    assert (np.isnan(a) == np.isnan(e)).all()
    assert (np.isinf(a) == np.isinf(e)).all() and (a[np.isinf(a)] == e[np.isinf(e)]).all()
    finite = np.isfinite(e)
    scale = max(1.0, float(np.abs(e[finite]).max())) if finite.any() else 1.0
    assert np.abs(a[finite] - e[finite]).max(initial=0) <= 1e-12 * scale


def rows(a) -> str:
    """Values for a URL, each written exactly (``1e+300``'s plus escaped), rows by ``;``."""
    a = np.asarray(a, dtype=np.float64)
    return ";".join(",".join(quote(repr(float(v))) for v in row) for row in np.atleast_2d(a))


# ------------------------------------------------------------------------- the cases

X2 = np.array([[1.5, -2.0, 0.0, 3.25], [-0.0, 4.0, -1.0, 2.0], [0.5, 1.0, -3.0, 7.0]])
W2 = np.array([[1.0, -0.5], [2.0, 0.25]])


def case_2d_same_reflect():
    url = (f"/2d?x={rows(X2)}&w={rows(W2)}&padding=same&padding_mode=reflect"
           "&mode=convolution&bias=0.5")
    y = forward(X2[None, None], W2[None, None], [0.5], padding="same", padding_mode="reflect",
                mode="convolution")[0, 0]
    return url, {"output": y}


def case_2d_strided_circular():
    x = np.arange(36.0).reshape(6, 6) / 7
    w = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.0, 1.0, -2.0]])
    url = f"/2d?x={rows(x)}&w={rows(w)}&padding=3,2&padding_mode=circular&stride=2&dilation=2"
    y = forward(x[None, None], w[None, None], padding=(3, 2), padding_mode="circular", stride=2,
                dilation=2)[0, 0]
    return url, {"output": y}


def case_2d_overflow():
    """Products past float64: ∞ and −∞, as the page shows them. (Not NaN: where +∞ meets −∞
    in one window the engine's BLAS product gives ±∞ and its naive loops NaN.)"""
    x = np.array([[1e300, 1e300, 2.0], [-1e300, -1e300, -0.0]])
    w = np.array([[1e300, 1e300]])
    url = f"/2d?x={rows(x)}&w={rows(w)}"
    with np.errstate(over="ignore", invalid="ignore"):
        y = forward(x[None, None], w[None, None])[0, 0]
    assert np.isposinf(y).any() and np.isneginf(y).any()  # the case has both
    return url, {"output": y}


def case_1d():
    x = np.array([0.1, 0.2, -0.3, 4.0, 5.5, -6.0, 7.0, 0.0, 1e-300])
    w = np.array([1.0, -2.0, 0.5])
    url = (f"/1d?view=discrete&x={rows(x)}&w={rows(w)}"
           "&padding=2&padding_mode=replicate&dilation=2&stride=2&mode=convolution")
    y = forward(x[None], w[None, None], padding=2, padding_mode="replicate", dilation=2,
                stride=2, mode="convolution")[0]
    return url, {"output": y}


def case_3d():
    _, volume, kernel = VOLUMES["box"]
    y = forward(np.asarray(volume, float)[None, None], np.asarray(kernel, float)[None, None],
                padding=1, stride=2)[0, 0]
    return "/3d?volume=box&padding=1&stride=2", {"output": y}


def case_channels_groups():
    example = CHANNELS["three-kernels"]
    c_out, c_in = np.shape(example.w)[:2]
    groups = math.gcd(c_out, c_in)
    y = forward(np.asarray(example.x, float), example.weight(groups),
                None if example.bias is None else np.asarray(example.bias, float),
                padding=1, groups=groups)
    return f"/channels?preset=three-kernels&groups={groups}&padding=1", {"output": y}


def case_backprop_lesson():
    """The lesson's 1-D example, δ given: the numbers the lesson works out by hand."""
    return "/backprop", {"output": [[3.0, 5.0, 7.0]], "delta": [[1.0, -1.0, 2.0]],
                         "grad_input": [[2.0, -3.0, 6.0, -3.0, 2.0]],
                         "grad_weight": [[[5.0, 7.0, 9.0]]], "grad_bias": [2.0]}


def case_backprop_trained():
    """MSE to a target after 4 gradient-descent updates of the kernel, padding 1."""
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [2.0, 1.0, 4.0]])
    w = np.array([[0.5, -1.0], [0.25, 2.0]])
    target = np.arange(16.0).reshape(4, 4) / 10
    url = (f"/backprop?preset=lesson-2d&x={rows(x)}&w={rows(w)}&loss=mse&padding=1"
           f"&target={rows(target.ravel())}&epoch=4&eta=0.01")
    xs, ws = x[None], w[None, None]
    trained = train(xs, ws, loss="mse", eta=0.01, epochs=4, target=target[None],
                    padding=1).weight
    y = forward(xs, trained, padding=1)
    delta = 2 * (y - target[None]) / y.size
    g = backward(xs, trained, delta, padding=1)
    return url, {"output": y, "delta": delta, "grad_input": g.grad_input,
                 "grad_weight": g.grad_weight, "grad_bias": g.grad_bias,
                 "loss": float(np.mean((y - target[None]) ** 2))}


def case_matrix():
    x = np.array([[1.0, 2.0, -1.0], [0.5, 3.0, 4.0], [-2.0, 1.0, 0.0]])
    w = np.array([[1.0, -1.0], [2.0, 0.5]])
    delta = np.array([1.0, -2.0, 3.0, 0.5, 1.0, -1.0, 2.0, 0.0, 4.0, 0.25, -3.0, 1.0, 2.0,
                      -1.0, 0.5, 6.0])
    url = (f"/matrix?x={rows(x)}&w={rows(w)}&padding=1&stride=1&mode=convolution"
           f"&delta={rows(delta)}&matrix=W")
    y = forward(x[None, None], w[None, None], padding=1, mode="convolution")[0, 0]
    matrix = conv_matrix((1, 3, 3), w[None, None], padding=1, mode="convolution")
    g = backward(x[None, None], w[None, None], delta.reshape(1, 1, *y.shape), padding=1,
                 mode="convolution")
    return url, {"W": matrix, "output": y, "grad_input": g.grad_input[0, 0]}


def case_transposed():
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    w = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [2.0, 1.0, -2.0]])
    url = f"/transposed?x={rows(x)}&w={rows(w)}&stride=2&padding=1&output_padding=1"
    y = conv_transpose(x[None, None], w[None, None], stride=2, padding=1,
                       output_padding=1)[0, 0]
    return url, {"output": y}


def case_pool_max_backward():
    x = np.asarray(INPUTS["peak"][1], float)
    url = "/pool?input=peak&kernel=3&stride=2&padding=1&ceil_mode=1&part=backward"
    y = max_pool(x[None, None], 3, stride=2, padding=1, ceil_mode=True)[0, 0]
    delta = np.arange(1.0, y.size + 1).reshape(y.shape)
    grad = max_pool_backward(x[None, None], delta[None, None], 3, stride=2, padding=1,
                             ceil_mode=True)[0, 0]
    return url, {"output": y, "grad_input": grad}


def case_pool_avg_backward():
    x = np.asarray(INPUTS["peak"][1], float)
    url = ("/pool?input=peak&kind=avg&kernel=3&stride=2&padding=1&ceil_mode=1"
           "&count_include_pad=0&part=backward&compare=1")
    params = {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}
    y = avg_pool(x[None, None], 3, **params)[0, 0]
    delta = np.arange(1.0, y.size + 1).reshape(y.shape)
    grad = avg_pool_backward(x[None, None], delta[None, None], 3, **params)[0, 0]
    conv = forward(x[None, None], np.full((1, 1, 3, 3), 1 / 9), stride=2, padding=1)[0, 0]
    return url, {"output": y, "grad_input": grad, "conv_output": conv}


def case_network():
    """After 3 training steps, test digit 5: the logits and probabilities."""
    trained = advance(TrainConfig(seed=0, lr=0.01, batch_size=32), 3, 3, 1, 1)
    net = trained.network()
    x = split().test.inputs()[4:5]
    logits = net.forward(x)
    p = softmax(logits)[0]
    return "/network?steps=3&digit=5", {"logits": logits[0], "probabilities": p,
                                        "predicted": int(np.argmax(p))}


CASES = [case_2d_same_reflect, case_2d_strided_circular, case_2d_overflow, case_1d, case_3d,
         case_channels_groups, case_backprop_lesson, case_backprop_trained, case_matrix,
         case_transposed, case_pool_max_backward, case_pool_avg_backward, case_network]


def check(result: dict, expected: dict) -> None:
    assert set(expected) <= set(result)
    for key, value in expected.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            close([result[key]], [value])
        else:
            close(result[key], value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_numpy_script_prints_the_engines_numbers(client, case) -> None:
    url, expected = case()
    check(run(script(client, url)), expected)


def test_script_reads_as_a_lesson(client) -> None:
    """What a teacher shows: the page's address, the arrays as literals written exactly,
    the padding as cells, no ConvScope import, the JSON printed last."""
    text = script(client, f"/2d?x={rows(X2)}&w={rows(W2)}&padding=same&padding_mode=reflect")
    assert "Page: http://127.0.0.1:" in text and "/2d?x=" in text and "format=" not in text
    assert "x = np.array([[[[1.5, -2.0, 0.0, 3.25],\n                [-0.0, 4.0" in text
    assert "padding = ((0, 1), (0, 1))" in text  # "same" with an even kernel: after
    assert "mode='reflect'" in text
    assert "import app" not in text and "from app" not in text
    assert text.rstrip().endswith("print(json.dumps(result))")


def test_a_scene_that_cannot_be_built_says_why(client) -> None:
    response = client.get("/2d?x=1,2;3,4&w=1,1,1;1,1,1;1,1,1&format=numpy")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/plain")
    assert "kernel" in response.text.lower()
