"""The pool's output-size formula as the /pool page writes it: the numbers filled in, floor
or ceil, and PyTorch's rule for a last window that would start in the right padding. The
results are worked out by hand here (and agree with app.engine.pool_output_shape)."""

from __future__ import annotations

import pytest

from app.engine import pool_output_shape
from app.engine.errors import ParameterError
from app.engine.pool_geometry import pool_size_formulas


def test_the_default_stride_is_the_kernel_and_the_division_rounds_down() -> None:
    # 8 cells, windows of 3 every 3: (8 - 2 - 1) / 3 = 1.67, floor 1, so 2 outputs
    assert pool_size_formulas((8, 8), (3, 3)) == [
        "O_H = ⌊(8 + 2×0 − 1×(3 − 1) − 1) / 3⌋ + 1 = 2",
        "O_W = ⌊(8 + 2×0 − 1×(3 − 1) − 1) / 3⌋ + 1 = 2"]
    assert pool_output_shape((1, 8, 8), [3, 3])[1:] == (2, 2)


def test_ceil_mode_writes_the_ceiling_and_what_the_floor_gives() -> None:
    # ceil(5 / 3) + 1 = 3; its last window starts at 6 < 8 + 0, inside the input: kept
    (line,) = pool_size_formulas((8,), (3,), ceil_mode=True)
    assert line == "O_L = ⌈(8 + 2×0 − 1×(3 − 1) − 1) / 3⌉ + 1 = 3 (floor: 2)"
    assert pool_output_shape((1, 8), 3, ceil_mode=True) == (1, 3)


def test_ceil_mode_drops_a_last_window_that_would_start_in_the_right_padding() -> None:
    # 5 cells, kernel 2, stride 2, padding 1: (5 + 2 - 1 - 1) / 2 = 2.5, ceil 3, + 1 = 4;
    # the 4th window would start at 3 x 2 = 6 >= 5 + 1, in the right padding: 3 outputs
    (line,) = pool_size_formulas((5,), (2,), stride=2, padding=1, ceil_mode=True)
    assert line == ("O_L = ⌈(5 + 2×1 − 1×(2 − 1) − 1) / 2⌉ + 1 = 4, less the last window, "
                    "which would start in the right padding (3×2 ≥ 5 + 1): 3 "
                    "(floor gives the same)")
    assert pool_output_shape((1, 5), 2, stride=2, padding=1, ceil_mode=True) == (1, 3)


def test_dilation_and_a_window_too_long_say_so() -> None:
    assert pool_size_formulas((4,), (2,), stride=1, dilation=2) == [
        "O_L = ⌊(4 + 2×0 − 2×(2 − 1) − 1) / 1⌋ + 1 = 2"]
    (line,) = pool_size_formulas((2,), (3,))
    assert line.endswith("no output, the window spans 3 cells but the padded input has only 2")


def test_a_bad_parameter_is_named() -> None:
    with pytest.raises(ParameterError) as caught:
        pool_size_formulas((4,), (2,), stride=0)
    assert caught.value.field == "stride"
