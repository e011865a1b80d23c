"""The lesson's own examples (/work/shared/seed/lecture-notes.en.md), numbers copied from it."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import backward, forward
from app.engine.naive import backward_naive, forward_naive

# Section 3, "Worked example".
KERNEL = np.array([[0, 1], [2, 3]])
IMAGE = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
LESSON_OUTPUT = [[19, 25], [37, 43]]


@pytest.mark.parametrize("conv", [forward, forward_naive], ids=["vectorised", "naive"])
def test_worked_example_gives_the_lessons_numbers(conv):
    y = conv(IMAGE[None, None], KERNEL[None, None])

    assert y.shape == (1, 1, 2, 2)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y[0, 0], LESSON_OUTPUT)


def test_worked_example_first_two_outputs_are_the_lessons_sums():
    y = forward(IMAGE[None], KERNEL[None, None])[0]  # unbatched input, one channel

    assert y[0, 0] == 0 * 0 + 1 * 1 + 2 * 3 + 3 * 4 == 19
    assert y[0, 1] == 0 * 1 + 1 * 2 + 2 * 4 + 3 * 5 == 25


def test_worked_example_from_nested_lists():
    y = forward(IMAGE[None].tolist(), KERNEL[None, None].tolist())

    assert y.tolist() == [LESSON_OUTPUT]


def test_worked_example_as_true_convolution_uses_the_flipped_kernel():
    flipped = KERNEL[::-1, ::-1]  # [[3, 2], [1, 0]]
    y = forward(IMAGE[None, None], flipped[None, None], mode="convolution")

    np.testing.assert_array_equal(y[0, 0], LESSON_OUTPUT)


# Section 7, "Backpropagation through a convolution": x1..x5, w1..w3, o_i = w1 x_i + w2 x_(i+1)
# + w3 x_(i+2), upstream deltas d1..d3.
X = np.array([2.0, -1.0, 3.0, 0.5, 4.0])
W = np.array([1.5, -2.0, 0.25])
D = np.array([0.3, -1.2, 2.0])


def test_backprop_example_forward_is_the_lessons_sum():
    x1, x2, x3, x4, x5 = X
    w1, w2, w3 = W
    expected = [w1 * x1 + w2 * x2 + w3 * x3, w1 * x2 + w2 * x3 + w3 * x4,
                w1 * x3 + w2 * x4 + w3 * x5]

    np.testing.assert_allclose(forward(X[None, None], W[None, None])[0, 0], expected)


@pytest.mark.parametrize("grad", [backward, backward_naive], ids=["vectorised", "naive"])
def test_backprop_example_gradients(grad):
    x1, x2, x3, x4, x5 = X
    w1, w2, w3 = W
    d1, d2, d3 = D

    g = grad(X[None, None], W[None, None], D[None, None])

    # dL/dw_k: the deltas used as a kernel, slid over the input.
    np.testing.assert_allclose(g.grad_weight[0, 0], [
        d1 * x1 + d2 * x2 + d3 * x3,
        d1 * x2 + d2 * x3 + d3 * x4,
        d1 * x3 + d2 * x4 + d3 * x5,
    ])
    # dL/db: the sum of the deltas.
    np.testing.assert_allclose(g.grad_bias, [d1 + d2 + d3])
    # dL/dx_j: each input collects delta times the weight that touched it ...
    by_hand = [
        d1 * w1,
        d1 * w2 + d2 * w1,
        d1 * w3 + d2 * w2 + d3 * w1,
        d2 * w3 + d3 * w2,
        d3 * w3,
    ]
    np.testing.assert_allclose(g.grad_input[0, 0], by_hand)
    # ... which is the full convolution of the deltas with the kernel, i.e. the full
    # cross-correlation with the flipped kernel.
    np.testing.assert_allclose(g.grad_input[0, 0], np.convolve(D, W, mode="full"))
    np.testing.assert_allclose(g.grad_input[0, 0], np.correlate(D, W[::-1], mode="full"))
    assert g.grad_input.shape == (1, 1, 5)
    assert g.grad_weight.shape == (1, 1, 3)
    assert g.grad_bias.shape == (1,)
