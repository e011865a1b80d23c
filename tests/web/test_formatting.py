"""How the pages write numbers: whole, short enough for their cell, ∞ and NaN spelled."""

from __future__ import annotations

import math

import pytest

from app.web.formatting import (
    format_cell,
    format_exact,
    format_factor,
    format_fit,
    format_full,
    format_matrix,
    format_number,
)

SPELLED = {math.inf: "∞", -math.inf: "−∞", math.nan: "NaN"}


@pytest.mark.parametrize("value", list(SPELLED))
def test_every_format_accepts_infinity_and_nan(value: float) -> None:
    spelled = SPELLED[value]
    assert format_number(value) == spelled
    assert format_fit(value, 4) == spelled
    assert format_cell(value, 1.0) == spelled
    assert format_full(value) == spelled
    assert format_factor(value) == (f"({spelled})" if value < 0 else spelled)
    assert float(format_exact(value)) == value or math.isnan(value)
    assert format_matrix([[value]]) == format_exact(value)


@pytest.mark.parametrize(("value", "chars", "shown"), [
    (-1.05e12, 5, "-1e12"), (2.2e12, 6, "2.2e12"), (-0.858, 5, "-0.86"), (-0.858, 6, "-0.858"),
    (1e-9, 5, "1e-9"), (123456.0, 5, "1.2e5"), (1234.5, 4, "1234"), (7.0, 3, "7"),
])
def test_a_number_gets_the_digits_its_cell_holds(value: float, chars: int, shown: str) -> None:
    assert format_fit(value, chars) == shown


@pytest.mark.parametrize("value", [0.1 + 0.2, 1 / 3, -1.05e12, 1e-300, 14.939234, 2.0])
def test_exact_text_reads_back_as_the_same_float(value: float) -> None:
    assert float(format_exact(value)) == value
