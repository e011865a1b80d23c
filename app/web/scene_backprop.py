"""What the backprop page draws, from the engine: the forward pass, where δ = ∂L/∂o comes
from, the three backward passes step by step, gradient-descent training, and the checks.

Arrays are shown per channel, a 1-D signal as a one-row grid. Every number is the engine's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup

from ..engine import backward, forward
from ..engine.cost import Cost, backward_cost, forward_cost
from ..engine.loss import LOSSES, delta_loss, finite_difference_error, loss_and_delta, train
from ..engine.trace import BackwardTrace
from ..i18n import gettext
from ..workers import in_process
from .axes import Axis, polyline_points, tick_marks, ticks, value_ticks
from .cells import Cell, badge, bucket
from .formatting import SUBSCRIPTS, format_cell, format_factor, format_number, format_product
from .scenes import Scene, shared, stepwise

#: the loss plot's frame in SVG units, drawn at 0.85-0.9 px a unit (app.css: .loss-plot), its
#: margins room for tick labels of 30 units (24 px or more in projector mode)
LOSS_WIDTH, LOSS_HEIGHT, LOSS_LEFT, LOSS_RIGHT, LOSS_TOP, LOSS_BOTTOM = 340, 174, 90, 24, 40, 42
LOSS_TICK_UNITS = 30

#: replays of at least this many updates run in the compute process: a few ms of work here,
#: against ~1 ms of pickling there and back
REPLAY_IN_PROCESS = 20


def _here(function, *args, **kwargs):
    return function(*args, **kwargs)


@dataclass(frozen=True)
class Grid:
    label: str
    name: str
    rows: list[list[Cell]]


class SceneBackprop(Scene):
    """One view of the backprop page. Raises :class:`~app.engine.ConvolutionError` when the
    geometry is impossible, :class:`ValueError` for a δ or target of the wrong size.

    Its own part of the pipeline: before the forward pass it replays ``epoch``
    gradient-descent updates from the preset's kernel (the URL says it all), and after it
    comes δ, the backward pass and the trace of the pass that plays.
    """

    # the view's, or its preset's
    loss = property(lambda self: self.view.chosen("loss"))
    eta = property(lambda self: self.view.chosen("eta"))

    @property
    def epochs(self) -> int:
        """The updates to replay: none for a typed-in δ, which does not train."""
        return self.view.epoch if self.loss != "custom" else 0

    def cells(self) -> int:
        return 3 * super().cells()  # each of input, output and δ in up to three places

    def cost(self) -> Cost:
        # every replayed update is a forward and a backward pass, and so is what the page
        # then shows: the engine's cost of each, epochs + 1 times
        return (forward_cost(self.geom) + backward_cost(self.geom)).times(self.epochs + 1)

    def run(self) -> None:
        view, shape = self.view, self.geom.output_shape
        self.w0 = self.w  # (C_out, C_in, *k), the preset's
        self.notes: list[str] = []
        example = view.example
        self.target = self._sized(view.target, example.target, shape, "target")
        self.custom_delta = self._sized(view.delta, example.delta, shape, "delta")
        self.diverged_at: int | None = None
        if self.epochs:
            # a long replay runs in the compute process (app.workers says why)
            replay = in_process if self.epochs >= REPLAY_IN_PROCESS else _here
            run = replay(train, self.x, self.w0, loss=self.loss, eta=self.eta,
                         epochs=self.epochs, target=self.target, **self.params)
            w, history, self.diverged_at = run.weight, list(run.losses[:-1]), run.diverged_at
            self.w_before = run.previous
            if run.diverged_at is not None:
                self.notes.append(gettext(
                    "Training diverged at update %(update)s: with η = %(eta)s the weights grew "
                    "past what float64 holds (about 1.8 × 10³⁰⁸). This shows the %(updates)s "
                    "updates before it; a smaller η, such as %(smaller)s, converges.") % {
                    "update": run.diverged_at, "eta": format_number(self.eta),
                    "updates": run.updates, "smaller": format_number(self.eta / 10)})
        else:
            w, history, self.w_before = self.w0, [], None
        self.updates = len(history)
        self.w = w
        self.output = forward(self.x, w, **self.params)
        self.delta, self.loss_value = self.delta_of(self.output)
        history.append(self.loss_value)
        self.history = np.asarray(history)
        with np.errstate(over="ignore", invalid="ignore"):
            self.grads = backward(self.x, w, self.delta, **self.params)
        if not all(np.isfinite(g).all() for g in self.grads) or \
                (self.loss_value is not None and not math.isfinite(self.loss_value)):
            self.notes.append(gettext(
                "Some results overflowed: ∞ (or −∞) marks a number too large for float64 "
                "(beyond ±1.8 × 10³⁰⁸), NaN one that has no value (∞ − ∞). Smaller δ or "
                "inputs keep every number finite."))
        self.trace = BackwardTrace(self.x, w, self.delta, view.part, **self.params)

    def _sized(self, given, preset_value, shape, name) -> np.ndarray | None:
        """Values typed in must fit the output; a preset's that no longer fit (the geometry
        changed) give way to the default, and the page says so."""
        values = given if given is not None else preset_value
        if values is None:
            return None
        array = np.asarray(values, dtype=np.float64)
        if array.size == math.prod(shape):
            return array.reshape(shape)
        if given is not None:
            raise ValueError(gettext(
                "%(field)s needs %(needed)s values (the output's shape %(shape)s), got "
                "%(got)s") % {"field": name, "needed": math.prod(shape), "shape": list(shape),
                              "got": array.size})
        numbers = {"field": name, "has": array.size, "needed": math.prod(shape)}
        self.notes.append((gettext(
            "The preset's %(field)s has %(has)s values but the output now has %(needed)s: δ is "
            "1 everywhere until you type new ones.") if name == "delta" else gettext(
            "The preset's %(field)s has %(has)s values but the output now has %(needed)s: the "
            "target is 0 until you type new ones.")) % numbers)
        return None

    def delta_of(self, y: np.ndarray) -> tuple[np.ndarray, float | None]:
        """δ = ∂L/∂o for this loss, and the loss value (None when δ is given directly)."""
        if self.loss in LOSSES:
            value, delta = loss_and_delta(y, self.loss, self.target)
            return delta, value
        delta = self.custom_delta if self.custom_delta is not None else np.ones_like(y)
        return delta, None

    # --- naming ---------------------------------------------------------------------------
    @property
    def one_d(self) -> bool:
        return self.geom.ndim == 1

    def symbol(self, name: str, index: tuple[int, ...], channel: tuple[int, ...] = ()) -> str:
        """``x₃`` in the lesson's 1-D example; ``x(1,2)`` or ``x[2](1,2)`` otherwise."""
        if self.one_d and not channel:
            return name + str(index[0] + 1).translate(SUBSCRIPTS)
        prefix = f"[{','.join(str(c + 1) for c in channel)}]" if channel else ""
        return f"{name}{prefix}({','.join(str(i + 1) for i in index)})"

    def x_symbol(self, c: int, index) -> str:
        return self.symbol("x", tuple(index), (c,) if self.geom.c_in > 1 else ())

    def w_symbol(self, co: int, ci: int, index) -> str:
        multi = self.geom.c_out > 1 or self.geom.c_in_group > 1
        return self.symbol("w", tuple(index), (co, ci) if multi else ())

    def d_symbol(self, co: int, index) -> str:
        return self.symbol("δ", tuple(index), (co,) if self.geom.c_out > 1 else ())

    # --- grids ----------------------------------------------------------------------------
    @staticmethod
    def _as_rows(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(1, -1) if plane.ndim == 1 else plane

    #: a cell's name is written in its corner when it is this short (x₁, δ₁₂): the lesson's
    #: 1-D names; x[1](2,3) is read off the arithmetic instead
    NAME_CHARS = 4

    def cell_name(self, symbol: str | None, c: int, index: tuple[int, ...]) -> str | None:
        """The arithmetic's name of the value at ``(c, *index)`` of a grid of ``symbol``s:
        ``x`` (the input), ``w`` (kernels, flattened to C_out·C_in/groups planes),
        ``w-flipped``, ``o``, ``δ``, ``δ-full`` (δ spread by the stride in its zero border);
        None for no name, or one too long for a cell."""
        g = self.geom
        if symbol is None:
            return None
        if symbol == "x":
            name = self.x_symbol(c, index)
        elif symbol in ("w", "w-flipped"):
            co, ci = divmod(c, g.c_in_group)
            if symbol == "w-flipped":
                index = tuple(k - 1 - i for k, i in zip(g.kernel, index, strict=True))
            name = self.w_symbol(co, ci, index)
        elif symbol == "o":
            name = self.symbol("o", index, (c,) if g.c_out > 1 else ())
        elif symbol == "δ":
            name = self.d_symbol(c, index)
        else:  # δ-full: cell border + n·S holds δ n
            border = [d * (k - 1) for k, d in zip(g.kernel, g.dilation, strict=True)]
            spot = [(i - b) for i, b in zip(index, border, strict=True)]
            if any(p < 0 or p % s or p // s >= o for p, s, o in
                   zip(spot, g.stride, g.out_spatial, strict=True)):
                return None
            name = self.d_symbol(c, tuple(p // s for p, s in zip(spot, g.stride, strict=True)))
        return name if len(name) <= self.NAME_CHARS else None

    def grids(self, label: str, name: str, array: np.ndarray, *, shown: int | None = None,
              current: tuple | None = None, marks: dict | None = None,
              scale: float | None = None, symbol: str | None = None) -> list[Grid]:
        """One grid per channel of ``array`` (channels first). ``shown`` reveals only the
        first values in C order (a gradient filling in); ``marks`` maps
        ``(channel, *index)`` to ``(tap, badge)``; ``symbol`` names each cell as the
        arithmetic does (:meth:`cell_name`)."""
        scale = float(np.abs(array).max()) if scale is None else scale
        grids = []
        flat_offset = 0
        for c, plane in enumerate(array):
            rows_ = self._as_rows(plane)
            rows = []
            for r, row in enumerate(rows_):
                cells = []
                for col, value in enumerate(row):
                    index = (c, col) if plane.ndim == 1 else (c, r, col)
                    flat = flat_offset + (col if plane.ndim == 1 else r * rows_.shape[1] + col)
                    hidden = shown is not None and flat >= shown
                    tap, badge = (marks or {}).get(index, (None, None))
                    cells.append(Cell(
                        id=f"{name}-{c}-{r}-{col}",
                        text="" if hidden else format_cell(float(value), scale),
                        bucket=0 if hidden else bucket(float(value), scale), row=r, col=col,
                        empty=hidden, current=index == current, tap=tap, badge=badge,
                        name=self.cell_name(symbol, c, index[1:])))
                rows.append(cells)
            flat_offset += plane.size
            shown_label = gettext("%(grid)s channel %(channel)s") % {
                "grid": label, "channel": c + 1} if len(array) > 1 else label
            grids.append(Grid(shown_label, f"{name}-{c}", rows))
        return grids

    @shared
    def weight_grids(self) -> list[Grid]:
        return self.grids(gettext("Kernel"), "w", self.w.reshape(-1, *self.w.shape[2:]),
                          symbol="w")

    # --- the current step -----------------------------------------------------------------
    def result_array(self) -> np.ndarray:
        return {"weight": self.grads.grad_weight, "input": self.grads.grad_input,
                "bias": self.grads.grad_bias}[self.view.part]

    @stepwise
    def pass_grids(self) -> dict[str, list[Grid]]:
        """The grids of the playing pass, marked for this step."""
        step, part = self.step, self.view.part
        gw = self.grads.grad_weight
        marks_x, marks_d, marks_w, current = {}, {}, {}, None
        if step:
            rec = self.record()
            if part == "weight":
                co, ci, *k = (int(v) for v in rec.index)
                current = (co * gw.shape[1] + ci, *k)
                for t, (pos, delta) in enumerate(zip(rec.position, rec.deltas, strict=True)):
                    n_o = tuple(int(v) for v in self.trace.out_index[t][1:])
                    marks_d[(co, *n_o)] = (t, None)
                    if not rec.padding[t]:  # a padding cell is not drawn
                        marks_x[(int(rec.channel), *map(int, pos))] = \
                            (t, badge(float(delta)))
            elif part == "input":
                _, c, *i = (int(v) for v in rec.index)
                current = (c, *i)
                for t in range(len(rec.deltas)):
                    co = int(rec.out_channel[t])
                    o = tuple(int(v) for v in rec.out_position[t])
                    k = tuple(int(v) for v in rec.kernel_index[t])
                    marks_d[(co, *o)] = (t, badge(float(rec.weights[t])))
                    marks_w[(co * gw.shape[1] + c % self.geom.c_in_group, *k)] = (t, None)
            else:
                co = int(rec.index[0])
                current = (co,)
                for t, n_o in enumerate(self.trace.out_index):
                    marks_d[(co, *map(int, n_o[1:]))] = (t, None)
        result = self.result_array()
        result_planes = result.reshape(-1, *result.shape[2:]) if part == "weight" else \
            result if part == "input" else result.reshape(1, -1)
        names = {"weight": "∂L/∂W", "input": "∂L/∂X", "bias": "∂L/∂b"}
        if part == "bias":
            current = (0, current[0]) if current else None
        return {
            "input": self.grids(gettext("Input"), "x", self.x, marks=marks_x, symbol="x",
                                current=current if part == "input" else None),
            "delta": self.grids("δ = ∂L/∂o", "d", self.delta, marks=marks_d, symbol="δ"),
            "kernel": self.grids(gettext("Kernel"), "k", self.w.reshape(-1, *self.w.shape[2:]),
                                 marks=marks_w, symbol="w"),
            "result": self.grids(names[part], "g", result_planes, shown=step,
                                 current=current),
        }

    @stepwise
    def sentence(self) -> tuple[str, str, str]:
        """This step as the lesson writes it: ``∂L/∂w₁ = δ₁·x₁ + δ₂·x₂ + δ₃·x₃``, the same
        with numbers, and the value."""
        rec = self.record()
        part = self.view.part
        value = format_number(float(rec.value))
        if part == "weight":
            co, ci, *k = (int(v) for v in rec.index)
            lhs = "∂L/∂" + self.w_symbol(co, ci, k)
            symbols, numbers = [], []
            for t, (pos, delta, x) in enumerate(zip(rec.position, rec.deltas, rec.inputs,
                                                    strict=True)):
                o = tuple(int(v) for v in self.trace.out_index[t][1:])
                xs = "0" if rec.padding[t] and self.geom.padding_mode == "zeros" else \
                    self.x_symbol(int(rec.channel), [int(p) for p in pos])
                symbols.append(f"{self.d_symbol(co, o)}·{xs}")
                numbers.append(format_product(delta, x))
        elif part == "input":
            _, c, *i = (int(v) for v in rec.index)
            lhs = "∂L/∂" + self.x_symbol(c, i)
            symbols, numbers = [], []
            for t in range(len(rec.deltas)):
                co = int(rec.out_channel[t])
                o = [int(v) for v in rec.out_position[t]]
                k = [int(v) for v in rec.kernel_index[t]]
                symbols.append(f"{self.d_symbol(co, o)}·"
                               f"{self.w_symbol(co, c % self.geom.c_in_group, k)}")
                numbers.append(format_product(rec.deltas[t], rec.weights[t]))
            if not symbols:
                symbols, numbers = [gettext("0 (no window reads this cell)")], ["0"]
        else:
            co = int(rec.index[0])
            lhs = "∂L/∂b" + (f"[{co + 1}]" if self.geom.c_out > 1 else "")
            symbols = [self.d_symbol(co, [int(v) for v in o[1:]]) for o in self.trace.out_index]
            numbers = [format_factor(d) for d in rec.deltas]
        return f"{lhs} = {' + '.join(symbols)}", " + ".join(numbers), value

    # --- pass 2 as the lesson's "full convolution with the flipped kernel" ------------
    @property
    def shows_full_convolution(self) -> bool:
        """Zero padding only: with the other modes a gradient also hops back from padding
        cells to the cells they copy, which the terms list shows instead."""
        return self.geom.zero_padding

    @shared
    def full_delta(self) -> np.ndarray:
        """δ dilated by the stride and bordered with D(K − 1) zeros per side: (C_out, *L)."""
        g = self.geom
        border = [d * (k - 1) for k, d in zip(g.kernel, g.dilation, strict=True)]
        spread = [(o - 1) * s + 1 for o, s in zip(g.out_spatial, g.stride, strict=True)]
        length = [max(sp + 2 * b, pin + b) for sp, b, pin in zip(spread, border, g.padded,
                                                                 strict=True)]
        full = np.zeros((g.c_out, *length))
        full[(slice(None), *(slice(b, b + sp, s) for b, sp, s in
                             zip(border, spread, g.stride, strict=True)))] = self.delta
        return full

    @stepwise
    def full_grids(self) -> list[Grid]:
        """The bordered δ with the flipped kernel over the window that gives this step's
        input cell its gradient: cell ``q + j·D`` carries the flipped weight ``j``."""
        marks = {}
        if self.step:
            _, c, *i = (int(v) for v in self.record().index)
            g = self.geom
            group, c_local = divmod(c, g.c_in_group)
            flipped = self.flipped_kernel
            for j in np.ndindex(*g.kernel):
                cell = tuple(ii + b + jj * d for ii, (b, _), jj, d in
                             zip(i, g.padding, j, g.dilation, strict=True))
                tap = int(np.ravel_multi_index(j, g.kernel))
                for co in range(group * g.c_out_group, (group + 1) * g.c_out_group):
                    marks[(co, *cell)] = (tap, badge(float(flipped[co, c_local][j])))
        return self.grids(gettext("δ, dilated by the stride, with a zero border"), "f",
                          self.full_delta, marks=marks, symbol="δ-full")

    def flipped_grids(self) -> list[Grid]:
        flipped = self.flipped_kernel
        return self.grids(gettext("Flipped kernel"), "kf", flipped.reshape(-1, *flipped.shape[2:]),
                          symbol="w-flipped")

    # --- checks -----------------------------------------------------------------------------
    def engine_agreement(self) -> float:
        """Largest difference between the replayed trace and the vectorised backward."""
        steps = self.trace.steps()
        rebuilt = np.zeros(self.trace.shape)
        rebuilt[tuple(steps.index.T)] = steps.value
        expected = self.result_array()
        return float(np.abs(rebuilt.reshape(expected.shape) - expected).max())

    def objective(self, x: np.ndarray, w: np.ndarray) -> float:
        """L as a function of the input and the kernel (for custom δ: L = Σ δ·o)."""
        y = forward(x, w, **self.params)
        if self.loss == "custom":
            return delta_loss(y, self.delta)
        return self.delta_of(y)[1]

    def finite_differences(self, h: float = 1e-6) -> dict[str, float]:
        """Relative error between central differences of L and the engine's gradients."""
        return {
            "∂L/∂W": finite_difference_error(lambda a: self.objective(self.x, a), self.w,
                                             self.grads.grad_weight, h),
            "∂L/∂X": finite_difference_error(lambda a: self.objective(a, self.w), self.x,
                                             self.grads.grad_input, h),
        }

    @property
    def converged(self) -> bool:
        return self.loss_value is not None and self.diverged_at is None and (
            self.loss_value < 1e-8 * max(self.history[0], 1e-300) or self.loss_value < 1e-12)

    @shared
    def loss_axes(self) -> tuple[Axis, Axis]:
        """The loss plot's axes: epoch (updates made) 0..n across, loss 0..its largest up."""
        history = np.asarray(self.history, dtype=float)  # a typed-in δ has no loss: NaN
        finite = history[np.isfinite(history)]
        top = float(finite.max()) if finite.size else 1.0
        n = max(len(history) - 1, 1)
        return (Axis(0, n, LOSS_LEFT, LOSS_WIDTH - LOSS_RIGHT),
                Axis(0, top or 1.0, LOSS_HEIGHT - LOSS_BOTTOM, LOSS_TOP))

    @shared
    def loss_ticks(self) -> Markup:
        """The loss plot's tick labels, epochs along the bottom and loss values up the side,
        and the axes' names, as SVG."""
        tx, ty = self.loss_axes
        label = len(str(int(tx.hi))) * 0.64 * LOSS_TICK_UNITS + 14  # the widest, and a gap
        epochs = ticks(0, tx.hi, (tx.out_hi - tx.out_lo) / label, integer=True)
        return tick_marks(tx, ty, x_values=epochs, x_at=LOSS_HEIGHT - 8,
                          y_values=value_ticks(ty, LOSS_TICK_UNITS + 4), y_at=LOSS_LEFT)

    loss_frame = property(lambda self: (LOSS_WIDTH, LOSS_HEIGHT))

    def history_path(self) -> str:
        """The loss per update as SVG points (linear scale, from 0 to the largest loss)."""
        tx, ty = self.loss_axes
        return polyline_points(np.arange(len(self.history)), self.history, tx, ty)
