"""Max and average pooling: the vectorised engine against the definition (the naive loops)
over 1-D, 2-D and 3-D and every parameter, gradients against central finite differences,
PyTorch's rules for ties, ceil_mode and count_include_pad worked by hand, and the traces
replayed."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given

from app.engine import (
    avg_pool,
    avg_pool_backward,
    max_pool,
    max_pool_backward,
    pool_output_shape,
    pool_plan,
)
from app.engine import pool as pool_module
from app.engine.cost import POOL_METHODS, pool_method
from app.engine.loss import finite_difference_error
from app.engine.naive import (
    avg_pool_backward_naive,
    avg_pool_naive,
    max_pool_backward_naive,
    max_pool_naive,
)
from app.engine.pool_trace import PoolBackwardTrace, PoolTrace, replay

from .strategies import FAST, SLOW, pool_backward_cases, pool_cases

FORWARD = {"max": max_pool, "avg": avg_pool}
BACKWARD = {"max": max_pool_backward, "avg": avg_pool_backward}
NAIVE = {"max": max_pool_naive, "avg": avg_pool_naive}
NAIVE_BACKWARD = {"max": max_pool_backward_naive, "avg": avg_pool_backward_naive}


def pooled(case, x=None):
    return FORWARD[case.kind](case.x if x is None else x, **case.kwargs)


def pooled_backward(case, dy, x=None):
    return BACKWARD[case.kind](case.x if x is None else x, dy, **case.kwargs)


# ----------------------------------------------------------------------------- the definition


@SLOW
@given(case_dy=pool_backward_cases())
def test_fast_pooling_is_the_definition(case_dy):
    case, dy = case_dy
    y = pooled(case)
    assert y.shape == case.output_shape
    np.testing.assert_allclose(y, NAIVE[case.kind](case.x, **case.kwargs), rtol=1e-13,
                               atol=1e-13)
    gx = pooled_backward(case, dy)
    assert gx.shape == case.x.shape
    np.testing.assert_allclose(gx, NAIVE_BACKWARD[case.kind](case.x, dy, **case.kwargs),
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("method", POOL_METHODS)
@SLOW
@given(case_dy=pool_backward_cases())
def test_both_methods_give_the_definition(method, case_dy):
    case, dy = case_dy
    with mock.patch.object(pool_module, "pool_method", lambda _: method):
        y, gx = pooled(case), pooled_backward(case, dy)
    np.testing.assert_allclose(y, NAIVE[case.kind](case.x, **case.kwargs), rtol=1e-13,
                               atol=1e-13)
    np.testing.assert_allclose(gx, NAIVE_BACKWARD[case.kind](case.x, dy, **case.kwargs),
                               rtol=1e-13, atol=1e-13)


@FAST
@given(case=pool_cases())
def test_output_shape_is_the_formula(case):
    assert pool_output_shape(case.x.shape, **{k: v for k, v in case.kwargs.items()
                                              if k != "count_include_pad"}) \
        == case.output_shape
    assert pooled(case).shape == case.output_shape


@SLOW
@given(case_dy=pool_backward_cases(distinct=True, empty_batch=False))
def test_gradients_are_central_finite_differences(case_dy):
    case, dy = case_dy
    y = pooled(case)
    assume(np.isfinite(y).all())  # a window of padding alone is -inf (and has no gradient)
    grad = pooled_backward(case, dy)
    error = finite_difference_error(lambda x: float(np.sum(dy * pooled(case, x))),
                                    case.x.copy(), grad)
    assert error < 1e-7


@FAST
@given(case_dy=pool_backward_cases())
def test_the_gradient_is_the_adjoint(case_dy):
    """Average pooling is linear, and max pooling is linear in x for fixed winners:
    <dy, pool(x)> == <pool_backward(x, dy), x> either way."""
    case, dy = case_dy
    y = pooled(case)
    assume(np.isfinite(y).all())
    np.testing.assert_allclose(np.vdot(dy, y), np.vdot(pooled_backward(case, dy), case.x),
                               rtol=1e-10, atol=1e-10)


@FAST
@given(case_dy=pool_backward_cases())
def test_float32_stays_float32_and_a_mix_is_float64(case_dy):
    case, dy = case_dy
    x32, dy32 = case.x.astype(np.float32), dy.astype(np.float32)
    assert pooled(case, x32).dtype == np.float32
    assert pooled_backward(case, dy32, x32).dtype == np.float32
    assert pooled_backward(case, dy, x32).dtype == np.float64
    np.testing.assert_allclose(pooled(case, x32), pooled(case), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- by hand


def test_a_2x2_max_pool_keeps_the_largest_of_each_block():
    x = [[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 2], [6, 0, 3, 9]]]  # (C, H, W)
    assert max_pool(x, [2, 2]).tolist() == [[[5, 8], [6, 9]]]
    assert avg_pool(x, [2, 2]).tolist() == [[[13 / 4, 11 / 4], [6 / 4, 15 / 4]]]
    grad = max_pool_backward([x], [[[[10, 20], [30, 40]]]], 2)  # batched: an int will do
    assert grad.tolist() == [[[[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 0], [30, 0, 0, 40]]]]
    # an int kernel_size pools every axis after (N, C): (C, H, W) would be (N, C, L)
    assert max_pool(x, 2).tolist() == [[[5, 2], [4, 8], [0, 2], [6, 9]]]


def test_a_tie_sends_the_gradient_to_the_first_maximum():
    """PyTorch's choice: [1, 3, 3, 2], windows of 3 with stride 1: both windows' max is the
    3 at index 1 (the first in window order), which gets both deltas."""
    assert max_pool([[1.0, 3, 3, 2]], 3, stride=1).tolist() == [[3, 3]]
    assert max_pool_backward([[1.0, 3, 3, 2]], [[10.0, 100.0]], 3, stride=1).tolist() == \
        [[0, 110, 0, 0]]
    # 2-D: the first maximum in C order over the window, (0, 0) before (0, 1) and (1, 0)
    assert max_pool_backward(np.ones((1, 2, 2)), [[[7.0]]], [2, 2]).tolist() == [[[7, 0], [0, 0]]]
    x = [[[0.0, 2], [2, 2]]]
    assert max_pool_backward(x, [[[7.0]]], [2, 2]).tolist() == [[[0, 7], [0, 0]]]


def test_a_tie_between_overlapping_windows_counts_each_window_once():
    # windows [2, 2], [2, 1] (stride 1, kernel 2): the first 2 wins the first window, the
    # second 2 the second window (its first cell)
    assert max_pool_backward([[2.0, 2.0, 1.0]], [[1.0, 10.0]], 2, stride=1).tolist() == \
        [[1, 10, 0]]


def test_padding_never_wins_a_max_even_below_zero():
    # -inf padding: the window [pad, -5] is -5, not 0
    assert max_pool([[-5.0, -7.0, -1.0]], 2, padding=1).tolist() == [[-5, -1]]
    assert max_pool_backward([[-5.0, -7.0, -1.0]], [[1.0, 2.0]], 2, padding=1).tolist() == \
        [[1, 0, 2]]


def test_average_padding_counts_or_not():
    x = [[1.0, 2.0, 3.0]]
    # windows [pad, 1], [2, 3]: zeros count by default, not with count_include_pad=False
    assert avg_pool(x, 2, padding=1).tolist() == [[0.5, 2.5]]
    assert avg_pool(x, 2, padding=1, count_include_pad=False).tolist() == [[1.0, 2.5]]
    assert avg_pool_backward(x, [[1.0, 1.0]], 2, padding=1).tolist() == [[0.5, 0.5, 0.5]]
    assert avg_pool_backward(x, [[1.0, 1.0]], 2, padding=1,
                             count_include_pad=False).tolist() == [[1.0, 0.5, 0.5]]


def test_ceil_mode_keeps_a_last_window_that_starts_inside_the_input():
    x = [[0.0, 1, 2, 3, 4]]
    assert max_pool(x, 2).tolist() == [[1, 3]]  # rounds down: the 4 is dropped
    assert max_pool(x, 2, ceil_mode=True).tolist() == [[1, 3, 4]]
    # the last window [4, past the end] has one cell, and a mean divides by 1
    assert avg_pool(x, 2, ceil_mode=True).tolist() == [[0.5, 2.5, 4.0]]
    assert avg_pool_backward(x, [[1.0, 1, 1]], 2, ceil_mode=True).tolist() == \
        [[0.5, 0.5, 0.5, 0.5, 1.0]]


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    """Five cells, kernel 2, stride 2, padding 1: rounding up asks for a 4th window, which
    would start at cell 5, the right padding; PyTorch drops it."""
    x = [[0.0, 1, 2, 3, 4]]
    assert pool_output_shape((1, 5), 2, padding=1, ceil_mode=True) == (1, 3)
    assert max_pool(x, 2, padding=1, ceil_mode=True).tolist() == [[0, 2, 4]]
    assert avg_pool(x, 2, padding=1, ceil_mode=True).tolist() == [[0.0, 1.5, 3.5]]


def test_ceil_mode_window_past_the_padding_divides_by_the_cells_up_to_its_end():
    """Kernel 3, stride 2, padding 1 over [0, 1, 2, 3, 4]: windows start at -1, 1 and 3;
    the last covers 3, 4 and the right padding cell (5), so it divides by 3; without the
    padding counted, by 2."""
    x = [[0.0, 1, 2, 3, 4]]
    np.testing.assert_allclose(avg_pool(x, 3, stride=2, padding=1, ceil_mode=True),
                               [[1 / 3, 2, 7 / 3]])
    np.testing.assert_allclose(
        avg_pool(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        [[1 / 2, 2, 7 / 2]])
    # kernel 3, stride 3, padding 1: windows at -1 (padding first) and 2; a third at 5
    # would start in the right padding and is dropped
    np.testing.assert_allclose(avg_pool(x, 3, stride=3, padding=1, ceil_mode=True),
                               [[1 / 3, 3]])
    # a window past the padding: kernel 4, stride 2 over 3 cells, ceil: one window of 3
    # cells inside and one past the end; the mean divides by the 3
    assert avg_pool([[3.0, 6.0, 9.0]], 4, stride=2, ceil_mode=True).tolist() == [[6.0]]


def test_a_window_of_padding_alone_is_minus_infinity_and_takes_no_gradient():
    """Kernel 2, padding 1, dilation 2 over one cell: the window's taps are the padding
    either side. PyTorch returns -inf too."""
    assert max_pool([[5.0]], 2, padding=1, dilation=2).tolist() == [[-np.inf]]
    assert max_pool_backward([[5.0]], [[1.0]], 2, padding=1, dilation=2).tolist() == [[0.0]]


def test_stride_defaults_to_the_kernel_and_an_int_kernel_pools_every_axis():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    assert max_pool(x, 3).shape == (1, 1, 2, 2)
    assert max_pool(x, 3, stride=1).shape == (1, 1, 4, 4)
    assert max_pool(x, [3, 2]).shape == (1, 1, 2, 3)
    assert max_pool(x[0], [3, 2]).shape == (1, 2, 3)  # unbatched (C, H, W)
    assert max_pool(x[0, 0], 2).shape == (6, 3)  # a 2-D array is an unbatched (C, L)
    assert max_pool(x[:0], 3).shape == (0, 1, 2, 2)
    assert max_pool_backward(x[:0], np.ones((0, 1, 2, 2)), 3).shape == (0, 1, 6, 6)


def test_a_huge_kernel_over_few_cells_loops_over_the_cells_it_reaches():
    """A billion-tap kernel, padding half of it, over three cells: four windows, each over
    all three cells (six taps reach a cell from some window), so it is as quick as a small
    pool: it loops over the four windows."""
    geom = pool_plan((1, 3), "max", 10**9, stride=1, padding=5 * 10**8)
    assert geom.out_spatial == (4,)
    assert pool_method(geom) == "windows"
    y = max_pool([[1.0, 3.0, 2.0]], 10**9, stride=1, padding=5 * 10**8)
    assert y.tolist() == [[3.0, 3.0, 3.0, 3.0]]
    assert max_pool_backward([[1.0, 3.0, 2.0]], [[1.0, 2, 3, 4]], 10**9, stride=1,
                             padding=5 * 10**8).tolist() == [[0, 10, 0]]
    assert avg_pool([[1.0, 3.0, 2.0]], 10**9, stride=1, padding=5 * 10**8,
                    count_include_pad=False).tolist() == [[2.0, 2.0, 2.0, 2.0]]


def test_a_kernel_too_long_to_list_its_taps_loops_over_the_windows():
    """2^21 taps, padding 2^20, over 1,500 cells: neither the taps nor the (window, cell)
    pairs are listed (millions each); each of the 1,501 windows covers every cell."""
    x = np.sin(np.arange(1500.0))[None]
    geom = pool_plan(x.shape, "max", 2**21, stride=1, padding=2**20)
    assert geom.out_spatial == (1501,) and pool_method(geom) == "windows"
    y = max_pool(x, 2**21, stride=1, padding=2**20)
    np.testing.assert_array_equal(y, np.full((1, 1501), x.max()))
    grad = max_pool_backward(x, np.ones((1, 1501)), 2**21, stride=1, padding=2**20)
    assert grad[0, x[0].argmax()] == 1501 and grad.sum() == 1501
    np.testing.assert_allclose(avg_pool(x, 2**21, stride=1, padding=2**20,
                                        count_include_pad=False), np.full((1, 1501), x.mean()))


# ----------------------------------------------------------------------------- traces


@SLOW
@given(case_dy=pool_backward_cases())
def test_replaying_every_step_gives_the_result(case_dy):
    case, dy = case_dy
    forward = PoolTrace(case.x, case.kind, **case.kwargs)
    np.testing.assert_allclose(replay(forward), pooled(case), rtol=1e-13, atol=1e-13)
    backward = PoolBackwardTrace(case.x, dy, case.kind, **case.kwargs)
    np.testing.assert_allclose(replay(backward), pooled_backward(case, dy), rtol=1e-13,
                               atol=1e-13)
    assert len(forward) == len(backward) == int(np.prod(pooled(case).shape))


def test_a_max_step_shows_the_window_its_values_and_the_winner():
    x = [[[1.0, 5, 2], [3, 5, 8]]]
    # output (0, 0, 0, 1): stride 2 (the kernel's), so its window starts at (-1, 1)
    step = PoolTrace(x, "max", [2, 2], padding=1).step(1)
    assert step.index.tolist() == [0, 0, 0, 1]
    assert step.position.tolist() == [[-1, 1], [-1, 2], [0, 1], [0, 2]]
    assert step.padding.tolist() == [True, True, False, False]
    assert step.inputs.tolist() == [-np.inf, -np.inf, 5.0, 2.0]
    assert step.winner == 2 and step.value == 5.0
    tie = PoolTrace(x, "max", [2, 2], stride=1).step(0)  # window [[1, 5], [3, 5]]: first 5
    assert tie.inputs.tolist() == [1, 5, 3, 5] and tie.winner == 1


def test_a_mean_step_shows_what_it_counts():
    x = [[1.0, 2.0, 3.0]]
    step = PoolTrace(x, "avg", 2, padding=1, count_include_pad=False).step(0)
    assert step.inputs.tolist() == [0.0, 1.0]
    assert step.counted.tolist() == [False, True]
    assert (step.total, step.divisor, step.value) == (1.0, 1.0, 1.0)
    overhang = PoolTrace([[0.0, 1, 2, 3, 4]], "avg", 2, ceil_mode=True).step(2)
    assert overhang.position.tolist() == [[4], [5]]
    assert overhang.outside.tolist() == [False, True] and overhang.divisor == 1


def test_a_backward_step_says_where_its_delta_goes():
    to_winner = PoolBackwardTrace([[1.0, 3, 3, 2]], [[10.0, 100.0]], "max", 3,
                                  stride=1).step(1)
    assert to_winner.delta == 100 and to_winner.winner == 0  # cell 1, the first 3
    assert to_winner.shares.tolist() == [100, 0, 0]
    assert to_winner.position[to_winner.reaches].tolist() == [[1]]
    spread = PoolBackwardTrace([[1.0, 2.0, 3.0]], [[1.0, 6.0]], "avg", 2, padding=1).step(0)
    assert spread.shares.tolist() == [0.5, 0.5]  # δ / 2 each, the padding's lost
    assert spread.reaches.tolist() == [False, True]
