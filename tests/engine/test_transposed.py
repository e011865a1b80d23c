"""The transposed convolution: examples worked by hand, an independent oracle (zeros
inserted between the input's elements, then SciPy's full convolution), the naive loops,
central finite differences and the two adjoint identities with the convolution, in float64,
over 1-D, 2-D and 3-D with every parameter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

from app.engine import (
    backward,
    conv_transpose,
    conv_transpose_backward,
    conv_transpose_output_shape,
    forward,
    overlap_counts,
    plan_transposed,
)
from app.engine.naive import conv_transpose_backward_naive, conv_transpose_naive, stamps

from .strategies import (
    FAST,
    SLOW,
    conv_cases,
    real_arrays,
    transposed_backward_cases,
    transposed_cases,
)
from .test_backward import central_differences, rel_error


def test_two_stamps_overlap_where_the_stride_is_shorter_than_the_kernel():
    # x1 = 1 stamps 1, 10, 100 at cells 0-2; x2 = 2 stamps 2, 20, 200 at cells 2-4
    y = conv_transpose([[1.0, 2.0]], [[[1.0, 10.0, 100.0]]], stride=2)
    assert y.tolist() == [[1.0, 10.0, 102.0, 20.0, 200.0]]


def test_stamps_tile_without_overlap_when_the_stride_is_the_kernel_size():
    x = [[[1.0, 2.0], [3.0, 4.0]]]
    w = [[[[1.0, 2.0], [3.0, 4.0]]]]
    assert conv_transpose(x, w, stride=2).tolist() == [[
        [1, 2, 2, 4], [3, 4, 6, 8], [3, 6, 4, 8], [9, 12, 12, 16]]]


def test_stride_one_is_the_full_convolution():
    x = [[[1.0, 2.0], [3.0, 4.0]]]
    ones = [[[[1.0, 1.0], [1.0, 1.0]]]]
    assert conv_transpose(x, ones).tolist() == [[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]


def test_padding_crops_both_ends_and_output_padding_gives_cells_back_at_the_end():
    x, w = [[1.0, 2.0]], [[[1.0, 10.0, 100.0]]]  # uncropped: 1, 10, 102, 20, 200
    assert conv_transpose(x, w, stride=2, padding=1).tolist() == [[10.0, 102.0, 20.0]]
    assert conv_transpose(x, w, stride=2, padding=1, output_padding=1).tolist() == [
        [10.0, 102.0, 20.0, 200.0]]


def test_output_padding_past_what_any_stamp_reaches_is_zeros():
    # dilation 3 allows output_padding 2 with stride 1; one stamp: cells 0 and 3
    y = conv_transpose([[5.0]], [[[1.0, 2.0]]], dilation=3, output_padding=2)
    assert y.tolist() == [[5.0, 0.0, 0.0, 10.0, 0.0, 0.0]]


def test_a_padding_that_crops_every_stamp_leaves_the_bias():
    # one stamp at cell 0, padding 1 crops it; output_padding 2 (dilation 3) keeps one cell
    y = conv_transpose([[5.0]], [[[7.0]]], [0.5], padding=1, output_padding=2, dilation=3)
    assert y.tolist() == [[0.5]]
    g = conv_transpose_backward([[5.0]], [[[7.0]]], [[2.0]], padding=1, output_padding=2,
                                dilation=3)
    assert (g.grad_input.tolist(), g.grad_weight.tolist(), g.grad_bias.tolist()) == (
        [[0.0]], [[[0.0]]], [2.0])


def test_groups_stamp_each_group_into_its_own_output_channels():
    x = np.array([[[1.0], [2.0]]])  # two input channels, one cell each
    w = np.array([[[3.0], [4.0]], [[5.0], [6.0]]])  # each: C_out / groups = 2 kernels
    y = conv_transpose(x, w, groups=2)
    assert y.tolist() == [[[3.0], [4.0], [10.0], [12.0]]]
    assert conv_transpose(x, w).tolist() == [[[3.0 + 10.0], [4.0 + 12.0]]]


def test_bias_is_added_to_every_cell_of_its_channel():
    y = conv_transpose([[1.0]], [[[1.0, 1.0], [2.0, 2.0]]], [10.0, 20.0])
    assert y.tolist() == [[11.0, 11.0], [22.0, 22.0]]


def zero_insertion(x: np.ndarray, w: np.ndarray, stride, padding, output_padding,
                   dilation) -> np.ndarray:
    """The textbook construction, single channel: put ``stride - 1`` zeros between the
    input's elements and ``dilation - 1`` between the kernel's, take SciPy's full
    convolution, crop ``padding`` from both ends and pad ``output_padding`` zeros after.

    x : ndarray, shape (*spatial); w : ndarray, shape (*kernel)
    """
    spread = np.zeros([(i - 1) * s + 1 for i, s in zip(x.shape, stride, strict=True)])
    spread[tuple(slice(None, None, s) for s in stride)] = x
    holes = np.zeros([(k - 1) * d + 1 for k, d in zip(w.shape, dilation, strict=True)])
    holes[tuple(slice(None, None, d) for d in dilation)] = w
    full = scipy.signal.convolve(spread, holes, mode="full", method="direct")
    full = np.pad(full, [(0, op) for op in output_padding])
    return full[tuple(slice(p, full.shape[a] - p) for a, p in enumerate(padding))]


@SLOW
@given(transposed_cases(with_bias=False, batched=False, empty_batch=False),
       st.data())
def test_single_channels_match_zero_insertion_and_scipy(case, data):
    one = data.draw(st.integers(0, case.x.shape[0] - 1))
    x, w = case.x[one:one + 1], case.weight[one:one + 1, :1]
    kwargs = {**case.kwargs, "groups": 1}
    got = conv_transpose(x, w, **kwargs)[0]
    want = zero_insertion(x[0], w[0, 0], case.stride, case.padding, case.output_padding,
                          case.dilation)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@SLOW
@given(transposed_cases())
def test_conv_transpose_matches_naive(case):
    before = [a.copy() for a in (case.x, case.weight)]
    y = conv_transpose(case.x, case.weight, case.bias, **case.kwargs)
    assert y.shape == case.output_shape
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, conv_transpose_naive(case.x, case.weight, case.bias,
                                                       **case.kwargs), rtol=1e-12, atol=1e-12)
    for arr, copy in zip((case.x, case.weight), before, strict=True):
        np.testing.assert_array_equal(arr, copy)  # inputs are left alone


@SLOW
@given(transposed_backward_cases())
def test_conv_transpose_backward_matches_naive(case_dy):
    case, dy = case_dy
    g = conv_transpose_backward(case.x, case.weight, dy, **case.kwargs)
    ref = conv_transpose_backward_naive(case.x, case.weight, dy, **case.kwargs)
    assert g._fields == ("grad_input", "grad_weight", "grad_bias")
    assert g.grad_input.shape == case.x.shape
    assert g.grad_weight.shape == case.weight.shape
    assert g.grad_bias.shape == (case.c_out,)
    for got, want in zip(g, ref, strict=True):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@SLOW
@given(transposed_backward_cases(with_bias=True, empty_batch=False))
def test_gradients_match_central_differences(case_dy):
    case, dy = case_dy
    x, w, b = case.x.copy(), case.weight.copy(), case.bias.copy()

    def loss() -> float:
        return float(np.sum(dy * conv_transpose(x, w, b, **case.kwargs)))

    g = conv_transpose_backward(x, w, dy, **case.kwargs)

    assert rel_error(g.grad_input, central_differences(loss, x)) < 1e-6
    assert rel_error(g.grad_weight, central_differences(loss, w)) < 1e-6
    assert rel_error(g.grad_bias, central_differences(loss, b)) < 1e-6


def _conv_params(case) -> dict:
    return {k: v for k, v in case.kwargs.items() if k != "output_padding"}


@FAST
@given(transposed_cases(with_bias=False), st.data())
def test_the_transposed_convolution_is_the_adjoint_of_the_convolution(case, data):
    """``<conv_transpose(y), x> == <y, conv(x)>``, same weight and geometry, for y of the
    transposed convolution's input shape and x of its output shape. (With output_padding at
    or above the stride, which a larger dilation allows, the convolution of that longer x
    has more outputs than y has cells: the extra ones meet nothing.)"""
    y = case.x
    x = data.draw(real_arrays(case.output_shape))
    conv = forward(x, case.weight, **_conv_params(case))
    conv = conv[(Ellipsis, *(slice(0, i) for i in y.shape[-case.ndim:]))]
    lhs = np.vdot(conv_transpose(y, case.weight, **case.kwargs), x)
    rhs = np.vdot(y, conv)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, float(np.abs(y).sum() * np.abs(conv).max(
        initial=0)))


@FAST
@given(transposed_backward_cases(with_bias=True))
def test_the_gradients_are_adjoints_of_the_bilinear_map(case_dy):
    """``<dy, conv_transpose(x, w)> == <grad_input, x> == <grad_weight, w>``; the bias adds
    ``<grad_bias, b>``."""
    case, dy = case_dy
    g = conv_transpose_backward(case.x, case.weight, dy, **case.kwargs)
    y = conv_transpose(case.x, case.weight, **case.kwargs)
    y_bias = conv_transpose(case.x, case.weight, case.bias, **case.kwargs)
    lhs = np.vdot(dy, y)
    scale = max(1.0, float(np.abs(dy).sum() * np.abs(y).max(initial=0)))
    assert abs(lhs - np.vdot(g.grad_input, case.x)) <= 1e-12 * scale
    assert abs(lhs - np.vdot(g.grad_weight, case.weight)) <= 1e-12 * scale
    assert abs(np.vdot(dy, y_bias) - lhs - np.vdot(g.grad_bias, case.bias)) <= 1e-12 * scale


@FAST
@given(conv_cases(padding_forms=("int", "per-dim", "one-int", "valid", "full"),
                  padding_modes=("zeros",), modes=("cross-correlation",)), st.data())
def test_the_convolutions_input_gradient_is_the_transposed_convolution_of_the_deltas(
        case, data):
    """``grad_input`` of ``conv(x)`` for deltas δ is ``conv_transpose(δ)`` with the same
    weight and geometry, ``output_padding`` being what the convolution's rounding down left
    over at the end of each axis."""
    dy = data.draw(real_arrays(case.output_shape))
    params = {k: v for k, v in case.kwargs.items() if k not in ("padding_mode", "mode")}
    padding = [b for b, _ in case.pairs]
    leftover = [(i + 2 * p - d * (k - 1) - 1) % s for i, p, d, k, s in zip(
        case.x.shape[-case.ndim:], padding, case.dilation, case.weight.shape[2:], case.stride,
        strict=True)]
    grad_input = backward(case.x, case.weight, dy, **case.kwargs).grad_input
    transposed = conv_transpose(dy, case.weight, **{**params, "padding": padding},
                                output_padding=leftover)
    assert transposed.shape == case.x.shape
    np.testing.assert_allclose(transposed, grad_input, rtol=1e-12, atol=1e-12)


@FAST
@given(transposed_backward_cases())
def test_the_input_gradient_is_the_convolution_of_the_deltas(case_dy):
    """Each input element's gradient reads its stamp back: the deltas convolved (a plain
    strided convolution) with the same weight, as far as the input reaches."""
    case, dy = case_dy
    g = conv_transpose_backward(case.x, case.weight, dy, **case.kwargs)
    conv = forward(dy, case.weight, **_conv_params(case))
    conv = conv[(Ellipsis, *(slice(0, i) for i in case.x.shape[-case.ndim:]))]
    np.testing.assert_allclose(g.grad_input, conv, rtol=1e-12, atol=1e-12)


@FAST
@given(transposed_cases())
def test_the_output_shape_helper_is_the_formula_and_the_real_shape(case):
    predicted = conv_transpose_output_shape(case.x.shape, case.weight.shape, **case.kwargs)
    assert predicted == case.output_shape
    assert conv_transpose(case.x, case.weight, case.bias, **case.kwargs).shape == predicted
    geom = plan_transposed(case.x.shape, case.weight.shape, **case.kwargs)
    assert (geom.stride, geom.padding, geom.output_padding, geom.dilation) == (
        case.stride, case.padding, case.output_padding, case.dilation)


@pytest.mark.parametrize(("input_shape", "weight_shape", "params", "expected"), [
    pytest.param((1, 1, 2), (1, 1, 3), {"stride": 2}, (1, 1, 5), id="1d-overlap"),
    pytest.param((8, 32, 32, 32), (32, 16, 4, 4), {"stride": 2, "padding": 1},
                 (8, 16, 64, 64), id="dcgan-doubles"),
    pytest.param((1, 16, 7, 7), (16, 8, 3, 3), {"stride": 2, "padding": 1},
                 (1, 8, 13, 13), id="odd-k3-s2-p1"),
    pytest.param((1, 16, 7, 7), (16, 8, 3, 3),
                 {"stride": 2, "padding": 1, "output_padding": 1}, (1, 8, 14, 14),
                 id="output-padding-restores-the-even-size"),
    pytest.param((16, 7, 7), (16, 8, 3, 3), {"stride": [2, 1]}, (8, 15, 9), id="unbatched"),
    pytest.param((1, 4, 3), (4, 2, 2), {"groups": 2, "dilation": 3, "output_padding": 2},
                 (1, 4, 8), id="groups-dilation-output-padding-above-stride"),
    pytest.param((1, 1, 2, 2, 2), (1, 1, 1, 1, 1), {"stride": 3}, (1, 1, 4, 4, 4), id="3d"),
    pytest.param((1, 1, 2, 2, 2, 2), (1, 1, 2, 2, 2, 2), {}, (1, 1, 3, 3, 3, 3), id="4d"),
])
def test_output_shape_examples(input_shape, weight_shape, params, expected):
    assert conv_transpose_output_shape(input_shape, weight_shape, **params) == expected


@FAST
@given(transposed_cases())
def test_float32_stays_float32_close_to_float64(case):
    x32, w32 = case.x.astype(np.float32), case.weight.astype(np.float32)
    b32 = None if case.bias is None else case.bias.astype(np.float32)
    y32 = conv_transpose(x32, w32, b32, **case.kwargs)
    y64 = conv_transpose(x32.astype(np.float64), w32.astype(np.float64),
                         None if b32 is None else b32.astype(np.float64), **case.kwargs)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-5, atol=1e-5 * max(1, np.abs(y64).max(
        initial=0)))
    dy = np.ones(y32.shape, np.float32)
    assert all(g.dtype == np.float32 for g in conv_transpose_backward(x32, w32, dy,
                                                                      **case.kwargs))


def test_a_mix_of_dtypes_and_nested_lists_compute_in_float64():
    x32 = np.ones((1, 1, 2), np.float32)
    assert conv_transpose(x32, np.ones((1, 1, 2))).dtype == np.float64
    assert conv_transpose(x32, np.ones((1, 1, 2), np.float32), [1.0]).dtype == np.float64
    assert conv_transpose([[1, 2]], [[[True, False]]]).tolist() == [[1.0, 2.0, 0.0]]
    g = conv_transpose_backward(x32, np.ones((1, 1, 2), np.float32), [[[1.0, 1.0, 1.0]]])
    assert g.grad_input.dtype == np.float64


@FAST
@given(transposed_backward_cases(batched=False))
def test_unbatched_equals_the_batched_first_sample(case_dy):
    case, dy = case_dy
    y = conv_transpose(case.x, case.weight, case.bias, **case.kwargs)
    np.testing.assert_array_equal(
        y, conv_transpose(case.x[None], case.weight, case.bias, **case.kwargs)[0])
    g = conv_transpose_backward(case.x, case.weight, dy, **case.kwargs)
    batched = conv_transpose_backward(case.x[None], case.weight, dy[None], **case.kwargs)
    np.testing.assert_array_equal(g.grad_input, batched.grad_input[0])
    np.testing.assert_array_equal(g.grad_weight, batched.grad_weight)
    np.testing.assert_array_equal(g.grad_bias, batched.grad_bias)


def test_an_empty_batch_gives_an_empty_output_and_zero_parameter_gradients():
    x, w = np.ones((0, 2, 3, 3)), np.ones((2, 3, 2, 2))
    y = conv_transpose(x, w, np.ones(3), stride=2)
    assert y.shape == (0, 3, 6, 6)
    g = conv_transpose_backward(x, w, np.ones((0, 3, 6, 6)), stride=2)
    assert g.grad_input.shape == (0, 2, 3, 3)
    assert g.grad_weight.tolist() == np.zeros((2, 3, 2, 2)).tolist()
    assert g.grad_bias.tolist() == [0.0, 0.0, 0.0]


def test_a_large_batch_cut_into_workspace_blocks_matches_stamping_tap_by_tap():
    """Large enough that the adjoint convolution works in several im2col blocks; checked
    against an oracle written with einsum, one kernel tap at a time, on the uncropped output
    (cell u = t + padding): tap (a, b) of input cell (h, w) lands on u = (2h + a, 2w + b)."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((6, 8, 40, 40)), rng.standard_normal((8, 4, 3, 3))
    params = {"stride": 2, "padding": 1, "output_padding": 1}
    y = conv_transpose(x, w, **params)
    assert y.shape == (6, 4, 80, 80)  # 39 x 2 - 2 + 2 + 1 + 1
    uncropped = np.zeros((6, 4, 81, 81))
    for a, b in itertools.product(range(3), range(3)):
        uncropped[:, :, a:a + 80:2, b:b + 80:2] += np.einsum("nchw,co->nohw", x, w[:, :, a, b])
    np.testing.assert_allclose(y, uncropped[:, :, 1:, 1:], rtol=1e-12, atol=1e-12)

    dy = rng.standard_normal(y.shape)
    g = conv_transpose_backward(x, w, dy, **params)
    dyu = np.pad(dy, [(0, 0), (0, 0), (1, 0), (1, 0)])  # back on the uncropped grid
    grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
    for a, b in itertools.product(range(3), range(3)):
        under = dyu[:, :, a:a + 80:2, b:b + 80:2]  # the delta under tap (a, b) of each cell
        grad_x += np.einsum("nohw,co->nchw", under, w[:, :, a, b])
        grad_w[:, :, a, b] = np.einsum("nchw,nohw->co", x, under)
    np.testing.assert_allclose(g.grad_input, grad_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g.grad_weight, grad_w, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(g.grad_bias, dy.sum(axis=(0, 2, 3)), rtol=1e-12)


def _stamp_counts(geom) -> np.ndarray:
    """The overlap by the definition: every input position stamps every tap once."""
    counts = np.zeros(geom.out_spatial, np.int64)
    for i in itertools.product(*map(range, geom.in_spatial)):
        for _, t in stamps(geom, i):
            if all(0 <= c < o for c, o in zip(t, geom.out_spatial, strict=True)):
                counts[t] += 1
    return counts


@FAST
@given(transposed_cases())
def test_overlap_counts_are_the_stamps_landing_on_each_cell(case):
    geom = plan_transposed(case.x.shape, case.weight.shape, **case.kwargs)
    np.testing.assert_array_equal(overlap_counts(geom), _stamp_counts(geom))


def test_a_kernel_the_stride_does_not_divide_makes_a_checkerboard():
    geom = plan_transposed((1, 1, 4, 4), (1, 1, 3, 3), stride=2)
    counts = overlap_counts(geom)
    assert counts[0].tolist() == [1, 1, 2, 1, 2, 1, 2, 1, 1]
    assert counts[2].tolist() == [2, 2, 4, 2, 4, 2, 4, 2, 2]
    assert counts[1].tolist() == counts[0].tolist()  # odd rows get one row of stamps
    even = overlap_counts(plan_transposed((1, 1, 4, 4), (1, 1, 4, 4), stride=2))
    assert (even[2:-2, 2:-2] == 4).all()  # a multiple of the stride: even inside
