"""What the pool page draws, from the engine: the input as the windows see it (padding, and a
``ceil_mode`` window's overhang past it), the window sliding with its max marked (ties too)
or its mean written out, the output filling in; backward, each δ going to its window's
winner or spread over the window, the input's gradient adding up where windows overlap;
beside the pool, a strided convolution of the same input over the same windows.

One channel, 2-D: the input (H, W) goes to the engine as (1, H, W). Every number is the
engine's: :func:`~app.engine.max_pool` / ``avg_pool`` and their backward passes, the traces of
:mod:`app.engine.pool_trace` (one step per window), :func:`~app.engine.forward` for the
convolution.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..engine import forward, plan
from ..engine.cost import Cost, forward_cost, pool_backward_cost, pool_forward_cost
from ..engine.errors import ParameterError
from ..engine.pool import avg_pool, avg_pool_backward, max_pool, max_pool_backward
from ..engine.pool_geometry import pool_plan, pool_size_formulas
from ..engine.pool_trace import PoolBackwardTrace, PoolTrace
from ..i18n import gettext
from ..presets import KERNELS_2D
from .cells import Cell, bucket, fit
from .formatting import format_full, format_number
from .scenes import Budget, Stepped, shared, stepwise

#: the input gradients at a step a scene keeps (the latest): a 28x28 one is 6 kB
GRADIENTS_KEPT = 8


@dataclass(frozen=True)
class PoolCell(Cell):
    """A cell with the pool's marks: ``winner`` (the max that wins its window), ``tie`` (a
    cell equal to it that loses the tie), ``outside`` (past the padding: no cell at all)."""

    mark: str | None = None

    @property
    def classes(self) -> str:
        return super().classes + (f" {self.mark}" if self.mark else "")


@dataclass(frozen=True)
class Term:
    """One cell of the step's window as the arithmetic writes it."""

    tap: int
    text: str
    mark: str | None = None  # winner, tie, or pad (a padding cell)


class ScenePool(Stepped):
    """One view of the pool page. Raises :class:`~app.engine.ConvolutionError` when the
    pool (or the convolution beside it) is impossible, :class:`~app.web.scenes.TooBig` over
    the page budget, before anything is computed."""

    def __init__(self, view, budget: Budget) -> None:
        super().__init__()
        self.view = view
        self.x = np.asarray(view.input_values, dtype=np.float64)  # (H, W)
        params = view.pool_params()
        if params["dilation"] == (1, 1):
            params["dilation"] = 1
        self.params = params
        self.kernel = list(view.kernel_size)
        self.geom = pool_plan((1, *self.x.shape), view.kind, self.kernel, **params)
        self.w = self._conv_kernel() if view.compare else None
        conv_geom = None
        if self.w is not None:
            conv_geom = plan((1, 1, *self.x.shape), (1, 1, *self.w.shape), **self.conv_params)
        budget.check(cells=self.cells(conv_geom), cost=self.cost(conv_geom))
        x = self.x[None]
        if view.kind == "max":
            self.output = max_pool(x, self.kernel, stride=params["stride"],
                                   padding=params["padding"], dilation=params["dilation"],
                                   ceil_mode=params["ceil_mode"])[0]
        else:
            self.output = avg_pool(x, self.kernel, stride=params["stride"],
                                   padding=params["padding"], ceil_mode=params["ceil_mode"],
                                   count_include_pad=params["count_include_pad"])[0]
        self.conv_output = None
        if self.w is not None:
            self.conv_output = forward(x[None], self.w[None, None], **self.conv_params)[0, 0]
        if self.backward:
            #: δ = ∂L/∂y: 1, 2, 3, ... in C order, so that each δ can be followed to the cells
            #: it reaches (L = Σ δ·y)
            self.delta = np.arange(1, self.output.size + 1, dtype=np.float64).reshape(
                self.output.shape)
            if view.kind == "max":
                self.grad = max_pool_backward(x, self.delta[None], self.kernel,
                                              stride=params["stride"],
                                              padding=params["padding"],
                                              dilation=params["dilation"],
                                              ceil_mode=params["ceil_mode"])[0]
            else:
                self.grad = avg_pool_backward(x, self.delta[None], self.kernel,
                                              stride=params["stride"],
                                              padding=params["padding"],
                                              ceil_mode=params["ceil_mode"],
                                              count_include_pad=params["count_include_pad"])[0]
            self.trace = PoolBackwardTrace(x[None], self.delta[None, None], view.kind,
                                           self.kernel, **params)
        else:
            self.delta = self.grad = None
            self.trace = PoolTrace(x[None], view.kind, self.kernel, **params)
        self.steps = len(self.trace)
        self.step = min(view.step, self.steps)

    # --- the pipeline ---------------------------------------------------------------------
    @property
    def backward(self) -> bool:
        return self.view.part == "backward"

    @property
    def conv_params(self) -> dict:
        """The convolution beside the pool: the pool's stride, padding (zeros) and dilation."""
        g = self.geom
        return {"stride": g.stride, "padding": g.padding, "dilation": g.dilation}

    def _conv_kernel(self) -> np.ndarray:
        """The convolution's kernel: the window's mean, or a 2D page kernel of its size."""
        kh, kw = self.geom.kernel
        if self.view.conv == "mean":
            return np.full((kh, kw), 1 / (kh * kw))
        title, values = KERNELS_2D[self.view.conv]
        w = np.asarray(values, dtype=np.float64)
        if w.shape != (kh, kw):
            raise ParameterError("conv", gettext(
                "the %(kernel)s kernel is %(rows)s×%(cols)s, and the pool's window "
                "%(kh)s×%(kw)s: to compare them over the same windows choose a kernel of the "
                "window's size, or the mean") % {"kernel": gettext(title).lower(),
                                                 "rows": w.shape[0], "cols": w.shape[1],
                                                 "kh": kh, "kw": kw})
        return w

    def cells(self, conv_geom=None) -> int:
        """The values the page draws: the input as the windows see it and the window, the
        output; backward δ and the gradient too; the convolution's kernel and output."""
        (top, bottom), (left, right) = self.extent
        out = math.prod(self.geom.out_spatial)
        total = (bottom - top) * (right - left) + math.prod(self.geom.kernel) + out
        if self.backward:
            total += out + self.x.size
        if conv_geom is not None:
            total += math.prod(conv_geom.kernel) + math.prod(conv_geom.out_spatial)
        return total

    def cost(self, conv_geom=None) -> Cost:
        """What the scene will compute, in the engine's cost model."""
        cost = pool_forward_cost(self.geom)
        if self.backward:
            cost = cost + pool_backward_cost(self.geom)
        if conv_geom is not None:
            cost = cost + forward_cost(conv_geom)
        return cost

    @classmethod
    def formulas_for(cls, view) -> list[str]:
        """The output-size formulas of a view whose pool is impossible (the page says why)."""
        sizes, kernel = view.sizes()
        return pool_size_formulas(sizes, kernel, stride=view.stride, padding=view.padding,
                                  dilation=view.dilation, ceil_mode=view.ceil_mode)

    # --- what the page shows ----------------------------------------------------------------
    @shared
    def formulas(self) -> list[str]:
        """The output-size formula of each axis, its numbers filled in (floor, or ceil)."""
        g = self.geom
        return pool_size_formulas(g.in_spatial, g.kernel, stride=g.stride, padding=g.padding,
                                  dilation=g.dilation, ceil_mode=g.ceil_mode)

    @shared
    def extent(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Per axis, the positions drawn, [from, to): the padding before the input, and after
        it the padding or a ``ceil_mode`` window's overhang, whichever reaches further."""
        g = self.geom
        return tuple(
            (-p, max(i + p, (o - 1) * s + (k - 1) * d - p + 1))
            for i, k, s, p, d, o in zip(g.in_spatial, g.kernel, g.stride, g.padding,
                                        g.dilation, g.out_spatial, strict=True))

    @shared
    def input_note(self) -> str:
        """The input's caption: its size, and what is drawn around it."""
        g = self.geom
        (top, bottom), (left, right) = self.extent
        note = f"{g.in_spatial[0]}×{g.in_spatial[1]}"
        padded = any(g.padding)
        overhang = (bottom, right) != tuple(i + p for i, p in
                                            zip(g.in_spatial, g.padding, strict=True))
        values = {"size": note, "drawn": f"{bottom - top}×{right - left}", "pad": self.pad_text}
        if padded and overhang:
            return gettext("%(size)s, drawn %(drawn)s with padding %(pad)s and the overhang of "
                           "ceil_mode") % values
        if padded:
            return gettext("%(size)s, drawn %(drawn)s with padding %(pad)s") % values
        if overhang:
            return gettext("%(size)s, drawn %(drawn)s with the overhang of ceil_mode") % values
        return note

    @shared
    def input_scale(self) -> float:
        return float(np.abs(self.x).max())

    @shared
    def output_scale(self) -> float:
        return float(np.abs(self.output).max())

    @property
    def pad_text(self) -> str:
        """What a padding cell holds for this pool: −∞ (never the max) or 0."""
        return "−∞" if self.view.kind == "max" else "0"

    def _where(self, r: int, c: int) -> str:
        """``input``, ``padding`` or ``outside`` (past the padding) for position (r, c)."""
        (h, w), (ph, pw) = self.geom.in_spatial, self.geom.padding
        if 0 <= r < h and 0 <= c < w:
            return "input"
        if -ph <= r < h + ph and -pw <= c < w + pw:
            return "padding"
        return "outside"

    # --- the current step ---------------------------------------------------------------
    @stepwise
    def current(self) -> tuple[int, int] | None:
        """(row, column) of the output (or δ) of this step; None at step 0."""
        if self.step == 0:
            return None
        index = self.record().index
        return int(index[-2]), int(index[-1])

    @stepwise
    def marks(self) -> dict[tuple[int, int], tuple[int, str | None, str | None]]:
        """The window's cells at this step: position -> (tap, badge, mark). Forward: the
        winner badged ``max`` and the tied cells ``tie``; backward: each cell reached badged
        with what it receives."""
        if self.step == 0:
            return {}
        rec = self.record()
        out = {}
        winner = int(rec.winner)
        for t, pos in enumerate(rec.position.tolist()):
            if rec.outside[t]:
                continue
            mark = text = None
            if self.view.kind == "max" and winner >= 0:
                value = self._value_at(*pos)
                best = self._value_at(*rec.position[winner].tolist())
                if t == winner:
                    mark, text = "winner", "max"
                elif not rec.padding[t] and value == best:
                    mark, text = "tie", "tie"
            if self.backward:
                share = float(rec.shares[t])
                if rec.reaches[t] and (self.view.kind == "avg" or t == winner):
                    text = "+" + format_number(share)[:7]
                elif self.view.kind == "max":
                    text = "tie" if mark == "tie" else None
            out[tuple(pos)] = (t, text, mark)
        return out

    def _value_at(self, r: int, c: int) -> float:
        return float(self.x[r, c]) if self._where(r, c) == "input" else -math.inf

    @shared
    def _side(self) -> int:
        (top, bottom), (left, right) = self.extent
        return max(bottom - top, right - left)

    def input_cell(self, r: int, c: int, marks: dict) -> PoolCell:
        """Position (r, c) of the input as the windows see it, marked as ``marks`` says."""
        (top, _), (left, _) = self.extent
        where = self._where(r, c)
        tap, text, mark = marks.get((r, c), (None, None, None))
        if where == "input":
            value = float(self.x[r, c])
            cell_text, exact, level = fit(value, self._side), format_full(value), \
                bucket(value, self.input_scale)
        else:
            cell_text = self.pad_text if where == "padding" else ""
            exact, level = None, 0
            mark = mark or ("outside" if where == "outside" else None)
        return PoolCell(id=f"in-{r - top}-{c - left}", text=cell_text, exact=exact,
                        bucket=level, row=r - top, col=c - left, ghost=where != "input",
                        tap=tap, badge=text, mark=mark)

    @stepwise
    def input_rows(self) -> list[list[PoolCell]]:
        """The input as the windows see it, padding and overhang included, the window's
        cells marked with their tap (window order), the winner and the ties."""
        marks = self.marks()
        (top, bottom), (left, right) = self.extent
        return [[self.input_cell(r, c, marks) for c in range(left, right)]
                for r in range(top, bottom)]

    @shared
    def window_rows(self) -> list[list[Cell]]:
        """The window, each tap numbered in window order (C order: row by row), the order in
        which a tie is settled; a dilated window's gaps are not taps."""
        kh, kw = self.geom.kernel
        return [[Cell(id=f"win-{r}-{c}", text=str(r * kw + c + 1), bucket=0, row=r, col=c,
                      tap=r * kw + c) for c in range(kw)] for r in range(kh)]

    @staticmethod
    def _cell(prefix: str, array: np.ndarray, r: int, c: int, made: int | None, current,
              scale: float, receives: dict | None = None) -> Cell:
        """Cell (r, c) of a grid of ``array``: shown if among the first ``made`` values in C
        order (always for None), marked ``current``, coloured with its tap in ``receives``."""
        shown = made is None or r * array.shape[1] + c < made
        value = float(array[r, c])
        tap, text = (receives or {}).get((r, c), (None, None))
        return Cell(id=f"{prefix}-{r}-{c}", text=fit(value, max(array.shape)) if shown else "",
                    exact=format_full(value) if shown else None,
                    bucket=bucket(value, scale) if shown else 0, row=r, col=c,
                    empty=not shown, current=(r, c) == current, tap=tap, badge=text)

    def _grid(self, prefix: str, array: np.ndarray, made: int | None, current, scale: float,
              receives: dict | None = None) -> list[list[Cell]]:
        """Every cell of a grid of ``array`` (see :meth:`_cell`)."""
        return [[self._cell(prefix, array, r, c, made, current, scale, receives)
                 for c in range(array.shape[1])] for r in range(array.shape[0])]

    @stepwise
    def _grid_states(self) -> dict[str, tuple]:
        """What each grid but the input is at this step: its array, the values shown, the
        cell marked current, its scale and the cells coloured with a tap. The stage draws
        every cell of them; a step update only those that change (:meth:`changed_cells`)."""
        current = self.current()
        states = {"out": (self.output, None if self.backward else self.step, current,
                          self.output_scale, None)}
        if self.backward:
            states["d"] = (self.delta, None, current, float(self.delta.max()), None)
            states["g"] = (self.gradient(), None, None, self._grad_scale, self._receives())
        elif self.conv_output is not None:
            same = self.conv_output.shape == self.output.shape
            states["conv"] = (self.conv_output, min(self.step, self.conv_output.size)
                              if same else None, current if same else None,
                              self._conv_scale, None)
        return states

    @shared
    def _grad_scale(self) -> float:
        return float(np.abs(self.grad).max())

    @shared
    def _conv_scale(self) -> float:
        return float(np.abs(self.conv_output).max())

    @stepwise
    def output_rows(self) -> list[list[Cell]]:
        """The pool's output: forward, the values made so far; backward, all of it, the
        window of this step's δ marked."""
        return self._grid("out", *self._grid_states()["out"])

    @stepwise
    def conv_rows(self) -> list[list[Cell]]:
        """The convolution's output, made in step with the pool's where they share windows."""
        if self.conv_output is None:
            return []
        return self._grid("conv", *self._grid_states()["conv"])

    @shared
    def conv_kernel_rows(self) -> list[list[Cell]]:
        if self.w is None:
            return []
        return self._grid("ck", self.w, None, None, float(np.abs(self.w).max()))

    @stepwise
    def delta_rows(self) -> list[list[Cell]]:
        """δ = ∂L/∂y, the step's marked."""
        return self._grid("d", *self._grid_states()["d"])

    @stepwise
    def gradient(self) -> np.ndarray:
        """∂L/∂x after this step's δ: every share the steps so far sent (the trace's). The
        latest few are kept for every clone: a step update reads this step's and the one
        before, twice each."""
        kept = self._shared.setdefault("gradients", OrderedDict())
        if self.step in kept:
            kept.move_to_end(self.step)
            return kept[self.step]
        grad = np.zeros_like(self.x)
        if self.step:
            steps = self.trace.steps(0, self.step)
            step, term = np.nonzero(steps.reaches)
            pos = steps.position[step, term]
            np.add.at(grad, (pos[:, 0], pos[:, 1]), steps.shares[step, term])
        grad.setflags(write=False)
        kept[self.step] = grad
        while len(kept) > GRADIENTS_KEPT:
            kept.popitem(last=False)
        return grad

    @stepwise
    def _receives(self) -> dict[tuple[int, int], tuple[int, None]]:
        """The input cells this step's δ reaches, each with its tap (their shares are badged
        on the input's window, which an overfull stage keeps in view)."""
        receives = {}
        if self.step:
            rec = self.record()
            for t, pos in enumerate(rec.position.tolist()):
                if rec.reaches[t] and (float(rec.shares[t]) != 0 or t == int(rec.winner)):
                    receives[tuple(pos)] = (t, None)
        return receives

    @stepwise
    def gradient_rows(self) -> list[list[Cell]]:
        """∂L/∂x so far, the cells this step's δ reaches in its taps' colours."""
        return self._grid("g", *self._grid_states()["g"])

    def changed_cells(self, previous: int) -> tuple[list[Cell], list[Cell]]:
        """The cells that look different at this step than at step ``previous``: what a step
        update swaps. Only cells that can differ are made (both steps' windows and current
        cells, the outputs made and the gradient's cells reached in between), and of those
        the ones that do differ are sent."""
        then = self.at(previous)
        lo, hi = sorted((previous, self.step))
        cells: list[Cell] = []
        marks_now, marks_then = self.marks(), then.marks()
        for r, c in sorted(set(marks_now) | set(marks_then)):
            cell = self.input_cell(r, c, marks_now)
            if cell != then.input_cell(r, c, marks_then):
                cells.append(cell)
        now_states, then_states = self._grid_states(), then._grid_states()
        made = {tuple(map(int, np.unravel_index(i - 1, self.output.shape)))
                for i in range(max(lo, 1), hi + 1)}
        for prefix, state in now_states.items():
            old = then_states[prefix]
            spots = {state[2], old[2]} - {None}
            if state[1] is not None:  # values made in between (forward)
                spots |= {(r, c) for r, c in made
                          if r < state[0].shape[0] and c < state[0].shape[1]}
            if prefix == "g":
                spots |= set(state[4]) | set(old[4]) | self._reached(lo, hi)
            for r, c in sorted(spots):
                cell = self._cell(prefix, state[0], r, c, *state[1:])
                if cell != self._cell(prefix, old[0], r, c, *old[1:]):
                    cells.append(cell)
        return cells, []

    def _reached(self, lo: int, hi: int) -> set[tuple[int, int]]:
        """The input cells the δs of steps lo + 1 .. hi reach."""
        if hi <= lo:
            return set()
        steps = self.trace.steps(lo, hi - lo)
        step, term = np.nonzero(steps.reaches)
        return {tuple(p) for p in steps.position[step, term].tolist()}

    # --- the step's arithmetic --------------------------------------------------------------
    @stepwise
    def terms(self) -> list[Term]:
        """The window's values in window order: for a max every cell in the padded input
        (padding −∞), for a mean those it divides by (padding 0)."""
        rec = self.record()
        marks = self.marks()
        counted = rec.shares != 0 if self.backward else rec.counted  # backward: δ is never 0
        out = []
        for t, pos in enumerate(rec.position.tolist()):
            if rec.outside[t]:
                continue
            if self.view.kind == "avg" and not counted[t]:
                continue
            if rec.padding[t]:
                out.append(Term(t, self.pad_text, "pad"))
            else:
                out.append(Term(t, format_number(self.x[pos[0], pos[1]]),
                                marks.get(tuple(pos), (0, None, None))[2]))
        return out

    @stepwise
    def ties(self) -> int:
        """How many cells of this step's window tie with its winner (max only)."""
        return sum(1 for t in self.terms() if t.mark == "tie")

    @stepwise
    def winner_position(self) -> tuple[int, int] | None:
        """(row, column) in the input of this step's winner (max), None for none."""
        rec = self.record()
        if int(rec.winner) < 0:
            return None
        r, c = rec.position[int(rec.winner)].tolist()
        return int(r), int(c)

    @stepwise
    def sentence(self) -> str:
        """Backward: where this step's δ goes, and what the gradient there now is."""
        rec = self.record()
        r, c = self.current()
        delta = format_number(float(rec.delta))
        name = f"δ({r + 1},{c + 1}) = {delta}"
        before, after = self.at(self.step - 1).gradient(), self.gradient()
        if self.view.kind == "max":
            win = self.winner_position()
            if win is None:
                return gettext("%(delta)s is lost: its window holds padding alone.") % {
                    "delta": name}
            i, j = win
            return gettext("%(delta)s goes to the window's maximum, all of it: "
                           "∂L/∂x(%(row)s,%(col)s) = %(was)s + %(value)s = %(now)s") % {
                "delta": name, "row": i + 1, "col": j + 1, "was": format_number(before[i, j]),
                "value": delta, "now": format_number(after[i, j])}
        divisor = self.trace_divisor(rec)
        lost = int(np.sum(rec.padding & (rec.shares != 0)))
        values = {"delta": name, "value": delta, "divisor": divisor, "lost": lost,
                  "share": format_number(float(rec.delta) / divisor)}
        if lost:
            return gettext("%(delta)s is shared: %(value)s / %(divisor)s = %(share)s to each of "
                           "its %(divisor)s cells; the %(lost)s in the padding lose "
                           "theirs") % values
        return gettext("%(delta)s is shared: %(value)s / %(divisor)s = %(share)s to each of its "
                       "%(divisor)s cells") % values

    @staticmethod
    def trace_divisor(rec) -> int:
        """The mean's divisor at a backward step: the cells its δ is shared between (δ is
        never 0 here: 1, 2, 3, ...)."""
        return int(np.count_nonzero(rec.shares)) or 1

    # --- comparison ---------------------------------------------------------------------------
    @property
    def conv_title(self) -> str:
        return gettext("the window's mean") if self.view.conv == "mean" else \
            gettext(KERNELS_2D[self.view.conv][0]).lower()

    @shared
    def agreement(self) -> float | None:
        """Average pooling with count_include_pad against the mean convolution: their
        largest difference (they are the same sum), None where they do not compare."""
        if self.conv_output is None or self.view.kind != "avg" or self.view.conv != "mean" \
                or self.conv_output.shape != self.output.shape:
            return None
        return float(np.abs(self.conv_output - self.output).max())
