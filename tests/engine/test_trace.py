"""Step traces: each step is the definition written out, and replaying every step rebuilds
the result the vectorised engine computes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from app.engine import ParameterError, backward, forward
from app.engine.geometry import positions_holding, source_index
from app.engine.trace import BackwardTrace, ForwardTrace, replay
from tests.engine.strategies import backward_cases, conv_cases

TRACE = settings(max_examples=300, deadline=None)

LESSON_X = [[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]
LESSON_W = [[[[0, 1], [2, 3]]]]


def test_the_worked_examples_first_step_is_the_lessons_sum() -> None:
    step = ForwardTrace(LESSON_X, LESSON_W).step(0)
    # the lesson: 0·0 + 1·1 + 2·3 + 3·4 = 19
    assert step.weights.tolist() == [0, 1, 2, 3]
    assert step.inputs.tolist() == [0, 1, 3, 4]
    assert step.products.tolist() == [0, 1, 6, 12]
    assert step.total == 19 and step.value == 19
    assert step.position.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert not step.padding.any()


def test_the_worked_example_replays_to_the_lessons_output() -> None:
    assert replay(ForwardTrace(LESSON_X, LESSON_W)).tolist() == [[[19, 25], [37, 43]]]


def test_convolution_mode_uses_the_flipped_kernel() -> None:
    step = ForwardTrace(LESSON_X, LESSON_W, mode="convolution").step(0)
    assert step.weights.tolist() == [3, 2, 1, 0]
    assert step.kernel_index.tolist() == [[1, 1], [1, 0], [0, 1], [0, 0]]
    assert step.value == 0 * 3 + 1 * 2 + 3 * 1 + 4 * 0


def test_padding_cells_show_where_their_value_comes_from() -> None:
    x = [[1.0, 2.0, 3.0]]
    zeros = ForwardTrace(x, [[[1.0, 1.0, 1.0]]], padding=1).step(0)
    assert zeros.padding.tolist() == [True, False, False]
    assert zeros.source.tolist() == [[-1], [0], [1]] and zeros.inputs[0] == 0
    reflect = ForwardTrace(x, [[[1.0, 1.0, 1.0]]], padding=1, padding_mode="reflect").step(0)
    assert reflect.position.tolist() == [[-1], [0], [1]]
    assert reflect.source.tolist() == [[1], [0], [1]] and reflect.inputs.tolist() == [2, 1, 2]


def test_the_lessons_1d_kernel_gradient_term_by_term() -> None:
    x, w, delta = [[1, 2, 3, 4, 5]], [[[2, -1, 1]]], [[1, -1, 2]]
    trace = BackwardTrace(x, w, delta, "weight")
    for k in range(3):  # dL/dw_k = d1·x_k + d2·x_(k+1) + d3·x_(k+2)
        step = trace.step(k)
        assert step.deltas.tolist() == [1, -1, 2]
        assert step.inputs.tolist() == [x[0][k], x[0][k + 1], x[0][k + 2]]
        assert step.value == 1 * x[0][k] - 1 * x[0][k + 1] + 2 * x[0][k + 2]


def test_an_input_gradient_step_lists_every_delta_and_weight_reaching_it() -> None:
    step = BackwardTrace([[1, 2, 3, 4, 5]], [[[2, -1, 1]]], [[1, -1, 2]], "input").step(2)
    # x3 fed o1 through w3, o2 through w2 and o3 through w1
    pairs = sorted(zip(step.out_position[:, 0].tolist(), step.kernel_index[:, 0].tolist(),
                       strict=True))
    assert pairs == [(0, 2), (1, 1), (2, 0)]
    assert step.value == 1 * 1 + (-1) * (-1) + 2 * 2


def test_a_replicated_edge_gathers_the_gradient_of_its_copies() -> None:
    trace = BackwardTrace([[1.0, 2.0, 3.0]], [[[1.0, 1.0, 1.0]]], [[1.0, 1.0, 1.0, 1.0, 1.0]],
                          "input", padding=2, padding_mode="replicate")
    step = trace.step(0)
    assert sorted(set(step.via[:, 0].tolist())) == [-2, -1, 0]  # itself and two copies
    np.testing.assert_allclose(replay(trace), backward(
        [[1.0, 2.0, 3.0]], [[[1.0, 1.0, 1.0]]], [[1.0] * 5], padding=2,
        padding_mode="replicate").grad_input)


def test_a_window_of_steps_equals_its_steps_one_by_one() -> None:
    trace = ForwardTrace(np.arange(25.0).reshape(1, 5, 5), np.ones((2, 1, 2, 2)), stride=2)
    window = trace.steps(3, 4)
    for j in range(4):
        one = trace.step(3 + j)
        np.testing.assert_array_equal(window.one(j).products, one.products)
        np.testing.assert_array_equal(window.index[j], one.index)


@pytest.mark.parametrize(("start", "count", "words"), [
    (-1, None, "non-negative"), (4, None, "below the number of steps"), (0, 0, "positive"),
])
def test_bad_windows_are_explained(start: int, count: int | None, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        ForwardTrace(LESSON_X, LESSON_W).steps(start, count)


def test_an_unknown_part_is_explained() -> None:
    with pytest.raises(ParameterError, match="part must be one of 'weight', 'input', 'bias'"):
        BackwardTrace(LESSON_X, LESSON_W, [[[1, 1], [1, 1]]], "kernel")


@TRACE
@given(conv_cases())
def test_forward_replay_equals_the_vectorised_output(case) -> None:
    trace = ForwardTrace(case.x, case.weight, case.bias, **case.kwargs)
    expected = forward(case.x, case.weight, case.bias, **case.kwargs)
    np.testing.assert_allclose(replay(trace), expected, rtol=1e-12, atol=1e-12)
    assert len(trace) == expected.size  # no steps for an empty batch
    if len(trace):
        step = trace.step(len(trace) - 1)
        np.testing.assert_allclose(step.products, step.inputs * step.weights)
        assert step.total == pytest.approx(step.products.sum())


@TRACE
@given(backward_cases())
def test_backward_replays_equal_the_vectorised_gradients(drawn) -> None:
    case, dy = drawn
    expected = backward(case.x, case.weight, dy, **case.kwargs)
    for part, gradient in zip(("input", "weight", "bias"), expected, strict=True):
        trace = BackwardTrace(case.x, case.weight, dy, part, **case.kwargs)
        np.testing.assert_allclose(replay(trace), gradient, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_positions_holding_is_the_inverse_of_source_index(padding_mode):
    for size in range(1, 7):
        for before in range(0, size + 2):
            for after in range(0, size + 2):
                if (padding_mode == "reflect" and max(before, after) >= size) or \
                        (padding_mode == "circular" and max(before, after) > size):
                    continue
                positions = np.arange(-before, size + after)
                sources = source_index(positions, size, padding_mode)
                owner, starts, stops = positions_holding(np.arange(size), size, before,
                                                         after, padding_mode)
                for index in range(size):
                    held = [p for o, start, stop in zip(owner, starts, stops, strict=True)
                            if o == index for p in range(start, stop)]
                    assert held == positions[sources == index].tolist()


def test_an_input_step_next_to_two_million_padding_cells_is_cheap():
    """A 1-element input padded by 1,999,999 replicated cells on each side, with a kernel
    dilated 3,000,000: the scan of every padded position took 7.5 s before a step was made.
    All 3,999,999 padded cells copy the element, and each of the 999,999 outputs reads it
    through both taps."""
    dy = np.ones((1, 999_999))
    params = {"padding": 1_999_999, "dilation": 3_000_000, "padding_mode": "replicate"}
    trace = BackwardTrace([[1.0]], [[[1.0, 1.0]]], dy, "input", **params)
    step = trace.step(0)
    assert len(step.deltas) == 2 * 999_999
    assert step.value == 2 * 999_999
    assert backward([[1.0]], [[[1.0, 1.0]]], dy, **params).grad_input.tolist() == [[1_999_998.0]]
