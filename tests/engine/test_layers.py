"""ReLU, the linear layer and softmax cross-entropy: the vectorised functions against the
definitions written as loops, their gradients against central finite differences, the
loss's stability worked by hand, and every validation message."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from app.engine import ConvolutionError, ShapeError, ValueRangeError
from app.engine.layers import (
    linear,
    linear_backward,
    relu,
    relu_backward,
    softmax_cross_entropy,
)
from app.engine.loss import finite_difference_error
from app.engine.naive import linear_naive, relu_naive, softmax_cross_entropy_naive

from .strategies import FAST, real_arrays

# away from ReLU's kink at 0, where a central difference averages the two slopes
off_zero = st.tuples(st.floats(0.01, 2), st.sampled_from((-1, 1))).map(lambda p: p[0] * p[1])
shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)


@st.composite
def linear_cases(draw):
    batched = draw(st.booleans())
    n, f_in, f_out = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
    x = draw(real_arrays((n, f_in) if batched else (f_in,)))
    w = draw(real_arrays((f_out, f_in)))
    b = draw(st.none() | real_arrays((f_out,)))
    dy = draw(real_arrays((n, f_out) if batched else (f_out,)))
    return x, w, b, dy


@st.composite
def classification(draw):
    n, k = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    logits = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-30, 30)))
    labels = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return logits, labels


# ----------------------------------------------------------------------------- ReLU


def test_relu_keeps_the_positive_values_and_their_gradient():
    assert relu([[-2.0, 0.0, 3.0]]).tolist() == [[0, 0, 3]]
    assert relu_backward([[-2.0, 0.0, 3.0]], [[5.0, 6.0, 7.0]]).tolist() == [[0, 0, 7]]


@FAST
@given(x=shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=off_zero)))
def test_relu_is_the_definition_and_its_gradient_the_slope(x):
    np.testing.assert_array_equal(relu(x), relu_naive(x))
    dy = np.linspace(-1, 1, x.size).reshape(x.shape)
    error = finite_difference_error(lambda a: float(np.sum(dy * relu(a))), x.copy(),
                                    relu_backward(x, dy))
    assert error < 1e-8


# ----------------------------------------------------------------------------- linear


def test_linear_is_x_times_w_transposed_plus_b():
    x, w, b = [[1.0, 2.0]], [[1.0, 0.0], [0.5, -1.0], [2.0, 3.0]], [0.0, 1.0, -1.0]
    assert linear(x, w, b).tolist() == [[1.0, -0.5, 7.0]]
    g = linear_backward(x, w, [[1.0, 2.0, 0.0]])
    assert g.grad_input.tolist() == [[2.0, -2.0]]  # 1·(1, 0) + 2·(0.5, -1)
    assert g.grad_weight.tolist() == [[1, 2], [2, 4], [0, 0]]
    assert g.grad_bias.tolist() == [1, 2, 0]


@FAST
@given(case=linear_cases())
def test_linear_is_the_definition_and_its_gradients_finite_differences(case):
    x, w, b, dy = case
    np.testing.assert_allclose(linear(x, w, b), linear_naive(x, w, b), rtol=1e-13, atol=1e-13)
    g = linear_backward(x, w, dy)
    assert g.grad_input.shape == x.shape and g.grad_weight.shape == w.shape
    for array, grad, objective in (
        (x, g.grad_input, lambda a: float(np.sum(dy * linear(a, w, b)))),
        (w, g.grad_weight, lambda a: float(np.sum(dy * linear(x, a, b)))),
    ):
        assert finite_difference_error(objective, array.copy(), grad) < 1e-6
    bias = np.zeros(w.shape[0]) if b is None else b
    assert finite_difference_error(lambda a: float(np.sum(dy * linear(x, w, a))), bias.copy(),
                                   g.grad_bias) < 1e-6


def test_linear_keeps_float32():
    x, w = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)
    assert linear(x, w).dtype == np.float32
    assert linear_backward(x, w, np.ones((2, 4), np.float32)).grad_weight.dtype == np.float32
    assert linear(x, w.astype(np.float64)).dtype == np.float64


# ----------------------------------------------------------------------------- the loss


def test_cross_entropy_of_even_scores_is_log_k_and_its_gradient_points_at_the_label():
    loss, grad = softmax_cross_entropy([[0.0, 0.0, 0.0, 0.0]], [2])
    assert loss == pytest.approx(math.log(4))
    np.testing.assert_allclose(grad, [[0.25, 0.25, -0.75, 0.25]])


def test_cross_entropy_is_stable_for_huge_logits():
    """exp(1000) overflows float64; shifted by the row's max it is exp(0)."""
    loss, grad = softmax_cross_entropy([[1000.0, 0.0], [1000.0, 0.0]], [0, 1])
    # row 1: -log(1 / (1 + e^-1000)) = 0; row 2: -log(e^-1000 / (1 + e^-1000)) = 1000
    assert loss == pytest.approx(500.0)
    np.testing.assert_allclose(grad, [[0.0, 0.0], [0.5, -0.5]], atol=1e-300)
    assert np.isfinite(softmax_cross_entropy([[-1e300, 1e300]], [0])[0])


@FAST
@given(case=classification())
def test_cross_entropy_is_the_definition_and_its_gradient_finite_differences(case):
    logits, labels = case
    loss, grad = softmax_cross_entropy(logits, labels)
    want_loss, want_grad = softmax_cross_entropy_naive(logits, labels)
    assert loss == pytest.approx(want_loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12)  # softmax sums to 1
    error = finite_difference_error(lambda z: softmax_cross_entropy(z, labels)[0],
                                    logits.copy(), grad)
    # relative to the largest gradient; a tiny one (a confident right answer) is checked in
    # absolute terms, as a difference quotient of a loss near 1 cannot resolve it further
    assert error < 1e-6 or error * np.abs(grad).max() < 1e-9


# ----------------------------------------------------------------------------- validation

X, W = np.ones((2, 3)), np.ones((4, 3))

CASES = [
    pytest.param(lambda: relu("abc"), ValueRangeError, "input",
                 r"input must be a rectangular array of real numbers", id="relu-string"),
    pytest.param(lambda: relu([1.0, np.nan]), ValueRangeError, "input",
                 r"input must hold finite numbers", id="relu-nan"),
    pytest.param(lambda: relu_backward(X, np.ones(3)), ShapeError, "grad_output",
                 r"grad_output must have the input's shape \[2, 3\], got \[3\]",
                 id="relu-grad-shape"),
    pytest.param(lambda: linear(X, np.ones(3)), ShapeError, "weight",
                 r"weight must have 2 dimensions \(F_out, F_in\), got 1 dimensions with shape "
                 r"\[3\]", id="linear-weight-rank"),
    pytest.param(lambda: linear(np.ones((2, 3, 1)), W), ShapeError, "input",
                 r"expected input with 2 dimensions \(N, F_in\) or 1 \(F_in,\), got 3 "
                 r"dimensions with shape \[2, 3, 1\]", id="linear-input-rank"),
    pytest.param(lambda: linear(np.ones((2, 5)), W), ShapeError, "input",
                 r"input has 5 features \(its last dimension\) but weight expects 3 \(weight "
                 r"is \[4, 3\]: F_out, F_in\)", id="linear-features"),
    pytest.param(lambda: linear(X, W, np.ones(3)), ShapeError, "bias",
                 r"bias must have shape \[4\] \(one value per output feature\), got shape \[3\]",
                 id="linear-bias"),
    pytest.param(lambda: linear(X, np.ones((0, 3))), ShapeError, "weight",
                 r"weight has an empty dimension: shape \[0, 3\]", id="linear-empty-weight"),
    pytest.param(lambda: linear(X, W, [np.inf] * 4), ValueRangeError, "bias",
                 r"bias must hold finite numbers", id="linear-bias-inf"),
    pytest.param(lambda: linear_backward(X, W, np.ones((2, 3))), ShapeError, "grad_output",
                 r"grad_output must have the output's shape \[2, 4\], got \[2, 3\]",
                 id="linear-grad-shape"),
    pytest.param(lambda: softmax_cross_entropy(np.ones(3), [0]), ShapeError, "logits",
                 r"logits must have 2 dimensions \(N, K\): a score per sample and class, got "
                 r"1 dimensions with shape \[3\]", id="ce-logits-rank"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((0, 3)), []), ShapeError, "logits",
                 r"logits has an empty dimension: shape \[0, 3\]; a mean loss needs at least "
                 r"one sample and one class", id="ce-no-samples"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((2, 3)), [0.0, 1.0]), ValueRangeError,
                 "labels", r"labels must be integers \(class indices\), got dtype float64",
                 id="ce-float-labels"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((2, 3)), [True, False]),
                 ValueRangeError, "labels", r"labels must be integers \(class indices\), got "
                 r"dtype bool", id="ce-bool-labels"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((2, 3)), [[0], [1, 2]]),
                 ValueRangeError, "labels", r"labels must be a list of integers \(class "
                 r"indices\), got \[\[0\], \[1, 2\]\]", id="ce-ragged-labels"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((2, 3)), [0, 1, 2]), ShapeError,
                 "labels", r"labels must have shape \[2\] \(one class per sample\), got shape "
                 r"\[3\]", id="ce-labels-count"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((2, 3)), [0, 3]), ValueRangeError,
                 "labels", r"labels must be classes from 0 to 2, got 3", id="ce-label-too-big"),
    pytest.param(lambda: softmax_cross_entropy(np.ones((2, 3)), [-1, 0]), ValueRangeError,
                 "labels", r"labels must be classes from 0 to 2, got -1", id="ce-label-negative"),
]


@pytest.mark.parametrize(("call", "error", "field", "message"), CASES)
def test_invalid_layer_arguments_are_refused(call, error, field, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert info.value.field == field
    assert isinstance(info.value, ConvolutionError)
