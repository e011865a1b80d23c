"""A grid of values drawn as a grey-scale picture: each value mapped linearly onto 256 greys,
black at the scale's low end and white at its high end.

This is presentation, not maths: the values are the engine's, and only their grey is
decided here. A level is ``floor(255 · (v − lo) / (hi − lo) + 1/2)``, rounded half up; a value
beyond the scale takes the end's grey and is marked clipped (``lo`` or ``hi``); NaN is
mid-grey, marked ``nan``. A scale whose ends are equal (a constant picture) draws that value
mid-grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..i18n import gettext
from .formatting import format_number

LEVELS = 255  # the brightest grey: 8 bits, what a screen shows


@dataclass(frozen=True)
class GreyScale:
    """The values drawn black (``lo``) and white (``hi``)."""

    lo: float
    hi: float

    @classmethod
    def of(cls, *arrays: np.ndarray) -> GreyScale:
        """The range of the finite values of ``arrays`` (0 to 0 if none is finite)."""
        finite = [a[np.isfinite(a)] for a in map(np.asarray, arrays)]
        finite = [a for a in finite if a.size]
        if not finite:
            return cls(0.0, 0.0)
        return cls(float(min(a.min() for a in finite)), float(max(a.max() for a in finite)))

    def level(self, value: float) -> tuple[int, str | None]:
        """The grey of ``value`` (0-255), and ``lo``/``hi``/``nan`` when it is clipped."""
        if math.isnan(value):
            return LEVELS // 2 + 1, "nan"
        if value < self.lo:
            return 0, "lo"
        if value > self.hi:
            return LEVELS, "hi"
        if self.hi == self.lo:
            return LEVELS // 2 + 1, None
        # halves: the same quotient (halving is exact), and no overflow for ranges near 1e308
        t = (value * 0.5 - self.lo * 0.5) / (self.hi * 0.5 - self.lo * 0.5)
        return min(LEVELS, math.floor(t * LEVELS + 0.5)), None

    def clipped(self, array: np.ndarray) -> int:
        """How many values of ``array`` lie beyond the scale (NaN included)."""
        a = np.asarray(array)
        return int(np.count_nonzero(~((a >= self.lo) & (a <= self.hi))))

    @property
    def words(self) -> str:
        """The scale in words: ``black = −4, white = 9``."""
        if self.lo == self.hi:
            return gettext("every value is %(value)s, drawn mid-grey") % {
                "value": format_number(self.lo)}
        return gettext("black = %(lo)s, white = %(hi)s") % {"lo": format_number(self.lo),
                                                           "hi": format_number(self.hi)}
