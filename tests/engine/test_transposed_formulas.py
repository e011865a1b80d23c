"""The transposed output-size formula as the page writes it: its numbers filled in, and its
result the size the engine's transposed convolution makes (PyTorch's, hand-computed here)."""

from __future__ import annotations

import pytest

from app.engine import ConvolutionError, conv_transpose_output_shape
from app.engine.transposed import transposed_size_formulas


def test_the_numbers_are_filled_in() -> None:
    # (2 − 1)·2 − 1 − 1 + 1·(3 − 1) + 1 + 1 = 4, by hand
    assert transposed_size_formulas((2,), (3,), stride=2, padding=1, output_padding=1) == [
        "O_L = (2 − 1)×2 − 1 − 1 + 1×(3 − 1) + 1 + 1 = 4"]


@pytest.mark.parametrize(("size", "kernel", "params", "expected"), [
    ((2, 2), (2, 2), {}, (3, 3)),  # the worked example
    ((4, 4), (3, 3), {"stride": 2}, (9, 9)),
    ((4, 4), (4, 4), {"stride": 2, "padding": 1}, (8, 8)),  # bilinear upsampling: twice
    ((3, 5), (2, 3), {"stride": (2, 1), "dilation": (1, 2), "output_padding": (1, 0)},
     (7, 9)),  # (3 − 1)·2 + 1·1 + 1 + 1; (5 − 1)·1 + 2·2 + 1
])
def test_the_result_is_the_engines_output_size(size, kernel, params, expected) -> None:
    lines = transposed_size_formulas(size, kernel, **params)
    assert tuple(int(line.rsplit("= ", 1)[1]) for line in lines) == expected
    assert conv_transpose_output_shape((1, *size), (1, 1, *kernel), **params)[1:] == expected


def test_an_axis_with_no_output_says_so_and_bad_parameters_are_named() -> None:
    (line,) = transposed_size_formulas((2,), (2,), padding=3)
    assert line.endswith("= -3: no output, the padding crops every cell")
    with pytest.raises(ConvolutionError, match="stride"):
        transposed_size_formulas((2,), (2,), stride=0)
