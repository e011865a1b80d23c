"""Numbers as the pages write them: in a cell, a sum, a title, a URL."""

from __future__ import annotations

import math
from functools import lru_cache

#: digits as subscripts, for the lesson's names: x₁, w₃, δ₂, b₁
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _spelled(value: float) -> str | None:
    """∞, −∞ and NaN as a page writes them (no number to round), else ``None``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return None


def format_exact(value: float) -> str:
    """The shortest text that reads back as exactly this float: integers without a point
    (``3``), others as Python's ``repr`` (``0.1``, ``1e-07``), and ``inf``/``nan`` spelled so
    ``float()`` reads them. What a values box, a URL or a cell's title holds."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return _compact(repr(value))


# A big grid writes the same few values many times (a 28x28 digit's ~1,700 cells hold a few
# dozen): each text is made once, ~15 % of rendering its scene (bench: render A/B in one run).
@lru_cache(maxsize=4096)
def format_full(value: float) -> str:
    """A number in full, as a cell's title and accessible name say it: exact
    (:func:`format_exact`), with ∞, −∞ and NaN spelled."""
    spelled = _spelled(float(value))
    return format_exact(value) if spelled is None else spelled


def format_number(value: float) -> str:
    """A number as the page writes it: integers without a point, else up to 3 decimals;
    ∞, −∞ and NaN spelled."""
    value = float(value)
    spelled = _spelled(value)
    if spelled is not None:
        return spelled
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return _compact(f"{value:.3g}")
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _compact(text: str) -> str:
    """``1.50e+12`` as ``1.5e12``, ``2e-05`` as ``2e-5``: the exponent without its ``+`` and
    leading zeros, the mantissa without trailing zeros."""
    if "e" not in text or not text[-1].isdigit():  # inf, nan
        return text
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


@lru_cache(maxsize=4096)
def format_fit(value: float, chars: int) -> str:
    """A number in at most ``chars`` characters, with as many significant digits as fit
    (``-0.858`` in 5 is ``-0.86``, ``-1.05e12`` is ``-1e12``, in 7 ``-1.1e12``); ∞, −∞ and NaN
    spelled. A number no text of ``chars`` can hold (``-1e-300`` in 5) gets its shortest; the
    grid's cell shrinks its type to show it whole (app.css, ``.cell.n7``)."""
    value = float(value)
    spelled = _spelled(value)
    if spelled is not None:
        return spelled
    exact = format_exact(value)
    if len(exact) <= chars:
        return exact
    shortest = exact
    for digits in range(min(chars, 17), 0, -1):
        for text in (_compact(f"{value:.{digits}g}"), _compact(f"{value:.{digits - 1}e}")):
            if len(text) <= chars:
                return text
            shortest = min(shortest, text, key=len)
    return shortest


def format_cell(value: float, scale: float, chars: int = 5) -> str:
    """A number short enough for a grid cell (``chars`` characters, see :func:`format_fit`):
    rounding noise (below 10⁻¹² of the grid's largest value) reads 0."""
    value = float(value)
    if math.isfinite(value) and abs(value) <= 1e-12 * max(scale, 1.0):
        return "0"
    return format_fit(value, chars)


def format_factor(value: float) -> str:
    """A number as a factor in a product: negatives in parentheses, ``2×(-1)``."""
    text = format_number(float(value))
    return f"({text})" if text.startswith(("-", "−")) else text


def format_product(*factors: float) -> str:
    """A product as a sum's term writes it, each factor by :func:`format_factor`: ``2×(-1)``."""
    return "×".join(map(format_factor, factors))


def format_matrix(matrix: list[list[float]]) -> str:
    """Values for a URL, each exact (:func:`format_exact`): ``0,1.5;2,3``."""
    return ";".join(",".join(format_exact(v) for v in row) for row in matrix)
