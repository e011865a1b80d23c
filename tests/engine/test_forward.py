"""Vectorised forward pass against the naive loops, SciPy, np.pad and its own symmetries."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given

from app.engine import forward
from app.engine.naive import forward_naive

from .strategies import FAST, NP_PAD_MODES, SLOW, Case, conv_cases


def dilate(kernel: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The kernel with ``d - 1`` zeros between taps along each axis (a single-channel array)."""
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel.shape, dilation, strict=True))
    out = np.zeros(extent)
    out[tuple(slice(None, None, d) for d in dilation)] = kernel
    return out


@SLOW
@given(conv_cases())
def test_forward_matches_naive(case):
    x, w = case.x.copy(), case.weight.copy()

    y = forward(case.x, case.weight, case.bias, **case.kwargs)

    assert y.shape == case.output_shape
    assert y.dtype == np.float64
    np.testing.assert_allclose(
        y, forward_naive(case.x, case.weight, case.bias, **case.kwargs), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_array_equal(case.x, x)  # inputs are left alone
    np.testing.assert_array_equal(case.weight, w)


def scipy_reference(case: Case, scipy_mode: str) -> np.ndarray:
    """Single-channel ``case`` by scipy.signal: explicit zero padding, a dilated kernel, and
    strides by slicing."""
    x = case.x.reshape(case.x.shape[-case.ndim:])
    w = dilate(case.weight[0, 0], case.dilation)
    if scipy_mode == "valid":
        x = np.pad(x, case.pairs)
    op = scipy.signal.convolve if case.kwargs["mode"] == "convolution" else \
        scipy.signal.correlate
    full = op(x, w, mode=scipy_mode, method="direct")
    return full[tuple(slice(None, None, s) for s in case.stride)]


@FAST
@given(conv_cases(single_channel=True, padding_modes=("zeros",)))
def test_single_channel_matches_scipy_on_the_padded_input(case):
    y = forward(case.x, case.weight, **case.kwargs)

    np.testing.assert_allclose(y.reshape(y.shape[-case.ndim:]), scipy_reference(case, "valid"),
                               rtol=1e-12, atol=1e-12)


@FAST
@given(conv_cases(single_channel=True, padding_forms=("full",), padding_modes=("zeros",)))
def test_full_padding_matches_scipy_full(case):
    y = forward(case.x, case.weight, **case.kwargs)

    np.testing.assert_allclose(y.reshape(y.shape[-case.ndim:]), scipy_reference(case, "full"),
                               rtol=1e-12, atol=1e-12)


@FAST
@given(conv_cases(single_channel=True, padding_forms=("same",), padding_modes=("zeros",),
                  odd_kernel=True))
def test_same_padding_with_odd_kernels_matches_scipy_same(case):
    y = forward(case.x, case.weight, **case.kwargs)

    assert y.shape[-case.ndim:] == case.x.shape[-case.ndim:]
    np.testing.assert_allclose(y.reshape(y.shape[-case.ndim:]), scipy_reference(case, "same"),
                               rtol=1e-12, atol=1e-12)


@FAST
@given(conv_cases(padding_modes=("reflect", "replicate", "circular", "zeros")))
def test_padding_modes_match_numpy_pad(case):
    lead = [(0, 0)] * (case.x.ndim - case.ndim)
    padded = np.pad(case.x, [*lead, *case.pairs], mode=NP_PAD_MODES[case.kwargs["padding_mode"]])
    kwargs = {**case.kwargs, "padding": 0, "padding_mode": "zeros"}

    np.testing.assert_allclose(
        forward(case.x, case.weight, case.bias, **case.kwargs),
        forward(padded, case.weight, case.bias, **kwargs),
        rtol=1e-12, atol=1e-12,
    )


@FAST
@given(conv_cases(modes=("convolution",)))
def test_convolution_is_correlation_with_the_kernel_flipped_on_every_axis(case):
    flipped = np.flip(case.weight, axis=tuple(range(2, case.weight.ndim)))
    kwargs = {**case.kwargs, "mode": "cross-correlation"}

    np.testing.assert_allclose(
        forward(case.x, case.weight, case.bias, **case.kwargs),
        forward(case.x, flipped, case.bias, **kwargs),
        rtol=1e-12, atol=1e-12,
    )


@FAST
@given(conv_cases(batched=True))
def test_groups_are_independent_convolutions(case):
    g = case.kwargs["groups"]
    xs = np.split(case.x, g, axis=1)
    ws = np.split(case.weight, g, axis=0)
    bs = [None] * g if case.bias is None else np.split(case.bias, g)
    kwargs = {**case.kwargs, "groups": 1}

    expected = np.concatenate(
        [forward(xg, wg, bg, **kwargs) for xg, wg, bg in zip(xs, ws, bs, strict=True)], axis=1
    )

    np.testing.assert_allclose(forward(case.x, case.weight, case.bias, **case.kwargs), expected,
                               rtol=1e-12, atol=1e-12)


@FAST
@given(conv_cases())
def test_float32_in_gives_float32_out_close_to_float64(case):
    x32, w32 = case.x.astype(np.float32), case.weight.astype(np.float32)
    b32 = None if case.bias is None else case.bias.astype(np.float32)

    y32 = forward(x32, w32, b32, **case.kwargs)
    y64 = forward(x32.astype(np.float64), w32.astype(np.float64),
                  None if b32 is None else b32.astype(np.float64), **case.kwargs)

    assert y32.dtype == np.float32
    assert y64.dtype == np.float64
    scale = max(1.0, float(np.abs(y64).max(initial=0)))
    np.testing.assert_allclose(y32, y64, rtol=1e-5, atol=1e-5 * scale)


X = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4) / 10
W = np.linspace(-1, 1, 4 * 3 * 2 * 2).reshape(4, 3, 2, 2)
B = np.array([0.5, -1.0, 2.0, 0.0])


@pytest.mark.parametrize(
    ("x", "weight", "bias"),
    [
        pytest.param(X.astype(np.float32), W, None, id="float64-weight"),
        pytest.param(X, W.astype(np.float32), None, id="float64-input"),
        pytest.param(X.astype(np.float32), W.astype(np.float32), B, id="float64-bias"),
        pytest.param(X.astype(np.float32), W.astype(np.float32), [0, 1, 2, 3], id="list-bias"),
        pytest.param(X.astype(np.int64), W.astype(np.float32), None, id="int-input"),
        pytest.param(X.astype(np.float16), W.astype(np.float16), None, id="float16"),
        pytest.param(X.tolist(), W.tolist(), B.tolist(), id="lists"),
    ],
)
def test_anything_but_all_float32_computes_in_float64(x, weight, bias):
    y = forward(x, weight, bias)

    assert y.dtype == np.float64
    assert y.shape == (2, 4, 3, 3)


@FAST
@given(conv_cases(batched=False))
def test_unbatched_input_equals_batched_first_sample(case):
    y = forward(case.x, case.weight, case.bias, **case.kwargs)

    assert y.shape == case.output_shape
    np.testing.assert_array_equal(y, forward(case.x[None], case.weight, case.bias,
                                             **case.kwargs)[0])


@FAST
@given(conv_cases(with_bias=True))
def test_bias_adds_one_value_per_output_channel(case):
    without = forward(case.x, case.weight, **case.kwargs)
    with_bias = forward(case.x, case.weight, case.bias, **case.kwargs)

    channel_axis = 1 if case.batched else 0
    per_channel = np.expand_dims(case.bias, tuple(range(channel_axis))
                                 + tuple(range(channel_axis + 1, without.ndim)))
    np.testing.assert_allclose(with_bias, without + per_channel, rtol=1e-12, atol=1e-12)




RNG = np.random.default_rng(7)
LAYOUTS = {
    "fortran": np.asfortranarray(RNG.standard_normal((2, 2, 6, 5))),
    "strided": RNG.standard_normal((2, 4, 12, 5))[:, ::2, ::2],
    "transposed": RNG.standard_normal((5, 6, 2, 2)).transpose(2, 3, 1, 0),
    "broadcast": np.broadcast_to(RNG.standard_normal(5), (2, 2, 6, 5)),
}
W_FORTRAN = np.asfortranarray(RNG.standard_normal((3, 2, 3, 2)))


@pytest.mark.parametrize("x", LAYOUTS.values(), ids=LAYOUTS.keys())
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_memory_layout_does_not_matter(x, padding_mode):
    readonly = x.copy()
    readonly.flags.writeable = False
    params = {"padding": 1, "padding_mode": padding_mode}

    y = forward(x, W_FORTRAN, **params)

    np.testing.assert_array_equal(y, forward(np.array(x, order="C"),
                                             np.array(W_FORTRAN, order="C"), **params))
    np.testing.assert_array_equal(y, forward(readonly, W_FORTRAN, **params))
