"""Step traces of the transposed convolution: the scatter view (one stamp per input element,
running sums where stamps overlap) and the gather view (what reaches each output element)
both replay to the result the vectorised engine computes, and say what a person checks by
hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine import ParameterError, conv_transpose, overlap_counts, plan_transposed
from app.engine.cost import transposed_trace_terms_per_step
from app.engine.transposed_trace import GatherTrace, ScatterTrace, replay

from .strategies import FAST, SLOW, transposed_cases

X, W = [[1.0, 2.0]], [[[1.0, 10.0, 100.0]]]  # stride 2: 1, 10, 102, 20, 200


def test_each_scatter_step_stamps_the_scaled_kernel_and_the_sums_run_on():
    trace = ScatterTrace(X, W, stride=2)
    first, second = trace.step(0), trace.step(1)
    assert first.value == 1.0 and second.value == 2.0
    assert first.position[:, 0].tolist() == [0, 1, 2]
    assert first.products.tolist() == [1.0, 10.0, 100.0]
    assert first.before.tolist() == [0.0, 0.0, 0.0]
    assert first.after.tolist() == [1.0, 10.0, 100.0]
    assert second.position[:, 0].tolist() == [2, 3, 4]
    assert second.products.tolist() == [2.0, 20.0, 200.0]
    assert second.before.tolist() == [100.0, 0.0, 0.0]  # cell 2 holds the first stamp's 100
    assert second.after.tolist() == [102.0, 20.0, 200.0]
    assert second.overlap.tolist() == [2, 1, 1]  # two stamps land on cell 2


def test_a_gather_step_lists_every_input_element_and_tap_that_reaches_it():
    step = GatherTrace(X, W, [0.5], stride=2).step(2)
    # cell 2 gets x1 through w3 (its stamp's last tap) and x2 through w1 (its first)
    assert step.in_position[:, 0].tolist() == [0, 1]
    assert step.kernel_index[:, 0].tolist() == [2, 0]
    assert step.products.tolist() == [100.0, 2.0]
    assert (step.total, step.bias, step.value, step.overlap) == (102.0, 0.5, 102.5, 2)
    assert GatherTrace(X, W, stride=2).step(1).products.tolist() == [10.0]


def test_stamps_the_padding_crops_are_marked_and_add_nothing():
    trace = ScatterTrace(X, W, stride=2, padding=1)  # output: 10, 102, 20
    first = trace.step(0)
    assert first.position[:, 0].tolist() == [-1, 0, 1]
    assert first.inside.tolist() == [False, True, True]
    assert first.after.tolist() == [0.0, 10.0, 100.0]
    assert replay(trace).tolist() == [[10.0, 102.0, 20.0]]


def test_a_cell_given_back_past_every_stamp_gathers_nothing():
    trace = GatherTrace([[5.0]], [[[1.0, 2.0]]], [1.0], dilation=3, output_padding=2)
    step = trace.step(5)
    assert (len(step.products), step.total, step.value, step.overlap) == (0, 0.0, 1.0, 0)


def test_channels_and_groups_in_a_scatter_step():
    x = np.array([[[1.0], [2.0]]])  # two input channels, groups=2
    w = np.array([[[3.0], [4.0]], [[5.0], [6.0]]])
    step = ScatterTrace(x, w, groups=2).step(1)  # channel 1 stamps output channels 2, 3
    assert step.out_channel.tolist() == [2, 3]
    assert step.products.tolist() == [10.0, 12.0]


@SLOW
@given(transposed_cases())
def test_both_views_replay_to_the_result(case):
    y = conv_transpose(case.x, case.weight, case.bias, **case.kwargs)
    for view in (ScatterTrace, GatherTrace):
        trace = view(case.x, case.weight, case.bias, **case.kwargs)
        got = replay(trace)
        assert got.dtype == y.dtype
        np.testing.assert_allclose(got, y, rtol=1e-12, atol=1e-12)


@SLOW
@given(transposed_cases(with_bias=False))
def test_the_running_sums_are_what_the_stamps_so_far_add_up_to(case):
    """Played step by step, each stamped cell holds ``before`` and then ``after``."""
    trace = ScatterTrace(case.x, case.weight, **case.kwargs)
    cells = np.zeros(trace.result_shape)
    steps = trace.steps()
    for j in range(len(steps)):
        step = steps.one(j)
        at = np.nonzero(step.inside)[0]
        where = (step.index[0], step.out_channel[at], *step.position[at].T)
        np.testing.assert_allclose(cells[where], step.before[at], rtol=1e-12, atol=1e-12)
        cells[where] += step.products[at]
        np.testing.assert_allclose(cells[where], step.after[at], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(step.products, step.value * step.weights)


@FAST
@given(transposed_cases(empty_batch=False), st.data())
def test_a_window_of_steps_is_the_same_as_those_steps_of_the_whole(case, data):
    for view in (ScatterTrace, GatherTrace):
        trace = view(case.x, case.weight, case.bias, **case.kwargs)
        start = data.draw(st.integers(0, len(trace) - 1))
        count = data.draw(st.integers(1, 4))
        window, whole = trace.steps(start, count), trace.steps()
        for j in range(len(window)):
            one, same = window.one(j), whole.one(start + j)
            for name in ("index", "value", "products"):
                np.testing.assert_array_equal(getattr(one, name), getattr(same, name))
            if view is ScatterTrace:
                np.testing.assert_allclose(one.before, same.before, rtol=1e-12, atol=1e-12)


@FAST
@given(transposed_cases(empty_batch=False))
def test_the_overlap_of_each_step_is_the_overlap_map_and_the_model_bounds_the_terms(case):
    geom = plan_transposed(case.x.shape, case.weight.shape, **case.kwargs)
    counts = overlap_counts(geom)
    gathered = GatherTrace(case.x, case.weight, **case.kwargs).steps()
    np.testing.assert_array_equal(gathered.overlap, counts[tuple(gathered.index[:, 2:].T)])
    terms = np.diff(gathered.offsets)
    np.testing.assert_array_equal(terms, gathered.overlap * geom.c_in_group)
    assert terms.max() <= transposed_trace_terms_per_step(geom, "gather")
    scattered = ScatterTrace(case.x, case.weight, **case.kwargs).steps()
    inside = scattered.inside
    np.testing.assert_array_equal(scattered.overlap[inside],
                                  counts[tuple(scattered.position[inside].T)])
    work = scattered.products.shape[1] * (1 + scattered.overlap.max(axis=1) * geom.c_in_group)
    assert work.max() <= transposed_trace_terms_per_step(geom, "scatter")


def test_float32_steps_stay_float32():
    x, w = np.ones((1, 2, 3), np.float32), np.ones((2, 1, 2), np.float32)
    assert ScatterTrace(x, w).steps().after.dtype == np.float32
    assert GatherTrace(x, w).steps().value.dtype == np.float32
    assert replay(GatherTrace(x, w)).dtype == np.float32


def test_windows_outside_the_steps_are_refused_by_name():
    trace = ScatterTrace(X, W, stride=2)
    with pytest.raises(ParameterError, match=r"start must be below the number of steps "
                                             r"\(2\), got 2") as caught:
        trace.steps(2)
    assert caught.value.field == "start"
    with pytest.raises(ParameterError, match="count must be a positive integer, got 0"):
        trace.steps(0, 0)
    empty = GatherTrace(np.ones((0, 1, 2)), np.ones((1, 1, 2)))
    assert len(empty) == 0 and len(empty.steps()) == 0
    with pytest.raises(ParameterError, match="this trace has no steps"):
        empty.step(0)
