"""What the transposed-convolution page draws, from the engine: the input, the kernel, the
output as the stamps build it (scatter) or cell by cell (gather), the overlap map, the size
formula, and the link to the same numbers as ``/backprop``'s ∂L/∂X.

One channel; the input is 1-D (drawn as a one-row grid) or 2-D. Every number is the engine's:
:func:`~app.engine.conv_transpose` (the output, and the running sums of the first k stamps),
:func:`~app.engine.overlap_counts`, and the traces of :mod:`app.engine.transposed_trace`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine import conv_transpose, overlap_counts, plan_transposed
from ..engine.cost import Cost, transposed_cost, transposed_trace_terms_per_step
from ..engine.transposed_trace import GatherTrace, ScatterTrace
from ..i18n import gettext
from .cells import Cell, bucket, fit
from .formatting import SUBSCRIPTS, format_factor, format_fit, format_full, format_number
from .scenes import Budget, Stepped, shared, stepwise
from .views import ViewBackprop


def _one_if_same(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """Per-axis values as a field writes them: one number when every axis has it."""
    return values[0] if len(set(values)) == 1 else values


@dataclass(frozen=True)
class Stamp:
    """One term of a scatter step: where the tap lands and what it adds there."""

    tap: int
    cell: str  # the output cell's name, y(2,3), or "cropped" where the padding cuts it
    weight: str
    product: str


@dataclass(frozen=True)
class Completed:
    """An output cell whose last stamp has just landed (or, in gather, the cell made): its
    name, its terms w·x and its value."""

    name: str
    terms: list[str]
    value: str


class SceneTransposed(Stepped):
    """One view of the transposed page (:class:`~app.web.view_transposed.ViewTransposed`).

    Raises :class:`~app.engine.ConvolutionError` when the geometry is impossible and
    :class:`~app.web.scenes.TooBig` over the page budget, before anything is computed.
    """

    def __init__(self, view, budget: Budget) -> None:
        super().__init__()
        self.view = view
        self.x = np.asarray(view.input_values, dtype=np.float64)  # (*spatial)
        self.w = np.asarray(view.kernel_values, dtype=np.float64)  # (*kernel)
        self.params = view.engine_params()
        self.geom = plan_transposed((1, 1, *self.x.shape), (1, 1, *self.w.shape),
                                    **self.params)
        budget.check(cells=self.cells(), cost=self.cost())
        self.output = conv_transpose(self.x[None], self.w[None, None], **self.params)[0]
        self.overlap = overlap_counts(self.geom)
        trace = ScatterTrace if self.scatter else GatherTrace
        self.trace = trace(self.x[None, None], self.w[None, None], **self.params)
        self.steps = len(self.trace)
        self.step = min(view.step, self.steps)

    # --- the budget -------------------------------------------------------------------
    def cells(self) -> int:
        """The values the page draws: input, kernel, output and the overlap map."""
        g = self.geom
        return math.prod(g.in_spatial) + math.prod(g.kernel) + 2 * math.prod(g.out_spatial)

    def cost(self) -> Cost:
        """The output, once, and a running sum of the stamps at each step (one transposed
        convolution each), and every output cell's terms gathered once (what completes it)."""
        g = self.geom
        gather_terms = math.prod(g.out_spatial) * transposed_trace_terms_per_step(g, "gather")
        step_terms = transposed_trace_terms_per_step(g, self.view.show)
        return transposed_cost(g).times(3) + Cost(
            macs=gather_terms + step_terms, moves=8 * (gather_terms + step_terms), loops=60,
            peak_bytes=8 * 16 * (gather_terms + step_terms))

    # --- what the page shows ------------------------------------------------------------
    @property
    def scatter(self) -> bool:
        return self.view.show == "scatter"

    @property
    def one_d(self) -> bool:
        return self.x.ndim == 1

    @classmethod
    def formulas_for(cls, view) -> list[str]:
        return view.size_formulas()

    @shared
    def formulas(self) -> list[str]:
        """The transposed output-size formula of every axis, the numbers filled in."""
        return self.view.size_formulas()

    @property
    def padding_pairs(self) -> list[tuple[int, int]]:
        """The padding cropped from (before, after) each axis: P both."""
        return [(p, p) for p in self.geom.padding]

    def shape_text(self, array: np.ndarray) -> str:
        return "×".join(map(str, array.shape))

    def name(self, letter: str, index) -> str:
        """``x₃`` in 1-D, ``x(1,2)`` in 2-D (from 1, as the other pages write them)."""
        index = [int(i) for i in index]
        if self.one_d:
            return letter + str(index[-1] + 1).translate(SUBSCRIPTS)
        return f"{letter}({','.join(str(i + 1) for i in index)})"

    def _rows(self, array: np.ndarray) -> np.ndarray:
        return array.reshape(1, -1) if array.ndim == 1 else array

    def _index(self, r: int, c: int) -> tuple[int, ...]:
        return (c,) if self.one_d else (r, c)

    @shared
    def _gathered(self):
        """Every output cell's terms, once (the engine's gather trace over all of them)."""
        return GatherTrace(self.x[None, None], self.w[None, None], **self.params).steps()

    @shared
    def done_at(self) -> np.ndarray:
        """The scatter step at which each output cell has all its stamps (0: none reaches it),
        shape out_spatial."""
        g = self._gathered
        counts = np.diff(g.offsets)
        owner = np.repeat(np.arange(len(counts)), counts)
        flat = np.ravel_multi_index(tuple(g.in_position.T), self.x.shape) if len(owner) else \
            np.zeros(0, np.intp)
        done = np.zeros(len(counts), np.int64)
        np.maximum.at(done, owner, flat + 1)
        return done.reshape(self.output.shape)

    def cell_terms(self, flat: int) -> Completed:
        """Output cell ``flat`` (C order) as the sum of what reaches it."""
        g = self._gathered
        lo, hi = int(g.offsets[flat]), int(g.offsets[flat + 1])
        terms = [f"{format_factor(w)}×{format_factor(x)}"
                 for w, x in zip(g.weights[lo:hi], g.inputs[lo:hi], strict=True)]
        index = np.unravel_index(flat, self.output.shape)
        return Completed(self.name("y", index), terms, format_number(float(g.value[flat])))

    @stepwise
    def partial(self) -> np.ndarray:
        """Scatter: the output as the first ``step`` stamps make it (the engine's transposed
        convolution of the input with every later cell set to 0). Gather: the output."""
        if not self.scatter:
            return self.output
        shown = np.zeros(self.x.size)
        shown[:self.step] = 1
        x = self.x * shown.reshape(self.x.shape)
        return conv_transpose(x[None], self.w[None, None], **self.params)[0]

    # --- the current step ---------------------------------------------------------------
    @stepwise
    def stamps(self) -> list[Stamp]:
        """Scatter: the step's stamp, tap by tap (kernel C order)."""
        if not self.step or not self.scatter:
            return []
        rec = self.record()
        return [Stamp(t, self.name("y", pos[-self.x.ndim:]) if inside else "cropped",
                      format_factor(w), format_number(float(p)))
                for t, (pos, inside, w, p) in enumerate(zip(
                    rec.position, rec.inside, rec.weights, rec.products, strict=True))]

    @stepwise
    def stamp_span(self) -> tuple[str, str, int, int] | None:
        """Scatter: the step's stamp in short, the first and last output cells it lands on
        and how many of its taps land and are cropped; None when every tap is cropped."""
        stamps = self.stamps()
        landed = [s for s in stamps if s.cell != "cropped"]
        if not landed:
            return None
        return landed[0].cell, landed[-1].cell, len(landed), len(stamps) - len(landed)

    @stepwise
    def source(self) -> tuple[str, str] | None:
        """Scatter: the input cell stamping at this step, its name and value."""
        if not self.step or not self.scatter:
            return None
        rec = self.record()
        return self.name("x", rec.index[2:]), format_factor(float(rec.value))

    @stepwise
    def completed(self) -> list[Completed]:
        """The output cells complete at this step: in scatter, those whose last stamp has
        just landed; in gather, the one cell made."""
        if not self.step:
            return []
        if not self.scatter:
            return [self.cell_terms(self.step - 1)]
        return [self.cell_terms(int(i)) for i in np.flatnonzero(self.done_at == self.step)]

    @stepwise
    def marks(self) -> tuple[dict, dict]:
        """Where the step's taps are: output cells (scatter: index -> (tap, +product)) and
        input cells (gather: index -> (tap, ×weight))."""
        if not self.step:
            return {}, {}
        rec = self.record()
        if self.scatter:
            out = {}
            for t, (pos, inside, p) in enumerate(zip(rec.position, rec.inside, rec.products,
                                                     strict=True)):
                if inside:
                    out[tuple(int(v) for v in pos)] = (t, "+" + format_fit(float(p), 4))
            return out, {}
        taps = {}
        for pos, k, w in zip(rec.in_position, rec.kernel_index, rec.weights, strict=True):
            tap = int(np.ravel_multi_index(tuple(int(v) for v in k), self.w.shape))
            taps[tuple(int(v) for v in pos)] = (tap, "×" + format_fit(float(w), 4))
        return {}, taps

    @stepwise
    def current_input(self) -> tuple[int, ...] | None:
        if not self.step or not self.scatter:
            return None
        return tuple(int(v) for v in self.record().index[2:])

    @stepwise
    def current_output(self) -> tuple[int, ...] | None:
        if not self.step or self.scatter:
            return None
        return tuple(int(v) for v in self.record().index[2:])

    # --- cells ----------------------------------------------------------------------------
    @shared
    def _scales(self) -> dict[str, float]:
        return {"x": float(np.abs(self.x).max()), "w": float(np.abs(self.w).max()),
                "y": float(np.abs(self.output).max()),
                "overlap": float(self.overlap.max())}

    def _cell(self, prefix: str, array: np.ndarray, r: int, c: int, scale: str, **extra) -> Cell:
        rows = self._rows(array)
        value = float(rows[r, c])
        text = fit(value, max(rows.shape))
        return Cell(id=f"{prefix}-{r}-{c}", text=text, exact=format_full(value), row=r, col=c,
                    bucket=bucket(value, self._scales[scale]), **extra)

    @stepwise
    def input_rows(self) -> list[list[Cell]]:
        """The input's cells: in scatter, the cell stamping now is current and the cells
        still to stamp are dimmed; in gather, the cells reaching the cell made carry their
        tap and weight."""
        _, taps = self.marks()
        current = self.current_input()
        rows = self._rows(self.x)
        done = self.step if self.scatter else rows.size
        cells = []
        for r in range(rows.shape[0]):
            row = []
            for c in range(rows.shape[1]):
                index = self._index(r, c)
                tap, badge = taps.get(index, (None, None))
                row.append(self._cell("in", self.x, r, c, "x", tap=tap, badge=badge,
                                      current=index == current,
                                      ghost=self.scatter and r * rows.shape[1] + c >= done))
            cells.append(row)
        return cells

    @shared
    def kernel_rows(self) -> list[list[Cell]]:
        """The kernel's cells, each tap in its colour (the colour of its stamp's cells)."""
        rows = self._rows(self.w)
        return [[self._cell("k", self.w, r, c, "w", tap=r * rows.shape[1] + c)
                 for c in range(rows.shape[1])] for r in range(rows.shape[0])]

    @stepwise
    def output_rows(self) -> list[list[Cell]]:
        """The output's cells: in scatter, each cell's running sum once a stamp has landed
        there, dimmed until its last one has; in gather, the cells made so far."""
        outs, _ = self.marks()
        partial = self.partial()
        rows = self._rows(partial)
        done = self._rows(self.done_at)
        current = self.current_output()
        cells = []
        for r in range(rows.shape[0]):
            row = []
            for c in range(rows.shape[1]):
                index = self._index(r, c)
                flat = r * rows.shape[1] + c
                tap, badge = outs.get(index, (None, None))
                if self.scatter:
                    started = self._first_at[flat] <= self.step
                    complete = done[r, c] <= self.step
                else:
                    started = complete = flat < self.step
                if not started:
                    row.append(Cell(id=f"out-{r}-{c}", text="", bucket=0, row=r, col=c,
                                    empty=True, tap=tap, badge=badge))
                    continue
                row.append(self._cell("out", partial, r, c, "y", tap=tap, badge=badge,
                                      ghost=not complete, current=index == current
                                      or (self.scatter and done[r, c] == self.step > 0)))
            cells.append(row)
        return cells

    @shared
    def _first_at(self) -> np.ndarray:
        """Scatter: the step at which each output cell gets its first stamp (flat), 0 for a
        cell no stamp reaches (it is 0 from the start)."""
        g = self._gathered
        counts = np.diff(g.offsets)
        owner = np.repeat(np.arange(len(counts)), counts)
        first = np.zeros(len(counts), np.int64)
        if len(owner):
            flat = np.ravel_multi_index(tuple(g.in_position.T), self.x.shape) + 1
            big = np.full(len(counts), np.iinfo(np.int64).max)
            np.minimum.at(big, owner, flat)
            first = np.where(counts > 0, big, 0)
        return first

    @shared
    def overlap_rows(self) -> list[list[Cell]]:
        """How many stamps land on each output cell (the engine's overlap counts)."""
        rows = self._rows(self.overlap)
        return [[Cell(id=f"ov-{r}-{c}", text=str(int(rows[r, c])), row=r, col=c,
                      bucket=bucket(float(rows[r, c]), self._scales["overlap"]))
                 for c in range(rows.shape[1])] for r in range(rows.shape[0])]

    @shared
    def checkerboard(self) -> bool:
        """Whether neighbouring output cells get different numbers of stamps."""
        return len({int(v) for v in np.unique(self.overlap[self._inner])}) > 1

    @shared
    def _inner(self) -> tuple[slice, ...]:
        """The output away from its edges (a kernel's width in), where the stamps are all
        there: the pattern that repeats."""
        return tuple(slice(min(k - 1, o // 2), max(o - (k - 1), o // 2 + 1))
                     for k, o in zip(self.geom.kernel, self.geom.out_spatial, strict=True))

    def changed_cells(self, previous: int) -> tuple[list[Cell], list[Cell]]:
        """The input and output cells that look different at this step than at ``previous``."""
        before = self.at(previous)
        changed = []
        for now, then in ((self.input_rows(), before.input_rows()),
                          (self.output_rows(), before.output_rows())):
            changed.append([cell for row_now, row_then in zip(now, then, strict=True)
                            for cell, old in zip(row_now, row_then, strict=True) if cell != old])
        return changed[0], changed[1]

    # --- the same numbers on /backprop -----------------------------------------------------
    def backprop(self, limits) -> tuple[str | None, str]:
        """The ``/backprop`` address showing this output as ∂L/∂X, with why it is that: the
        kernel, stride, padding and dilation kept, δ = this input and x of the output's size
        (its values do not matter to ∂L/∂X: zeros); or None and why it cannot be shown there
        (``limits``, the app's :class:`~app.config.Settings`, say what /backprop takes)."""
        g = self.geom
        if any(op >= s for op, s in zip(g.output_padding, g.stride, strict=True)):
            return None, gettext(
                "With output_padding as large as the stride, the convolution of this output's "
                "size makes more values than this input has: no δ fits.")
        side = limits.page_max_signal if self.one_d else limits.page_max_grid_side
        if max(g.out_spatial) > side or self.x.size > limits.page_max_signal:
            return None, gettext(
                "/backprop takes an input of at most %(side)s values a side and a δ of at most "
                "%(most)s values: this output is larger.") % {"side": side,
                                                              "most": limits.page_max_signal}
        zeros = np.zeros(self.output.shape)
        x = tuple(zeros.tolist()) if self.one_d else tuple(map(tuple, zeros.tolist()))
        w = tuple(self.w.tolist()) if self.one_d else tuple(map(tuple, self.w.tolist()))
        view = ViewBackprop(preset="lesson-1d" if self.one_d else "lesson-2d", x=x, w=w,
                            loss="custom", delta=tuple(self.x.ravel().tolist()), part="input",
                            stride=_one_if_same(g.stride), padding=_one_if_same(g.padding),
                            dilation=_one_if_same(g.dilation), projector=self.view.projector)
        return "/backprop?" + view.query(), gettext(
            "The transposed convolution is the backward pass of a convolution: this output is "
            "its ∂L/∂X for δ = this input, with the same kernel, stride, padding and dilation.")
