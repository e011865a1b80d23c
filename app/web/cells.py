"""A grid's cells as the pages write them: the value's text sized to its cell, a colour on a
diverging scale, the kernel tap over it and its badge."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape as escape_text

from markupsafe import Markup

from .formatting import format_fit

TAP_COLOURS = 8  # Okabe-Ito palette, cycled

#: A grid's size class by its longest side (cells), and how many characters its cells hold
#: at their size (app.css: ``.grid.g-*``); a longer text shrinks its type (``.cell.n*``).
GRID_SIZES = ((4, "g-xs", 6), (6, "g-s", 5), (12, "g-m", 5), (20, "g-l", 4), (None, "g-xl", 4))


def grid_size(side: int) -> tuple[str, int]:
    """The size class of a grid ``side`` cells across, and the characters its cells hold."""
    for limit, name, chars in GRID_SIZES:
        if limit is None or side <= limit:
            return name, chars
    raise AssertionError("GRID_SIZES ends with a catch-all")


def fit(value: float, side: int) -> str:
    """A value as a cell of a grid ``side`` cells across shows it: as many significant digits
    as the cell holds (:func:`~app.web.formatting.format_fit`)."""
    return format_fit(value, grid_size(side)[1])


def badge(weight: float) -> str:
    """The weight a kernel tap puts on the cell under it, as its badge writes it: ``×0.11``."""
    return "×" + format_fit(weight, 4)


def bucket(value: float, scale: float) -> int:
    """Colour class -5..5 on a diverging scale centred on zero: ±∞ at the ends, NaN and a
    scale that is itself not finite in the middle."""
    if math.isnan(value):
        return 0
    if math.isinf(value):
        return 5 if value > 0 else -5
    if scale == 0 or not math.isfinite(scale):
        return 0
    return max(-5, min(5, round(value / scale * 5)))


@dataclass(frozen=True)
class Cell:
    """One cell of a grid: its text is its value, rounded to fit the cell; ``exact`` is the
    value in full, the cell's title and accessible name when its text is shorter."""

    id: str
    text: str
    bucket: int
    row: int
    col: int
    ghost: bool = False
    current: bool = False
    empty: bool = False
    tap: int | None = None
    badge: str | None = None  # the kernel weight sitting on this cell during the step
    exact: str | None = None
    #: drawn as a pixel: its grey level 0 (black) to 255 (white), and ``hi`` or ``lo`` when
    #: its value lies beyond the picture's scale and the grey is clipped (None for a number)
    grey: int | None = None
    clip: str | None = None
    name: str | None = None  # the lesson's name of the value, x₁ or δ₂, written in its corner

    def html(self, oob: bool = False) -> Markup:
        """The cell as the page writes it: a ``gridcell`` whose text is its value. Written
        here rather than in a macro because a big page draws about 1,500 of them (a macro
        call each cost half the time of rendering one)."""
        return Markup(self.markup(oob))

    def markup(self, oob: bool = False) -> str:
        """:meth:`html` as a plain string, for joining many (the ``cells`` filter)."""
        parts = [f'<div id="{self.id}" class="{self.classes}" role="gridcell" '
                 f'tabindex="{0 if self.row == 0 and self.col == 0 else -1}" '
                 f'data-r="{self.row}" data-c="{self.col}"']
        if self.tap is not None:
            parts.append(f' data-tap="{self.tap}"')
        if self.name:  # its text is generated (app.css), so the cell's own text stays its value
            parts.append(f' data-name="{escape_text(self.name)}"')
        if self.current:
            parts.append(' aria-current="true"')
        if self.exact is not None and self.exact != self.text:
            exact = escape_text(self.exact)
            parts.append(f' title="{exact}" aria-label="{exact}"')
        if oob:
            parts.append(' hx-swap-oob="true"')
        parts.append(f">{escape_text(self.text)}")
        if self.badge:  # its text is generated (app.css), so the cell's own text stays its value
            length = f" n{min(len(self.badge), 9)}" if len(self.badge) > 5 else ""
            parts.append(f'<span class="badge{length}" data-badge="{escape_text(self.badge)}">'
                         '</span>')
        parts.append("</div>")
        return "".join(parts)

    @property
    def classes(self) -> str:
        names = f"cell v{self.bucket}"
        if self.ghost:
            names += " ghost"
        if self.empty:
            names += " empty"
        if self.current:
            names += " current"
        if self.tap is not None:
            names += f" tap{self.tap % TAP_COLOURS}"
        if self.badge is not None:
            names += " win"
        if self.grey is not None:
            names += f" p{self.grey}"
        if self.clip is not None:
            names += f" clip-{self.clip}"
        if self.name:
            names += " named"
        if len(self.text) >= 3:  # its type shrinks, if it must, for the text to fit
            names += f" n{min(len(self.text), 12)}"
        return names
