"""The cost model and the paths it chooses: every input-gradient method gives the naive
loops' numbers, the geometries that used to cost seconds and gigabytes are cheap, the model's
peak-memory figure bounds what NumPy really allocates, and the caches stay within bytes."""

from __future__ import annotations

import importlib
import tracemalloc
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given

from app.engine import (
    avg_pool,
    avg_pool_backward,
    backward,
    forward,
    max_pool,
    max_pool_backward,
    plan,
    pool_plan,
)
from app.engine.cost import (
    METHODS,
    backward_cost,
    forward_cost,
    input_gradient_method,
    pool_backward_cost,
    pool_forward_cost,
    pool_trace_terms_per_step,
    trace_terms_per_step,
)
from app.engine.forward import schedule
from app.engine.naive import backward_naive
from app.engine.pool_trace import PoolTrace
from app.engine.trace import BackwardTrace, ForwardTrace

from .strategies import SLOW, backward_cases, pool_cases

backward_module = importlib.import_module("app.engine.backward")  # the module, not the function


@pytest.mark.parametrize("method", METHODS)
@SLOW
@given(case_dy=backward_cases(max_stride=5))
def test_every_input_gradient_method_gives_the_naive_gradient(method, case_dy):
    case, dy = case_dy
    geom = plan(case.x.shape, case.weight.shape, **case.kwargs)
    if method in ("transposed", "flat"):  # stride-1 methods
        assume(geom.work_stride == (1,) * geom.ndim)
    with mock.patch.object(backward_module, "input_gradient_method", lambda *_: method):
        got = backward(case.x, case.weight, dy, **case.kwargs)
    want = backward_naive(case.x, case.weight, dy, **case.kwargs)
    np.testing.assert_allclose(got.grad_input, want.grad_input, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.grad_weight, want.grad_weight, rtol=1e-12, atol=1e-12)


def _gradients_of(x, w, **params):
    y = forward(x, w, **params)
    return backward(x, w, np.ones_like(y), **params)


@pytest.mark.parametrize("stride", [4, 7, 10_000_000, 2**31, 2**62])
def test_a_stride_past_the_input_costs_what_stride_1_costs(stride):
    """The issue's 67-byte request: [0, 1, 2] with a 1-tap kernel and a huge stride held the
    server for 33-39 s and 2.8 GB; 2^31 killed it. One output, so the stride never moves."""
    geom = plan((1, 3), (1, 1, 1), stride=stride)
    assert geom.out_spatial == (1,)
    assert backward_cost(geom).peak_bytes < 1_000
    g = _gradients_of(np.array([[0.0, 1, 2]]), np.ones((1, 1, 1)), stride=stride)
    assert g.grad_input.tolist() == [[1.0, 0.0, 0.0]]  # only the first cell is read
    assert g.grad_weight.tolist() == [[[0.0]]]


def test_two_huge_strides_in_2d():
    g = _gradients_of(np.array([[[0.0, 1], [2, 3]]]), np.ones((1, 1, 1, 1)),
                      stride=[3000, 3000])
    assert g.grad_input.tolist() == [[[1.0, 0.0], [0.0, 0.0]]]


def test_a_stride_between_kernel_and_input_keeps_only_the_residues_taps_reach():
    """Stride 1,000 over 3,000 cells with a 2-tap kernel: two residues, not 1,000 grids."""
    x = np.arange(3000.0)[None]
    w = np.array([[[1.0, -1.0]]])
    geom = plan(x.shape, w.shape, stride=1000)
    assert input_gradient_method(geom) == "taps"
    g = _gradients_of(x, w, stride=1000)
    want = backward_naive(x, w, np.ones((1, 3)), stride=1000)
    np.testing.assert_array_equal(g.grad_input, want.grad_input)
    assert backward_module.phase_layout(geom).shape == (1, 1, 2, 3)


def test_a_kernel_as_long_as_the_input_adds_one_window_not_250000_taps():
    """Input and kernel of 250,000 ones took 126-133 s: the "full" correlation cost
    input x kernel. One output position: the gradient is the kernel itself."""
    x, w = np.ones((1, 250_000)), np.linspace(-1, 1, 250_000)[None, None]
    geom = plan(x.shape, w.shape)
    assert input_gradient_method(geom) == "positions"
    assert backward_cost(geom).macs < 1_000_000
    g = backward(x, w, np.ones((1, 1)))
    np.testing.assert_array_equal(g.grad_input[0], w[0, 0])
    np.testing.assert_array_equal(g.grad_weight[0, 0], x[0])


def test_a_dilated_kernel_over_a_wide_padded_row_needs_no_workspace_that_wide():
    """Two 1x301 kernels, dilation 6680 and padding to match: the flat layout asked for
    gigabytes (a run as wide as the 2-million-cell padded row, per tap)."""
    pad = 6680 * 300 // 2
    params = {"dilation": [1, 6680], "padding": [[0, 0], [pad, pad]]}
    x = np.array([[[1.0], [2.0]]])
    w = np.arange(602.0).reshape(2, 1, 1, 301)
    geom = plan(x.shape, w.shape, **params)
    assert input_gradient_method(geom) != "flat"
    assert backward_cost(geom).peak_bytes < 200 << 20
    dy = np.array([[[1.0], [1.0]], [[2.0], [3.0]]])
    g = backward(x, w, dy, **params)
    # the middle tap (150) of each kernel is the only one over a real cell
    assert g.grad_input.tolist() == [[[1 * 150.0 + 2 * 451.0], [1 * 150.0 + 3 * 451.0]]]


@pytest.mark.parametrize(("x_shape", "w_shape", "params"), [
    ((2, 3, 40, 40), (8, 3, 3, 3), {"padding": 1}),
    ((2, 3, 40, 40), (8, 3, 3, 3), {"stride": 2, "padding": 2}),
    ((1, 4, 30, 30), (2, 4, 5, 5), {"padding": 3, "padding_mode": "reflect"}),
    ((1, 1, 3000), (1, 1, 600), {"padding": 100}),
    ((1, 2, 12, 12, 12), (4, 1, 3, 3, 3), {"groups": 2, "dilation": 2, "padding": 2}),
    ((1, 1, 2, 1), (2, 1, 1, 300), {"dilation": [1, 60], "padding": [[0, 0], [9000, 9000]]}),
])
def test_the_peak_the_model_states_bounds_what_numpy_allocates(x_shape, w_shape, params):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geom = plan(x.shape, w.shape, **params)
    dy = rng.standard_normal(geom.output_shape)
    for run, cost in ((lambda: forward(x, w, **params), forward_cost(geom)),
                      (lambda: backward(x, w, dy, **params), backward_cost(geom))):
        run()  # layouts cached, so the measured peak is the arrays alone
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= cost.peak_bytes * 1.1 + 64_000


def test_the_layout_caches_stay_within_their_byte_bounds():
    """300 distinct geometries with 200-tap kernels (~140 KB of layout each, 40 MB in all):
    what stays cached is bounded."""
    caches = (schedule, backward_module.phase_layout, backward_module.flat_layout)
    for cache in caches:
        cache.cache_clear()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for length in range(2100, 2400):
        geom = plan((1, 1, 2, length), (1, 1, 2, 100), stride=(1, 3))
        schedule(geom)
        backward_module.phase_layout(geom)
        backward_module.flat_layout(plan((1, 1, 2, length), (1, 1, 2, 100)))
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    bound = sum(c.max_bytes for c in caches)
    assert sum(c.bytes for c in caches) <= bound
    assert kept <= 1.5 * bound  # the size estimates are honest to within half
    assert all(len(c) > 0 for c in caches)


@SLOW
@given(case_dy=backward_cases(max_stride=4))
def test_no_trace_step_has_more_terms_than_the_model_says(case_dy):
    case, dy = case_dy
    geom = plan(case.x.shape, case.weight.shape, **case.kwargs)
    for part in ("input", "weight", "bias"):
        steps = BackwardTrace(case.x, case.weight, dy, part, **case.kwargs).steps()
        terms = np.diff(steps.offsets) if part == "input" else \
            [steps.deltas.shape[1]] * len(steps)
        assert max(terms, default=0) <= trace_terms_per_step(geom, part)
    forward_steps = ForwardTrace(case.x, case.weight, **case.kwargs).steps()
    assert forward_steps.products.shape[1] == trace_terms_per_step(geom, "forward")


# ----------------------------------------------------------------------------- pooling

POOLS = [
    ("max", (8, 16, 64, 64), 2, {}),
    ("avg", (8, 16, 64, 64), 2, {}),
    ("max", (2, 3, 40, 40), 3, {"stride": 1, "padding": 1}),
    ("avg", (2, 3, 40, 40), 3, {"stride": 2, "padding": 1, "ceil_mode": True,
                                "count_include_pad": False}),
    ("max", (1, 2, 12, 12, 12), 3, {"stride": 2, "dilation": 2, "ceil_mode": True}),
    ("max", (4, 3000), 1000, {"stride": 1, "padding": 500}),  # loops over windows
    ("avg", (4, 3000), 1000, {"stride": 1, "padding": 500}),
]


@pytest.mark.parametrize(("kind", "shape", "kernel", "params"), POOLS,
                         ids=[f"{k}-{s}-k{kk}" for k, s, kk, _ in POOLS])
def test_the_peak_the_pool_model_states_bounds_what_numpy_allocates(kind, shape, kernel,
                                                                    params):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    geom = pool_plan(x.shape, kind, kernel, **params)
    dy = rng.standard_normal(geom.output_shape)
    forward_ = max_pool if kind == "max" else avg_pool
    backward_ = max_pool_backward if kind == "max" else avg_pool_backward
    for run, cost in ((lambda: forward_(x, kernel, **params), pool_forward_cost(geom)),
                      (lambda: backward_(x, dy, kernel, **params), pool_backward_cost(geom))):
        run()  # layouts cached, so the measured peak is the arrays alone
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= cost.peak_bytes * 1.1 + 64_000
        if cost.peak_bytes > 1 << 20:  # nor, for sizes that matter, overstate it wildly
            assert peak >= cost.peak_bytes / 4


def test_the_pool_model_counts_the_cells_the_windows_read():
    """4 x 4 input, 2 x 2 windows, stride 1, padding 1: 5 x 5 windows; the corner ones
    read one input cell, the edge ones two, the 9 inner ones four: 4 + 24 + 36 = 64 per
    map, and 2 maps."""
    geom = pool_plan((2, 4, 4), "max", [2, 2], stride=1, padding=1)
    assert pool_forward_cost(geom).macs == 2 * 64
    assert pool_backward_cost(geom).macs == 2 * 2 * 64  # the max again, then the routing


def test_a_billion_tap_window_costs_the_cells_it_reads():
    geom = pool_plan((1, 3), "max", 10**9, stride=1, padding=5 * 10**8)
    cost = pool_backward_cost(geom)
    assert cost.macs == 2 * 4 * 3 and cost.loops < 20 and cost.peak_bytes < 300_000


@SLOW
@given(case=pool_cases())
def test_no_pool_trace_step_has_more_terms_than_the_model_says(case):
    steps = PoolTrace(case.x, case.kind, **case.kwargs).steps()
    geom = pool_plan(case.x.shape, case.kind, **case.kwargs)
    assert steps.inputs.shape[1] == pool_trace_terms_per_step(geom)
