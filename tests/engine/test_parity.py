"""PyTorch parity (issue #13): parameters given as a list of one value. The expected numbers
are worked by hand, by np.pad, or by the naive loops; PyTorch itself is not installed, so its
behaviour is taken from its documentation and messages."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import backward, forward, plan
from app.engine.naive import forward_naive

# ----------------------------------------------------------------------------- 17: (v,)

X44 = np.arange(16.0).reshape(1, 1, 4, 4)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"stride": (2,)}, [[0, 2], [8, 10]], id="stride"),
        pytest.param({"stride": [3]}, [[0, 3], [12, 15]], id="stride-list"),
        # a 2x2 kernel of ones dilated 2: x[i, j] + x[i, j+2] + x[i+2, j] + x[i+2, j+2]
        pytest.param({"dilation": (2,)}, [[20, 24], [36, 40]], id="dilation"),
    ],
)
def test_a_list_of_one_value_is_that_value_on_every_axis(params, expected):
    kernel = (2, 2) if "dilation" in params else (1, 1)
    w = np.ones((1, 1, *kernel))

    assert forward(X44, w, **params)[0, 0].tolist() == expected


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize(
    ("field", "one", "every"),
    [("stride", [2], 2), ("dilation", (2,), 2), ("padding", [1], 1),
     ("padding", [[1, 2]], None)],
    ids=["stride", "dilation", "padding", "padding-pair"],
)
def test_one_value_spreads_in_every_rank(ndim, field, one, every):
    """The resolved parameters, and the output against the naive loops given the value
    written out once per axis."""
    rng = np.random.default_rng(ndim)
    x, w = rng.normal(size=(1, 2, *(5,) * ndim)), rng.normal(size=(3, 2, *(2,) * ndim))
    written_out = [[1, 2]] * ndim if every is None else [every] * ndim

    geom = plan(x.shape, w.shape, **{field: one})
    y = forward(x, w, **{field: one})

    resolved = geom.padding if field == "padding" else getattr(geom, field)
    want = ((1, 2),) * ndim if every is None else \
        ((every, every),) * ndim if field == "padding" else (every,) * ndim
    assert resolved == want
    np.testing.assert_allclose(y, forward_naive(x, w, **{field: written_out}), rtol=1e-12,
                               atol=1e-12)


def test_one_padding_pair_pads_every_axis_before_and_after():
    """``padding=[[1, 2]]`` in 2-D: one row/column of zeros before, two after, on both axes
    (np.pad's ((1, 2), (1, 2))); a 1x1 kernel of ones shows the padded input itself."""
    y = forward(X44, np.ones((1, 1, 1, 1)), padding=[[1, 2]])

    np.testing.assert_array_equal(y[0, 0], np.pad(X44[0, 0], ((1, 2), (1, 2))))
    g = backward(X44, np.ones((1, 1, 1, 1)), np.ones((1, 1, 7, 7)), padding=((1, 2),))
    np.testing.assert_array_equal(g.grad_input, np.ones_like(X44))  # the padding drops out
