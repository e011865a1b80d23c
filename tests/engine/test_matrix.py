"""The convolution as a matrix: W and the patches matrix worked by hand, W against a matrix
built column by column from unit vectors pushed through ``forward``, and the identities
``W @ vec(x) == forward(x)``, ``W.T @ vec(δ) == backward(...).grad_input`` and
``δ @ P == grad_weight`` over random geometries in 1-D, 2-D and 3-D (every padding mode,
stride, dilation, groups and mode)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from app.engine import ShapeError, backward, conv_matrix, forward, im2col
from app.engine.matrix import matrix_plan

from .strategies import FAST, backward_cases, conv_cases


def test_a_2x2_kernel_over_3x3_is_four_rows_each_the_kernel_slid_along():
    w = [[[[1, 2], [3, 4]]]]
    assert conv_matrix((1, 3, 3), w).tolist() == [
        [1, 2, 0, 3, 4, 0, 0, 0, 0],
        [0, 1, 2, 0, 3, 4, 0, 0, 0],
        [0, 0, 0, 1, 2, 0, 3, 4, 0],
        [0, 0, 0, 0, 1, 2, 0, 3, 4],
    ]


def test_zero_padding_makes_2d_matrix_doubly_block_toeplitz():
    # 3x3 input, 3x3 kernel, padding 1: 9 x 9, blocks of 3 x 3 by (output row, input row)
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    m = conv_matrix((1, 3, 3), w, padding=1)
    blocks = m.reshape(3, 3, 3, 3).transpose(0, 2, 1, 3)   # [out row, in row] -> 3x3 block
    for i in range(3):
        for j in range(3):
            kr = j - i + 1  # the kernel row that links output row i to input row j
            if 0 <= kr < 3:
                row = w[0, 0, kr]
                # a Toeplitz block: the kernel row on its three diagonals
                expected = np.diag([row[1]] * 3) + np.diag([row[2]] * 2, 1) + \
                    np.diag([row[0]] * 2, -1)
                assert blocks[i, j].tolist() == expected.tolist()
            else:
                assert not blocks[i, j].any()


def test_circular_padding_makes_a_circulant_matrix():
    assert conv_matrix((1, 3), [[[1, 2, 3]]], padding=1, padding_mode="circular").tolist() \
        == [[2, 3, 1], [1, 2, 3], [3, 1, 2]]


def test_replicate_padding_adds_the_folded_taps_onto_the_edge_cell():
    # y0 = x0·1 + x0·2 + x1·3, y1 = x0·1 + x1·2 + x1·3
    assert conv_matrix((1, 2), [[[1, 2, 3]]], padding=1, padding_mode="replicate").tolist() \
        == [[3, 3], [1, 5]]


def test_a_stride_skips_rows_and_convolution_mode_flips_the_kernel():
    assert conv_matrix((1, 5), [[[1, 2, 3]]], stride=2).tolist() == \
        [[1, 2, 3, 0, 0], [0, 0, 1, 2, 3]]
    assert conv_matrix((1, 4), [[[1, 2, 3]]], mode="convolution").tolist() == \
        [[3, 2, 1, 0], [0, 3, 2, 1]]


def test_the_patches_matrix_unrolls_each_window_into_a_row():
    x = np.arange(9.0).reshape(1, 3, 3)
    assert im2col(x, (2, 2)).tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7],
                                          [4, 5, 7, 8]]
    # zero padding: the padding cells are zeros in the rows
    assert im2col([[1.0, 2.0]], (3,), padding=1).tolist() == [[0, 1, 2], [1, 2, 0]]


def _by_unit_vectors(case) -> np.ndarray:
    """W built independently: column j is the output of the j-th unit input."""
    shape = case.x.shape[1:] if case.batched else case.x.shape
    columns = []
    for j in range(int(np.prod(shape))):
        e = np.zeros(int(np.prod(shape)))
        e[j] = 1
        columns.append(forward(e.reshape(shape), case.weight, **case.kwargs).ravel())
    return np.stack(columns, 1)


@FAST
@given(conv_cases(batched=False))
def test_w_is_the_matrix_of_forward(case):
    m = conv_matrix(case.x.shape, case.weight, **case.kwargs)
    y = forward(case.x, case.weight, **case.kwargs)
    assert m.shape == (y.size, case.x.size)
    np.testing.assert_allclose(m @ case.x.ravel(), y.ravel(), rtol=1e-12, atol=1e-12)
    # taps folded onto one edge cell (reflect, replicate) are summed in another order than
    # forward sums them: the same entries, to the last bits
    np.testing.assert_allclose(m, _by_unit_vectors(case), rtol=1e-12, atol=1e-15)


@FAST
@given(backward_cases())
def test_w_transposed_gives_the_input_gradient_and_the_patches_the_weight_gradient(args):
    case, dy = args
    grads = backward(case.x, case.weight, dy, **case.kwargs)
    m = conv_matrix(case.x.shape, case.weight, **case.kwargs)
    samples = zip(case.x, dy, grads.grad_input, strict=True) if case.batched else \
        [(case.x, dy, grads.grad_input)]
    gw = np.zeros_like(case.weight)
    g = case.kwargs["groups"]
    c_in_g, c_out_g = case.weight.shape[1], case.weight.shape[0] // g
    flip = case.kwargs["mode"] == "convolution"
    for x, d, gx in samples:
        np.testing.assert_allclose(m.T @ d.ravel(), gx.ravel(), rtol=1e-12, atol=1e-12)
        kwargs = {k: v for k, v in case.kwargs.items() if k not in ("groups", "mode")}
        p = im2col(x, case.weight.shape[2:], **kwargs)
        for co in range(case.weight.shape[0]):
            group = co // c_out_g
            cols = slice(group * c_in_g * p.shape[1] // x.shape[0],
                         (group + 1) * c_in_g * p.shape[1] // x.shape[0])
            sliding = (d[co].ravel() @ p[:, cols]).reshape(case.weight.shape[1:])
            axes = tuple(range(1, sliding.ndim))
            gw[co] += np.flip(sliding, axes) if flip else sliding
    np.testing.assert_allclose(gw, grads.grad_weight, rtol=1e-10, atol=1e-10)


@FAST
@given(conv_cases(batched=False, single_channel=True))
def test_patches_times_the_sliding_kernel_is_the_output(case):
    kwargs = {k: v for k, v in case.kwargs.items() if k not in ("groups", "mode")}
    p = im2col(case.x, case.weight.shape[2:], **kwargs)
    sliding = np.flip(case.weight[0]) if case.kwargs["mode"] == "convolution" else \
        case.weight[0]
    y = forward(case.x, case.weight, **case.kwargs)
    np.testing.assert_allclose(p @ sliding.ravel(), y[0].ravel(), rtol=1e-12, atol=1e-12)


def test_a_matrix_over_its_limit_is_refused_before_it_is_built():
    geom = matrix_plan((1, 6, 6), (1, 1, 3, 3), padding=1, max_entries=36 * 36)
    assert geom.out_spatial == (6, 6)
    with pytest.raises(ShapeError, match=r"1,369 entries \(W is 37 x 37\)") as info:
        conv_matrix((1, 37), np.ones((1, 1, 1)), max_entries=36 * 36)
    assert info.value.field == "input"
    with pytest.raises(ShapeError, match="at most 1,000,000"):  # 10^10 entries, not allocated
        conv_matrix((1, 100_000), np.ones((1, 1, 1)))
    with pytest.raises(ShapeError, match="entries"):
        im2col(np.zeros((1, 2000)), (1000,), padding=999, max_entries=10_000)


def test_what_forward_refuses_the_matrix_refuses_too():
    with pytest.raises(ShapeError, match="Kernel size can't be greater"):
        conv_matrix((1, 2, 2), np.ones((1, 1, 3, 3)))
    with pytest.raises(ShapeError, match="one sample"):
        im2col(np.zeros((2, 1, 3, 3)), (2, 2))
