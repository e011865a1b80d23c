"""The transposed convolution's cost model: its peak-memory figure bounds what NumPy really
allocates, its arithmetic is the definition's, a geometry whose cropped output is small but
whose uncropped one is huge says so before anything runs, and every way the adjoint's input
gradient can be made stamps the naive loops' numbers."""

from __future__ import annotations

import importlib
import tracemalloc
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.engine import conv_transpose, conv_transpose_backward, plan_transposed
from app.engine.cost import (
    METHODS,
    input_gradient_method,
    transposed_backward_cost,
    transposed_cost,
)
from app.engine.naive import conv_transpose_naive

from .strategies import SLOW, transposed_cases

backward_module = importlib.import_module("app.engine.backward")


@pytest.mark.parametrize(("x_shape", "w_shape", "params", "method"), [
    ((2, 3, 20, 20), (3, 8, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, "taps"),
    ((8, 32, 32, 32), (32, 16, 4, 4), {"stride": 2, "padding": 1}, "taps"),
    ((2, 4, 30, 30), (4, 2, 5, 5), {"padding": 2}, "flat"),
    ((2, 2, 30, 30), (2, 4, 5, 5), {"groups": 2}, "transposed"),
    ((1, 1, 3000), (1, 1, 600), {"padding": 100}, "transposed"),
    ((1, 2, 6, 6, 6), (2, 2, 3, 3, 3),
     {"stride": 2, "dilation": 2, "output_padding": 1, "groups": 2}, "taps"),
    ((3, 4, 1, 50), (4, 2, 1, 300), {"stride": [1, 7]}, "positions"),
    ((2, 3, 40), (3, 2, 3), {"dilation": 4, "output_padding": 3, "padding": 1}, "flat"),
])
def test_the_peak_the_model_states_bounds_what_numpy_allocates(x_shape, w_shape, params,
                                                               method):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geom = plan_transposed(x.shape, w.shape, **params)
    assert input_gradient_method(geom.adjoint) == method  # each path is measured
    dy = rng.standard_normal(geom.output_shape)
    for run, cost in ((lambda: conv_transpose(x, w, **params), transposed_cost(geom)),
                      (lambda: conv_transpose_backward(x, w, dy, **params),
                       transposed_backward_cost(geom))):
        run()  # layouts cached, so the measured peak is the arrays alone
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= cost.peak_bytes * 1.1 + 64_000


def test_a_strided_call_counts_the_definitions_multiply_adds():
    """Every input element times every tap of each kernel of its group: 8 x 32 x 32 x 32
    elements, 16 kernels of 4 x 4 taps each."""
    geom = plan_transposed((8, 32, 32, 32), (32, 16, 4, 4), stride=2, padding=1)
    assert transposed_cost(geom).macs == 8 * 32 * 32 * 32 * 16 * 16
    assert transposed_backward_cost(geom).macs == 2 * 8 * 32 * 32 * 32 * 16 * 16


def test_a_small_output_of_a_huge_uncropped_one_costs_the_uncropped_one():
    """Kernel 2 dilated 10^8 over one input cell, padding 5 x 10^7 each side: the output is
    one cell, but the stamps land 10^8 cells apart before the padding crops them; the model
    says so (about 800 MB) before anything is allocated."""
    geom = plan_transposed((1, 1, 1), (1, 1, 2), dilation=10**8, padding=5 * 10**7)
    assert geom.out_spatial == (1,)
    assert transposed_cost(geom).peak_bytes > 8 * 10**8
    assert transposed_backward_cost(geom).peak_bytes > 8 * 10**8


def test_a_geometry_no_stamp_reaches_costs_only_its_output():
    geom = plan_transposed((1, 1, 1), (1, 1, 1), padding=1, dilation=3, output_padding=2)
    assert geom.adjoint is None
    assert transposed_cost(geom).macs == 0 and transposed_cost(geom).peak_bytes == 8
    assert conv_transpose(np.ones((1, 1, 1)), np.ones((1, 1, 1)), padding=1, dilation=3,
                          output_padding=2).tolist() == [[[0.0]]]


@pytest.mark.parametrize("method", METHODS)
@SLOW
@given(data=st.data())
def test_every_input_gradient_method_stamps_the_naive_output(method, data):
    stride_one = method in ("transposed", "flat")  # methods for stride 1 only
    case = data.draw(transposed_cases(max_stride=1 if stride_one else 4))
    geom = plan_transposed(case.x.shape, case.weight.shape, **case.kwargs)
    assume(geom.adjoint is not None)
    with mock.patch.object(backward_module, "input_gradient_method", lambda *_: method):
        got = conv_transpose(case.x, case.weight, case.bias, **case.kwargs)
    want = conv_transpose_naive(case.x, case.weight, case.bias, **case.kwargs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
