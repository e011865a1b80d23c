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
from .formatting import format_factor, format_number, format_product
from .scenes import Scene, shared, stepwise

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 190, 46, 12, 12, 26


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


def _range(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([np.ravel(a) for a in arrays] + [np.zeros(1)])
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.08 or 1.0
    return lo - (pad if lo < 0 else 0), hi + pad


def polyline(xs, ys, tx: Axis, ty: Axis) -> str:
    """SVG ``points`` for the data points ``(xs, ys)``, to a tenth of a unit."""
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(tx.many(xs).tolist(),
                                                      ty.many(ys).tolist(), strict=True))


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

    @shared
    def tx(self) -> Axis:
        return Axis(*self.t_range, LEFT, WIDTH - RIGHT)

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

    @shared
    def ticks(self) -> Markup:
        """The shift axis's labels as SVG, drawn once per scene (every step reuses them)."""
        lo, hi = self.t_range
        step = max(1, int(10 ** np.floor(np.log10(max(hi - lo, 1) / 4))))
        first = int(np.ceil(lo / step) * step)
        labels = "".join(f'<text x="{self.tx(t)}" y="{HEIGHT - 6}">{t}</text>'
                         for t in range(first, int(hi) + 1, step))
        return Markup(f'<g class="ticks" aria-hidden="true">{labels}'
                      f'<text class="unit" x="16" y="{HEIGHT - 6}">t:</text></g>')

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

    @property
    def kernel_width(self) -> int:
        """The kernel plot's own width: about as wide per sample as the input plot's."""
        per_sample = (WIDTH - LEFT - RIGHT) / (self.t_range[1] - self.t_range[0])
        return int(min(WIDTH, LEFT + RIGHT + max(per_sample, 12) * (self.w.size + 1)))

    @shared
    def kernel_axes(self) -> tuple[Axis, Axis]:
        """The kernel plot's own x (tap) and y axes."""
        return (Axis(-0.5, self.w.size - 0.5, LEFT, self.kernel_width - RIGHT),
                Axis(*_range(self.w), HEIGHT - BOTTOM, TOP))

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
            return (f"Σ f(τ)·g(t − τ) over {len(record.products)} samples "
                    f"({overlap} overlapping) = {value}")
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
