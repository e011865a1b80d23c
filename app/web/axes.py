"""A plot's axes as the pages draw them in SVG: a linear map from data to SVG units, and tick
values at round steps (1, 2 or 5 times a power of ten), written as the page writes numbers.

Shared by the 1D page's plots and the backprop page's loss plot. The type of the tick labels
is sized in SVG units (``app.css``: ``.plot .ticks``) so that at a plot's usual drawn size it
reads at 13 px, and at 24 px or more in projector mode; the margins leave room for that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup, escape

from .formatting import format_number


@dataclass(frozen=True)
class Axis:
    """A linear map from data to SVG units."""

    lo: float
    hi: float
    out_lo: float
    out_hi: float

    def __call__(self, value: float) -> float:
        return round(float(self.many(value)), 1)

    def many(self, values) -> np.ndarray:
        span = self.hi - self.lo or 1.0
        return self.out_lo + (np.asarray(values, dtype=float) - self.lo) / span * (
            self.out_hi - self.out_lo)


def polyline_points(xs, ys, tx: Axis, ty: Axis) -> str:
    """SVG ``points`` for the data points ``(xs, ys)``, to a tenth of a unit."""
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(tx.many(xs).tolist(),
                                                      ty.many(ys).tolist(), strict=True))


def nice_step(span: float, most: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ that cuts ``span`` into at most ``most`` intervals."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / max(most, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw * (1 - 1e-9):
            return factor * power
    return 10 * power


def ticks(lo: float, hi: float, most: float, integer: bool = False) -> list[float]:
    """Round values from ``lo`` to ``hi`` (both included when round), at most ``most + 1``;
    ``integer`` keeps the step whole (sample indices)."""
    step = nice_step(hi - lo, most)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9)
    values = []
    k = first
    while k * step <= hi + step * 1e-9:
        value = k * step
        values.append(0.0 if abs(value) < step * 1e-9 else round(value, 12))
        k += 1
    return values


def value_ticks(axis: Axis, gap: float) -> list[float]:
    """Round values along ``axis``, labels at least ``gap`` SVG units apart."""
    room = abs(axis.out_hi - axis.out_lo)
    return ticks(axis.lo, axis.hi, room / gap)


def tick_marks(tx: Axis | None, ty: Axis | None, *, x_values=(), y_values=(),
               x_at: float = 0, y_at: float = 0, side: str = "left", unit: str = "",
               css: str = "ticks") -> Markup:
    """SVG for tick labels and short marks: ``x_values`` along the bottom edge (baseline
    ``x_at``), ``y_values`` at the left (or right) edge ``y_at``; ``unit`` (the x axis's name)
    in the bottom-left corner."""
    parts = [f'<g class="{css}" aria-hidden="true">']
    if tx is not None:
        for v in x_values:
            x = tx(v)
            parts.append(f'<text class="tx" x="{x}" y="{x_at}">{escape(format_number(v))}</text>')
    if ty is not None:
        anchor = "end" if side == "left" else "start"
        mark = -5 if side == "left" else 5
        for v in y_values:
            y = ty(v)
            parts.append(f'<line class="tm" x1="{y_at}" x2="{y_at + mark}" y1="{y}" y2="{y}"/>'
                         f'<text class="ty {anchor}" x="{y_at + 2 * mark}" y="{y}">'
                         f'{escape(format_number(v))}</text>')
    if unit:
        parts.append(f'<text class="unit" x="4" y="{x_at}">{escape(unit)}</text>')
    parts.append("</g>")
    return Markup("".join(parts))
