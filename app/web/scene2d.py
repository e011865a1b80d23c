"""What the 2D page draws, computed from the engine: grids of cells, the current window and
the current step's arithmetic. Templates only lay these out; every number comes from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..engine import forward, plan
from ..engine.cost import forward_cost
from ..engine.geometry import Geometry, size_formulas
from ..engine.trace import ForwardTrace
from .cells import Cell, badge, bucket, fit
from .formatting import format_factor, format_full, format_number
from .scenes import Budget, GridScene, padded_view
from .views import View2D


@dataclass(frozen=True)
class Term:
    tap: int
    weight: str
    value: str
    product: str


class Scene2D(GridScene):
    """One view of the 2D page: the engine's geometry, output and trace for a :class:`View2D`.

    Raises :class:`~app.engine.ConvolutionError` when the geometry is impossible.
    """

    def __init__(self, view: View2D, budget: Budget) -> None:
        self.view = view
        x = np.asarray(view.input_values, dtype=np.float64)
        w = np.asarray(view.kernel_values, dtype=np.float64)
        self.x, self.w = x, w
        bias = np.array([view.bias]) if view.bias else None
        self.geom: Geometry = plan((1, *x.shape), (1, 1, *w.shape), **view.engine_params())
        budget.check(cells=math.prod(self.geom.padded) + math.prod(self.geom.out_spatial),
                     cost=forward_cost(self.geom))
        self.output = forward(x[None], w[None, None], bias, **view.engine_params())[0]
        self.trace = ForwardTrace(x[None], w[None, None], bias, **view.engine_params())
        #: steps are outputs computed so far: 0 (none yet) to ``steps`` (all of them);
        #: at step k the kernel has just produced output element k - 1 (C order)
        self.steps = len(self.trace)
        self.step = min(view.step, self.steps)

    # --- geometry shown on the page ---------------------------------------------------
    @property
    def padding(self) -> tuple[tuple[int, int], ...]:
        return self.geom.padding

    @cached_property
    def formulas(self) -> list[str]:
        return size_formulas(self.x.shape, self.w.shape, stride=self.view.stride,
                             padding=self.view.padding, dilation=self.view.dilation)

    @property
    def geometry_data(self) -> dict[str, str]:
        """Geometry for the receptive-field highlight in the browser (no values)."""
        g = self.geom
        return {
            "stride": ",".join(map(str, g.stride)), "dilation": ",".join(map(str, g.dilation)),
            "pad": ",".join(str(b) for b, _ in g.padding), "kernel": ",".join(map(str, g.kernel)),
            "out": ",".join(map(str, g.out_spatial)), "padded": ",".join(map(str, g.padded)),
        }

    # --- the current step -------------------------------------------------------------
    def window(self, step: int) -> dict[tuple[int, int], tuple[int, float]]:
        """Padded-grid coordinates of the window at ``step`` -> (tap, kernel weight)."""
        if step == 0:
            return {}
        record = self.record(step)
        (pb_h, _), (pb_w, _) = self.padding
        return {
            (int(r) + pb_h, int(c) + pb_w): (tap, float(record.weights[tap]))
            for tap, (r, c) in enumerate(record.position)
        }

    def out_position(self, step: int) -> tuple[int, int]:
        """Row and column of the output element computed at ``step`` (>= 1)."""
        _, _, r, c = np.unravel_index(step - 1, self.trace.shape)
        return int(r), int(c)

    def terms(self, step: int) -> list[Term]:
        record = self.record(step)
        return [Term(tap, format_factor(record.weights[tap]), format_factor(record.inputs[tap]),
                     format_number(float(record.products[tap])))
                for tap in range(len(record.products))]

    # --- grids --------------------------------------------------------------------------
    @cached_property
    def padded_values(self) -> np.ndarray:
        """The input as the kernel sees it, padding included (the engine's padding map)."""
        return padded_view(self.x[None], self.geom)[0]

    def input_cell(self, r: int, c: int, window: dict) -> Cell:
        (pb_h, _), (pb_w, _) = self.padding
        value = float(self.padded_values[r, c])
        ghost = not (0 <= r - pb_h < self.x.shape[0] and 0 <= c - pb_w < self.x.shape[1])
        tap, weight = (window or {}).get((r, c), (None, None))
        return Cell(
            id=f"in-{r}-{c}", text=fit(value, max(self.padded_values.shape)),
            exact=format_full(value), row=r, col=c, ghost=ghost,
            bucket=bucket(value, self.input_scale), tap=tap,
            badge=None if weight is None else badge(weight),
        )

    @cached_property
    def input_scale(self) -> float:
        return float(np.abs(self.x).max())

    def input_rows(self) -> list[list[Cell]]:
        window = self.window(self.step)
        return [[self.input_cell(r, c, window) for c in range(self.padded_values.shape[1])]
                for r in range(self.padded_values.shape[0])]

    def kernel_rows(self, flipped: bool = False) -> list[list[Cell]]:
        w = self.w[::-1, ::-1] if flipped else self.w
        scale = float(np.abs(self.w).max())
        prefix = "kf" if flipped else "k"
        taps = flipped or not self.geom.flip  # the grid that slides carries the tap colours
        side = max(w.shape)
        return [[Cell(id=f"{prefix}-{r}-{c}", text=fit(w[r, c], side),
                      exact=format_full(w[r, c]), row=r, col=c,
                      bucket=bucket(float(w[r, c]), scale),
                      tap=r * w.shape[1] + c if taps else None)
                 for c in range(w.shape[1])] for r in range(w.shape[0])]

    @cached_property
    def output_scale(self) -> float:
        return float(np.abs(self.output).max())

    def output_cell(self, r: int, c: int, step: int) -> Cell:
        index = r * self.output.shape[1] + c  # C order, as the steps run
        value = float(self.output[r, c])
        shown = index < step
        return Cell(id=f"out-{r}-{c}", text=fit(value, max(self.output.shape)) if shown
                    else "", exact=format_full(value) if shown else None, row=r, col=c,
                    bucket=bucket(value, self.output_scale) if shown else 0, empty=not shown,
                    current=index == step - 1)

    @property
    def output_grid(self) -> np.ndarray:
        return self.output

    def output_rows(self) -> list[list[Cell]]:
        return [[self.output_cell(r, c, self.step) for c in range(self.output.shape[1])]
                for r in range(self.output.shape[0])]

