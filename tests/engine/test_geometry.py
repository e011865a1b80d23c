"""Output sizes and the padding forms: output_shape() and plan() against the formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from app.engine import forward, output_shape, plan

from .strategies import FAST, conv_cases


@FAST
@given(conv_cases())
def test_output_shape_is_the_formula_and_the_forward_shape(case):
    """``O = floor((I + Pb + Pa - D * (K - 1) - 1) / S) + 1`` per axis (``case.output_shape``
    works it out from the drawn parameters)."""
    predicted = output_shape(case.x.shape, case.weight.shape, **case.geometry_kwargs)

    assert predicted == case.output_shape
    assert forward(case.x, case.weight, case.bias, **case.kwargs).shape == predicted


@FAST
@given(conv_cases())
def test_plan_resolves_every_padding_form_to_pairs(case):
    geom = plan(case.x.shape, case.weight.shape, **case.kwargs)

    assert geom.padding == case.pairs
    assert geom.stride == case.stride
    assert geom.dilation == case.dilation
    assert geom.output_shape == case.output_shape
    assert geom.batched == case.batched


@pytest.mark.parametrize(
    ("input_shape", "weight_shape", "params", "expected"),
    [
        pytest.param((1, 1, 3, 3), (1, 1, 2, 2), {}, (1, 1, 2, 2), id="lesson"),
        pytest.param((1, 3, 3), (1, 1, 2, 2), {}, (1, 2, 2), id="unbatched"),
        pytest.param((2, 3, 7), (4, 3, 3), {"stride": 2}, (2, 4, 3), id="stride-exact"),
        pytest.param((2, 3, 8), (4, 3, 3), {"stride": 2}, (2, 4, 3), id="stride-rounds-down"),
        pytest.param((1, 1, 5), (1, 1, 3), {"dilation": 2}, (1, 1, 1), id="dilation"),
        pytest.param((1, 1, 5, 6), (1, 1, 3, 2), {"padding": "same"}, (1, 1, 5, 6), id="same"),
        pytest.param((1, 1, 5, 6), (1, 1, 3, 2), {"padding": "full"}, (1, 1, 7, 7), id="full"),
        pytest.param((1, 1, 5, 6), (1, 1, 3, 2), {"padding": "valid"}, (1, 1, 3, 5), id="valid"),
        pytest.param((1, 1, 5), (1, 1, 3), {"padding": [(2, 0)]}, (1, 1, 5), id="pairs"),
        pytest.param((6, 4, 4, 4), (6, 2, 1, 1, 1), {"groups": 3}, (6, 4, 4, 4),
                     id="3d-unbatched-groups"),
        pytest.param((1, 1, 2, 2, 2, 2), (1, 1, 1, 1, 1, 1), {"padding": 1},
                     (1, 1, 4, 4, 4, 4), id="4d"),
    ],
)
def test_output_shape_examples(input_shape, weight_shape, params, expected):
    assert output_shape(input_shape, weight_shape, **params) == expected


def test_same_padding_puts_the_odd_cell_after():
    x = np.array([[[1.0, 2, 3, 4, 5]]])
    first = np.array([[[1.0, 0, 0, 0]]])  # picks the first cell of each window
    last = np.array([[[0.0, 0, 0, 1]]])  # picks the last cell

    # total padding 3: one zero before, two after: [0, 1, 2, 3, 4, 5, 0, 0]
    assert plan(x.shape, first.shape, padding="same").padding == ((1, 2),)
    assert forward(x, first, padding="same").tolist() == [[[0, 1, 2, 3, 4]]]
    assert forward(x, last, padding="same").tolist() == [[[3, 4, 5, 0, 0]]]


def test_same_and_full_padding_scale_with_dilation():
    x = np.array([[[1.0, 2, 3]]])
    w = np.array([[[1.0, 0]]])

    assert plan(x.shape, w.shape, padding="same", dilation=2).padding == ((1, 1),)
    assert plan(x.shape, w.shape, padding="full", dilation=2).padding == ((2, 2),)
    # full: [0, 0, 1, 2, 3, 0, 0], dilated kernel footprint 3, picks the first cell
    assert forward(x, w, padding="full", dilation=2).tolist() == [[[0, 0, 1, 2, 3]]]


@pytest.mark.parametrize(
    ("padding_mode", "expected"),
    [
        ("zeros", [0, 0, 1, 2, 3, 0, 0]),
        ("reflect", [3, 2, 1, 2, 3, 2, 1]),
        ("replicate", [1, 1, 1, 2, 3, 3, 3]),
        ("circular", [2, 3, 1, 2, 3, 1, 2]),
    ],
)
def test_padding_modes_by_hand(padding_mode, expected):
    identity = np.ones((1, 1, 1))

    y = forward([[1.0, 2, 3]], identity, padding=2, padding_mode=padding_mode)

    assert y.tolist() == [expected]
