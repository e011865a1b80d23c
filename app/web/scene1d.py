"""What the 1D page draws, from the engine: the signal, the kernel at its current shift, their
product (the shaded overlap), and the result traced so far — as SVG coordinates.

The x axis is the shift t, counted in samples from the signal's first one, shared by every
plot. Each output is drawn at the centre of the window that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from markupsafe import Markup

from ..engine import forward
from ..engine.cost import Cost, forward_cost
from ..i18n import N_, gettext
from .axes import Axis, polyline_points, tick_marks, ticks, value_ticks
from .formatting import format_factor, format_number, format_product
from .scenes import Scene, shared, stepwise

#: the signal and output plots' frame, in SVG units: drawn about 570 px wide at 1024x768 (a
#: unit is about a pixel), the margins room for tick labels at 29 units (app.css: 24 px or
#: more in projector mode, where the plot is drawn at 0.94 px a unit)
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 600, 180, 88, 14, 16, 40
#: the right margin when the result is drawn over the signals, on its own axis there
RIGHT_OVERLAY = 88
#: the kernel plot's frame: drawn in the side column (9 rem), never taller than the signal's
KERNEL_WIDTH, KERNEL_HEIGHT, KERNEL_LEFT, KERNEL_BOTTOM = 260, 180, 92, 42
#: the widest a tick label's character is, in em (DejaVu Sans digits), and the type's size in
#: SVG units in projector mode (the larger): how many x labels fit
CHAR_EM, TICK_UNITS, KERNEL_TICK_UNITS = 0.64, 29, 30


def _range(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([np.ravel(a) for a in arrays] + [np.zeros(1)])
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.08 or 1.0
    return lo - (pad if lo < 0 else 0), hi + pad


polyline = polyline_points


@dataclass(frozen=True)
class Stem:
    x: float
    y: float
    base: float
    label: str
    index: int
    tap: int | None = None


class Scene1D(Scene):
    """One view of the 1D page: a signal and a kernel, the view's bias, and with ``compare``
    the other operation's result too. Raises :class:`~app.engine.ConvolutionError` when the
    geometry is impossible."""

    @property
    def other_mode(self) -> str:
        return "cross-correlation" if self.view.mode == "convolution" else "convolution"

    @property
    def other_mode_name(self) -> str:
        """The other operation's name, as the legend says it (in the request's language)."""
        return gettext(N_("cross-correlation") if self.view.mode == "convolution" else
                       N_("convolution"))

    def cost(self) -> Cost:
        return forward_cost(self.geom).times(2 if self.view.compare else 1)

    def run(self) -> None:
        super().run()
        self.other_output = None
        if self.view.compare:
            x, w = self.engine_arrays()
            other = {**self.params, "mode": self.other_mode}
            self.other_output = forward(x, w, self.bias, **other)[0]

    # --- geometry -------------------------------------------------------------------------
    @shared
    def t_range(self) -> tuple[float, float]:
        (before, after), = self.geom.padding
        return -before - 0.5, self.x.size - 1 + after + 0.5

    @property
    def overlay(self) -> bool:
        """Whether the result is drawn over the signals too (the lesson's animations)."""
        return self.view.overlay

    @property
    def right(self) -> int:
        """The plots' right margin, SVG units: room for the result's axis when overlaid."""
        return RIGHT_OVERLAY if self.overlay else RIGHT

    @shared
    def tx(self) -> Axis:
        return Axis(*self.t_range, LEFT, WIDTH - self.right)

    @shared
    def ty_input(self) -> Axis:
        products = np.outer(self.x, self.w)  # so the shaded overlap always fits
        return Axis(*_range(self.x, self.w, products.min(), products.max()), HEIGHT - BOTTOM,
                    TOP)

    @shared
    def ty_output(self) -> Axis:
        extra = () if self.other_output is None else (self.other_output,)
        return Axis(*_range(self.output, *extra), HEIGHT - BOTTOM, TOP)

    def centre(self, index: int) -> float:
        """The shift t at which output ``index`` is drawn: the centre of its window."""
        return float(self.centres[index])

    def _x_ticks(self, lo: float, hi: float, width: float, units: float) -> list[float]:
        """Whole sample indices from ``lo`` to ``hi``, as many as fit ``width`` SVG units
        with labels ``units`` high."""
        chars = max(len(format_number(v)) for v in (np.floor(lo), np.ceil(hi)))
        most = max(1, int(width // (chars * CHAR_EM * units + 14)))
        return ticks(np.ceil(lo), np.floor(hi), most, integer=True)

    @shared
    def x_tick_values(self) -> list[float]:
        return self._x_ticks(*self.t_range, WIDTH - LEFT - self.right, TICK_UNITS)

    def _y_marks(self, ty: Axis, side: str = "left", css: str = "ticks") -> Markup:
        at = LEFT if side == "left" else WIDTH - self.right
        return tick_marks(None, ty, y_values=value_ticks(ty, TICK_UNITS + 4), y_at=at,
                          side=side, css=css)

    @shared
    def ticks(self) -> Markup:
        """The shift axis's labels as SVG, drawn once per scene (every step reuses them)."""
        return tick_marks(self.tx, None, x_values=self.x_tick_values, x_at=HEIGHT - 8,
                          unit="t")

    @shared
    def input_y_ticks(self) -> Markup:
        """The input plot's value axis (f, g and their product share it)."""
        return self._y_marks(self.ty_input)

    @shared
    def output_y_ticks(self) -> Markup:
        return self._y_marks(self.ty_output)

    @shared
    def overlay_y_ticks(self) -> Markup:
        """The result's own axis on the right of the input plot, when it is overlaid."""
        return self._y_marks(self.ty_output, "right", "ticks result-ticks")

    @shared
    def input_values(self) -> str:
        return self.values(self.x)

    # --- the current step ---------------------------------------------------------------
    @stepwise
    def window(self) -> dict[int, int]:
        """Positions (counted from the first real sample) of the window -> tap index."""
        if self.step == 0:
            return {}
        return {int(p[0]): tap for tap, p in enumerate(self.record().position)}

    @shared
    def signal_path(self) -> str:
        return polyline(np.arange(self.x.size), self.x, self.tx, self.ty_input)

    @stepwise
    def kernel_path(self) -> str:
        """The kernel as it sits at this step (reversed in convolution mode; at step 0, where
        it will first sit): the weight each tap uses, at the position it reads."""
        record = self.record(max(self.step, 1))
        p, zero = record.position[:, 0], self.ty_input(0)
        points = polyline(p, record.weights, self.tx, self.ty_input)
        return f"{self.tx(p[0])},{zero} {points} {self.tx(p[-1])},{zero}"

    @stepwise
    def overlap_path(self) -> str:
        """The product f·g at this shift, closed down to zero: the shaded overlap."""
        if self.step == 0:
            return ""
        record = self.record()
        p = record.position[:, 0]
        zero = self.ty_input(0)
        points = polyline(p, record.products, self.tx, self.ty_input)
        return f"{self.tx(p[0])},{zero} {points} {self.tx(p[-1])},{zero}"

    @shared
    def centres(self) -> np.ndarray:
        """The shift t of every output: the centre of its window."""
        (before, _), = self.geom.padding
        return (np.arange(self.steps) * self.geom.stride[0] - before
                + self.geom.dilation[0] * (self.w.size - 1) / 2)

    @shared
    def result_points(self) -> list[str]:
        """Every output's point, formatted once per scene; a step shows the first ones."""
        return polyline(self.centres, self.output, self.tx, self.ty_output).split(" ")

    @stepwise
    def result_path(self) -> str:
        """The result traced so far."""
        return " ".join(self.result_points[:self.step])

    @shared
    def other_path(self) -> str:
        """The other operation's output (with ``compare``; else nothing to draw)."""
        if self.other_output is None:
            return ""
        return polyline(self.centres, self.other_output, self.tx, self.ty_output)

    @stepwise
    def marker(self) -> tuple[float, float] | None:
        """Where the output just made is drawn; None at step 0."""
        if self.step == 0:
            return None
        made = self.step - 1
        return self.tx(self.centre(made)), self.ty_output(float(self.output[made]))

    # --- discrete stems -----------------------------------------------------------------
    @stepwise
    def input_stems(self) -> list[Stem]:
        """The padded signal's samples, those under the window marked with their tap."""
        window = self.window()
        (before, after), = self.geom.padding
        stems = []
        for position in range(-before, self.x.size + after):
            record_tap = window.get(position)
            value = float(self.padded[position + before])
            stems.append(Stem(self.tx(position), self.ty_input(value), self.ty_input(0),
                              format_number(value), position, record_tap))
        return stems

    @stepwise
    def window_stems(self) -> list[Stem]:
        """The kernel's stems beside the input samples they meet (a third of a sample to the
        right), each the weight that tap uses: reversed in convolution mode."""
        if self.step == 0:
            return []
        record = self.record()
        return [Stem(self.tx(p[0] + 0.3), self.ty_input(float(w)), self.ty_input(0),
                     "×" + format_number(float(w)), int(p[0]), tap)
                for tap, (p, w) in enumerate(zip(record.position, record.weights, strict=True))]

    @stepwise
    def window_band(self) -> tuple[float, float] | None:
        """The shaded band behind the window's samples; None at step 0."""
        if self.step == 0:
            return None
        p = self.record().position[:, 0]
        return self.tx(p[0] - 0.45), self.tx(p[-1] + 0.45)

    kernel_width = KERNEL_WIDTH
    kernel_height = KERNEL_HEIGHT

    @shared
    def kernel_axes(self) -> tuple[Axis, Axis]:
        """The kernel plot's own x (tap) and y axes."""
        return (Axis(-0.5, self.w.size - 0.5, KERNEL_LEFT, KERNEL_WIDTH - RIGHT),
                Axis(*_range(self.w), KERNEL_HEIGHT - KERNEL_BOTTOM, TOP))

    @shared
    def kernel_ticks(self) -> Markup:
        """The kernel plot's tap indices and values."""
        tx, ty = self.kernel_axes
        xs = self._x_ticks(0, self.w.size - 1, KERNEL_WIDTH - KERNEL_LEFT - RIGHT,
                           KERNEL_TICK_UNITS)
        return tick_marks(tx, ty, x_values=xs, x_at=KERNEL_HEIGHT - 8,
                          y_values=value_ticks(ty, KERNEL_TICK_UNITS + 3), y_at=KERNEL_LEFT,
                          unit="k")

    def kernel_stems(self) -> list[Stem]:
        tx, ty = self.kernel_axes
        return [Stem(tx(i), ty(float(v)), ty(0), format_number(float(v)), i)
                for i, v in enumerate(self.w)]

    def kernel_curve(self) -> str:
        tx, ty = self.kernel_axes
        return f"{tx(0)},{ty(0)} {polyline(range(self.w.size), self.w, tx, ty)} " \
               f"{tx(self.w.size - 1)},{ty(0)}"

    @stepwise
    def output_stems(self) -> list[Stem]:
        """The outputs made so far."""
        return [Stem(self.tx(self.centre(i)), self.ty_output(float(v)), self.ty_output(0),
                     format_number(float(v)), i) for i, v in enumerate(self.output[:self.step])]

    # --- words ----------------------------------------------------------------------------
    @stepwise
    def sentence(self) -> str:
        """The step's sum: every term in the discrete view, a summary in the continuous one."""
        record = self.record()
        value = format_number(float(record.value))
        if self.view.dense:
            overlap = int(np.count_nonzero(record.products))
            return gettext("Σ f(τ)·g(t − τ) over %(samples)s samples (%(overlap)s "
                           "overlapping) = %(value)s") % {
                "samples": len(record.products), "overlap": overlap, "value": value}
        terms = " + ".join(format_product(w, x)
                           for w, x in zip(record.weights, record.inputs, strict=True))
        if self.view.bias:
            terms += f" + {format_factor(record.bias)}"
        return f"{terms} = {value}"

    def values(self, array: np.ndarray) -> str:
        """Exact values for tests and assistive tools (``data-values``)."""
        return ",".join(map(repr, np.asarray(array, dtype=float).tolist()))

    @shared
    def output_values(self) -> list[str]:
        return [repr(v) for v in self.output.tolist()]

    @stepwise
    def values_so_far(self) -> str:
        """``data-values`` of the output made so far."""
        return ",".join(self.output_values[:self.step])
