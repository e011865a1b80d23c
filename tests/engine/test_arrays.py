"""The array helpers: windows() against sliding_window_view, pad() against np.pad, and
unpad_grad() as pad()'s adjoint."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from numpy.lib.stride_tricks import sliding_window_view

from app.engine import plan
from app.engine.arrays import pad, unpad_grad, windows

from .strategies import FAST, NP_PAD_MODES, Case, conv_cases, real_arrays


def batched_x(case: Case) -> np.ndarray:
    return case.x if case.batched else case.x[None]


@FAST
@given(conv_cases())
def test_windows_equal_sliding_window_view_sliced(case):
    x = batched_x(case)
    geom = plan(x.shape, case.weight.shape, **case.kwargs)
    xp = np.pad(x, [(0, 0), (0, 0), *case.pairs])
    ndim = case.ndim
    extent = tuple(d * (k - 1) + 1 for k, d in zip(case.weight.shape[2:], case.dilation,
                                                  strict=True))

    view = sliding_window_view(xp, extent, axis=tuple(range(2, 2 + ndim)))
    expected = view[(slice(None), slice(None),
                     *(slice(None, None, s) for s in case.stride),
                     *(slice(None, None, d) for d in case.dilation))]

    got = windows(xp, geom)
    assert got.shape == (*x.shape[:2], *case.out_spatial, *case.weight.shape[2:])
    np.testing.assert_array_equal(got, expected)
    # the same view in im2col order: (N, C, *K, *O)
    im2col = windows(xp, geom, kernel_first=True)
    order = (0, 1, *range(2 + ndim, 2 + 2 * ndim), *range(2, 2 + ndim))
    np.testing.assert_array_equal(im2col, expected.transpose(order))


@FAST
@given(conv_cases())
def test_pad_equals_numpy_pad(case):
    x = batched_x(case)
    geom = plan(x.shape, case.weight.shape, **case.kwargs)

    expected = np.pad(x, [(0, 0), (0, 0), *case.pairs],
                      mode=NP_PAD_MODES[case.kwargs["padding_mode"]])

    np.testing.assert_array_equal(pad(x, geom), expected)


@FAST
@given(conv_cases().flatmap(
    lambda case: real_arrays(np.pad(batched_x(case), [(0, 0), (0, 0), *case.pairs]).shape)
    .map(lambda g: (case, g))
))
def test_unpad_grad_is_the_adjoint_of_pad(case_grad):
    """``<pad(x), g> == <x, unpad_grad(g)>`` for every padding mode."""
    case, g = case_grad
    x = batched_x(case)
    geom = plan(x.shape, case.weight.shape, **case.kwargs)

    folded = unpad_grad(g, geom)

    assert folded.shape == x.shape
    assert np.isclose(np.vdot(pad(x, geom), g), np.vdot(x, folded), rtol=1e-12, atol=1e-12)
