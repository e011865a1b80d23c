"""PyTorch parity (issue #13, items 16-18): empty batches, parameters given as a list of one
value, and the dtype rule. The expected numbers are worked by hand, by np.pad, or by the
naive loops on float64 copies; PyTorch itself is not installed, so its behaviour is taken
from its documentation and messages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given

from app.engine import ValueRangeError, backward, forward, output_shape, plan
from app.engine.cost import backward_cost, forward_cost, trace_terms_per_step
from app.engine.errors import ParameterError
from app.engine.naive import backward_naive, forward_naive
from app.engine.trace import BackwardTrace, ForwardTrace, replay

from .strategies import SLOW, backward_cases

# ----------------------------------------------------------------------------- 16: N = 0


def test_an_empty_batch_gives_pytorchs_shapes_and_zero_gradients():
    """The issue's call: ``conv1d(zeros(0, 4, 10), w)`` with a (5, 4, 3) weight."""
    x, w, b = np.zeros((0, 4, 10)), np.ones((5, 4, 3)), np.arange(5.0)

    y = forward(x, w, b)
    g = backward(x, w, np.zeros((0, 5, 8)))

    assert y.shape == (0, 5, 8)
    assert output_shape(x.shape, w.shape) == (0, 5, 8)
    assert g.grad_input.shape == (0, 4, 10)
    assert g.grad_weight.tolist() == np.zeros((5, 4, 3)).tolist()
    assert g.grad_bias.tolist() == [0.0] * 5


@SLOW
@given(backward_cases(batched=True))
def test_an_empty_batch_matches_the_naive_loops_for_every_geometry(case_dy):
    """Whatever the stride, padding, dilation, groups or padding mode: the first 0 samples."""
    case, dy = case_dy
    x, dy = case.x[:0], dy[:0]

    y = forward(x, case.weight, case.bias, **case.kwargs)
    g = backward(x, case.weight, dy, **case.kwargs)
    want = backward_naive(x, case.weight, dy, **case.kwargs)

    assert y.shape == (0, *case.output_shape[1:])
    assert y.shape == forward_naive(x, case.weight, case.bias, **case.kwargs).shape
    assert g.grad_input.shape == x.shape == want.grad_input.shape
    np.testing.assert_array_equal(g.grad_weight, np.zeros_like(case.weight))
    np.testing.assert_array_equal(g.grad_weight, want.grad_weight)
    np.testing.assert_array_equal(g.grad_bias, np.zeros(case.weight.shape[0]))


@SLOW
@given(backward_cases(batched=True))
def test_an_empty_batch_costs_no_arithmetic_and_no_workspace(case_dy):
    """The cost model (which the API's limits read) does not divide by the batch or count
    blocks that are never made: nothing is multiplied, and the only memory is the weight's
    zero gradient."""
    case, _ = case_dy
    geom = plan(case.x[:0].shape, case.weight.shape, **case.kwargs)

    fwd, bwd = forward_cost(geom), backward_cost(geom)

    assert (fwd.macs, fwd.moves, fwd.peak_bytes) == (0, 0, 0)
    assert bwd.macs == 0
    assert bwd.peak_bytes == 8 * case.weight.size
    assert trace_terms_per_step(geom, "weight") == trace_terms_per_step(geom, "bias") == 0


def test_a_trace_of_an_empty_batch_has_no_steps_and_one_empty_window():
    x, w, dy = np.zeros((0, 2, 5)), np.ones((3, 2, 2)), np.zeros((0, 3, 4))
    trace = ForwardTrace(x, w, np.ones(3))

    assert len(trace) == 0
    assert trace.steps().value.shape == (0,)
    assert replay(trace).shape == (0, 3, 4)
    with pytest.raises(ParameterError, match=r"there is no step 0: this trace has no steps "
                                             r"\(its result, shape \[0, 3, 4\], is empty\)"):
        trace.step(0)
    with pytest.raises(ParameterError, match=r"start must be 0 for a trace with no steps "
                                             r"\(an empty batch\), got 1"):
        trace.steps(1)
    inputs = BackwardTrace(x, w, dy, "input")
    assert len(inputs) == 0 and replay(inputs).shape == (0, 2, 5)
    # every weight and bias gradient is a step of no terms, whose value is zero
    for part, shape in (("weight", (3, 2, 2)), ("bias", (3,))):
        steps = BackwardTrace(x, w, dy, part).steps()
        assert steps.deltas.shape == (np.prod(shape), 0)
        assert steps.value.tolist() == [0.0] * int(np.prod(shape))


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


# ----------------------------------------------------------------------------- 18: dtypes

# bool counts as 0 and 1; float16 computes in float64 like the integers
DTYPES = [np.bool_, np.uint8, np.int64, np.float16, np.float32, np.float64]
RNG = np.random.default_rng(18)
X_INT = RNG.integers(0, 4, (2, 2, 5))
W_INT = RNG.integers(0, 4, (3, 2, 2))
B_INT = RNG.integers(0, 4, 3)
DY_INT = RNG.integers(0, 4, (2, 3, 4))


def _expected_dtype(*dtypes) -> np.dtype:
    return np.dtype(np.float32 if all(d == np.float32 for d in dtypes) else np.float64)


@pytest.mark.parametrize(("x_dtype", "w_dtype"), list(itertools.product(DTYPES, repeat=2)),
                         ids=lambda d: np.dtype(d).name)
def test_every_mix_of_dtypes_follows_one_rule_everywhere(x_dtype, w_dtype):
    """float32 only when every array is float32, else float64: in forward, backward, the
    naive loops and the traces alike, with the numbers of a float64 computation (the values
    are small integers, exact in every dtype, so float32 results are exact too)."""
    x, w = X_INT.astype(x_dtype), W_INT.astype(w_dtype)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    for third in DTYPES:
        b, dy = B_INT.astype(third), DY_INT.astype(third)
        want_y = forward_naive(x64, w64, b.astype(np.float64))
        want_g = backward_naive(x64, w64, dy.astype(np.float64))
        dtype = _expected_dtype(x_dtype, w_dtype, third)

        for y in (forward(x, w, b), forward_naive(x, w, b), replay(ForwardTrace(x, w, b))):
            assert y.dtype == dtype, third
            np.testing.assert_array_equal(y, want_y)
        for grads in (backward(x, w, dy), backward_naive(x, w, dy)):
            for got, want in zip(grads, want_g, strict=True):
                assert got.dtype == dtype, third
                np.testing.assert_array_equal(got, want)
        for part, want in zip(("input", "weight", "bias"), want_g, strict=True):
            got = replay(BackwardTrace(x, w, dy, part))
            assert got.dtype == dtype, (third, part)
            np.testing.assert_array_equal(got, want)


def test_the_issues_int64_input_and_weight_with_a_float64_bias_give_float64():
    """PyTorch refuses this mix; the engine computes it in float64."""
    y = forward(np.array([[[1, 2, 3]]]), np.array([[[1, -1]]]), np.array([0.5]))

    assert y.dtype == np.float64
    assert y.tolist() == [[[-0.5, -0.5]]]


@pytest.mark.parametrize("order", [">", "<"], ids=["big-endian", "little-endian"])
def test_float32_in_either_byte_order_stays_float32(order):
    """A float32 array is float32 whatever its byte order (dtype('>f4') != np.float32 on
    this machine, and used to compute in float64)."""
    x, w = X_INT.astype(f"{order}f4"), W_INT.astype(f"{order}f4")

    y = forward(x, w)
    g = backward(x, w, DY_INT.astype(f"{order}f4"))

    assert y.dtype == np.float32
    assert {a.dtype for a in g} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(y, forward_naive(X_INT.astype(float), W_INT.astype(float)))



@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("input", lambda c: forward(X_INT.astype(c), W_INT)),
        ("weight", lambda c: forward(X_INT, W_INT.astype(c))),
        ("bias", lambda c: forward(X_INT, W_INT, B_INT.astype(c))),
        ("input", lambda c: forward_naive(X_INT.astype(c), W_INT)),
        ("bias", lambda c: ForwardTrace(X_INT, W_INT, B_INT.astype(c))),
        ("grad_output", lambda c: backward(X_INT, W_INT, DY_INT.astype(c))),
        ("weight", lambda c: backward(X_INT, W_INT.astype(c), DY_INT)),
        ("grad_output", lambda c: backward_naive(X_INT, W_INT, DY_INT.astype(c))),
        ("grad_output", lambda c: BackwardTrace(X_INT, W_INT, DY_INT.astype(c), "input")),
    ],
    ids=["forward-input", "forward-weight", "forward-bias", "naive-input", "trace-bias",
         "backward-grad_output", "backward-weight", "naive-grad_output", "trace-grad_output"],
)
def test_complex_arrays_are_refused_by_name(field, call, dtype):
    name = np.dtype(dtype).name
    with pytest.raises(ValueRangeError, match=rf"^{field} must hold real numbers, got dtype "
                                              rf"{name}$") as info:
        call(dtype)

    assert info.value.field == field


def test_a_complex_number_in_a_list_is_refused_by_name():
    with pytest.raises(ValueRangeError, match=r"weight must be a rectangular array of real "
                                              r"numbers \(.*complex.*\)") as info:
        forward([[1.0, 2.0, 3.0]], [[[1 + 2j]]])

    assert info.value.field == "weight"
