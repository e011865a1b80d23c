"""Gradients, three independent ways, in float64: the naive loops, central finite differences
and the adjoint (dot-product) identity."""

from __future__ import annotations

import numpy as np
import scipy.signal
from hypothesis import given

from app.engine import backward, forward
from app.engine.naive import backward_naive

from .strategies import FAST, SLOW, backward_cases


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """``|a - b| / (|a| + |b|)`` over the whole array (0 when both are exactly zero)."""
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def central_differences(f, arr: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """d f / d arr by central differences, one element at a time (``arr`` is restored)."""
    grad = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + h
        up = f()
        arr[i] = old - h
        down = f()
        arr[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


@SLOW
@given(backward_cases())
def test_backward_matches_naive(case_dy):
    case, dy = case_dy
    before = [a.copy() for a in (case.x, case.weight, dy)]

    g = backward(case.x, case.weight, dy, **case.kwargs)
    ref = backward_naive(case.x, case.weight, dy, **case.kwargs)

    assert g._fields == ("grad_input", "grad_weight", "grad_bias")
    assert g.grad_input.shape == case.x.shape
    assert g.grad_weight.shape == case.weight.shape
    assert g.grad_bias.shape == (case.weight.shape[0],)
    for got, want in zip(g, ref, strict=True):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for arr, copy in zip((case.x, case.weight, dy), before, strict=True):
        np.testing.assert_array_equal(arr, copy)  # inputs are left alone


@SLOW
@given(backward_cases(with_bias=True))
def test_gradients_match_central_differences(case_dy):
    case, dy = case_dy
    x, w, b = case.x.copy(), case.weight.copy(), case.bias.copy()

    def loss() -> float:
        return float(np.sum(dy * forward(x, w, b, **case.kwargs)))

    g = backward(x, w, dy, **case.kwargs)

    assert rel_error(g.grad_input, central_differences(loss, x)) < 1e-6
    assert rel_error(g.grad_weight, central_differences(loss, w)) < 1e-6
    assert rel_error(g.grad_bias, central_differences(loss, b)) < 1e-6


@FAST
@given(backward_cases(with_bias=True))
def test_adjoint_identity(case_dy):
    """``<dy, conv(x, w)> == <grad_input, x> == <grad_weight, w>``: the convolution is
    bilinear, so both gradients are adjoints of it; the bias adds ``<grad_bias, b>``."""
    case, dy = case_dy

    g = backward(case.x, case.weight, dy, **case.kwargs)
    y = forward(case.x, case.weight, **case.kwargs)
    y_bias = forward(case.x, case.weight, case.bias, **case.kwargs)

    lhs = np.vdot(dy, y)
    scale = max(1.0, float(np.abs(dy).sum() * np.abs(y).max(initial=0)))
    assert abs(lhs - np.vdot(g.grad_input, case.x)) <= 1e-12 * scale
    assert abs(lhs - np.vdot(g.grad_weight, case.weight)) <= 1e-12 * scale
    assert abs(np.vdot(dy, y_bias) - lhs - np.vdot(g.grad_bias, case.bias)) <= 1e-12 * scale


@FAST
@given(backward_cases())
def test_float32_backward_gives_float32_close_to_float64(case_dy):
    case, dy = case_dy
    x32, w32, dy32 = (a.astype(np.float32) for a in (case.x, case.weight, dy))

    g32 = backward(x32, w32, dy32, **case.kwargs)
    g64 = backward(*(a.astype(np.float64) for a in (x32, w32, dy32)), **case.kwargs)

    for got, want in zip(g32, g64, strict=True):
        assert got.dtype == np.float32
        scale = max(1.0, float(np.abs(want).max(initial=0)))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)


@FAST
@given(backward_cases(batched=False))
def test_unbatched_backward_equals_batched_first_sample(case_dy):
    case, dy = case_dy

    g = backward(case.x, case.weight, dy, **case.kwargs)
    batched = backward(case.x[None], case.weight, dy[None], **case.kwargs)

    np.testing.assert_array_equal(g.grad_input, batched.grad_input[0])
    np.testing.assert_array_equal(g.grad_weight, batched.grad_weight)
    np.testing.assert_array_equal(g.grad_bias, batched.grad_bias)


def test_a_large_batch_split_into_workspace_chunks_matches_scipy():
    """Big enough that the engine works a few samples at a time (its im2col workspace is
    a few MB); every chunk must land in the right place and grad_weight must sum them all."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2, 120, 120))
    w = rng.standard_normal((3, 2, 3, 3))
    dy = rng.standard_normal((5, 3, 118, 118))

    y = forward(x, w)
    g = backward(x, w, dy)

    corr, conv = scipy.signal.correlate, scipy.signal.convolve
    y_ref = np.array([[sum(corr(x[n, c], w[co, c], "valid", method="direct") for c in range(2))
                       for co in range(3)] for n in range(5)])
    gw_ref = np.array([[sum(corr(x[n, c], dy[n, co], "valid", method="direct") for n in range(5))
                        for c in range(2)] for co in range(3)])
    gx_ref = np.array([[sum(conv(dy[n, co], w[co, c], "full", method="direct") for co in range(3))
                        for c in range(2)] for n in range(5)])
    np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(g.grad_weight, gw_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(g.grad_input, gx_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(g.grad_bias, dy.sum(axis=(0, 2, 3)), rtol=1e-12)
