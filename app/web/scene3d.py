"""What the 3D page draws, from the engine: a volume as a row of depth slices, the kernel
cube's footprint across the slices it covers, and the output volume filling slice by slice;
above them, the same volumes in 3-D, as stacks of depth sheets with the kernel cube outlined
in the input and the value it makes outlined in the output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..engine import forward, plan
from ..engine.cost import forward_cost
from ..engine.geometry import size_formulas
from ..engine.trace import ForwardTrace
from ..presets import VOLUMES
from .cells import Cell, badge, bucket, fit
from .formatting import format_factor, format_full
from .scenes import Budget, GridScene, padded_view
from .views import View3D

ISO_CELL = 18  # a cell's width in the 3-D view, in SVG units
ISO_MAX_CELLS = 1_500  # more, and the stacks would be a blur: the slices below still show all
ISO_MARGIN = 10


@dataclass(frozen=True)
class IsoCell:
    """One cell of the 3-D view: a parallelogram on its depth sheet."""

    points: str
    bucket: int = 0
    ghost: bool = False


class Scene3D(GridScene):
    """One view of the 3D page (a single-channel volume and kernel)."""

    def __init__(self, view: View3D, budget: Budget) -> None:
        self.view = view
        self.title, volume, kernel = VOLUMES[view.volume]
        self.x = np.asarray(volume, dtype=np.float64)      # (D, H, W)
        self.w = np.asarray(kernel, dtype=np.float64)      # (KD, KH, KW)
        params = view.engine_params()
        self.geom = plan((1, *self.x.shape), (1, 1, *self.w.shape), **params)
        budget.check(cells=math.prod(self.geom.padded) + math.prod(self.geom.out_spatial),
                     cost=forward_cost(self.geom))
        self.output = forward(self.x[None], self.w[None, None], **params)[0]
        self.trace = ForwardTrace(self.x[None], self.w[None, None], **params)
        self.steps = len(self.trace)
        self.step = min(view.step, self.steps)

    def current(self, step: int) -> tuple[int, int, int] | None:
        if step == 0:
            return None
        *_, i, j, k = (int(v) for v in self.record(step).index)
        return i, j, k

    def window(self, step: int) -> dict[tuple[int, int, int], tuple[int, str]]:
        """Padded (depth, row, column) -> (tap, weight badge) of the kernel cube at ``step``."""
        if step == 0:
            return {}
        rec = self.record(step)
        before = [b for b, _ in self.geom.padding]
        return {tuple(int(p) + b for p, b in zip(pos, before, strict=True)):
                (tap, badge(float(w)))
                for tap, (pos, w) in enumerate(zip(rec.position, rec.weights, strict=True))}

    def covered(self, step: int) -> list[int]:
        """The padded depth slices the kernel cube covers at ``step``."""
        return sorted({z for z, _, _ in self.window(step)})

    # --- grids ----------------------------------------------------------------------------
    @cached_property
    def padded(self) -> np.ndarray:
        return padded_view(self.x[None], self.geom)[0]

    @cached_property
    def scale(self) -> float:
        return float(np.abs(self.x).max())

    def is_padding(self, z: int, r: int, c: int) -> bool:
        """Whether padded (depth, row, column) lies in the padding, outside the volume."""
        before = [b for b, _ in self.geom.padding]
        return not all(0 <= v - b < n for v, b, n in zip((z, r, c), before, self.x.shape,
                                                         strict=True))

    def input_cell(self, z: int, r: int, c: int, window: dict) -> Cell:
        value = float(self.padded[z, r, c])
        tap, weight = window.get((z, r, c), (None, None))
        return Cell(id=f"in-{z}-{r}-{c}", text=fit(value, max(self.padded.shape[1:])),
                    exact=format_full(value), row=r, col=c, ghost=self.is_padding(z, r, c),
                    bucket=bucket(value, self.scale), tap=tap, badge=weight)

    def input_slices(self) -> list[list[list[Cell]]]:
        window = self.window(self.step)
        d, h, w = self.padded.shape
        return [[[self.input_cell(z, r, c, window) for c in range(w)] for r in range(h)]
                for z in range(d)]

    def kernel_slices(self) -> list[list[list[Cell]]]:
        scale = float(np.abs(self.w).max())
        side = max(self.w.shape[1:])
        return [[[Cell(id=f"k-{z}-{r}-{c}", text=fit(v, side), exact=format_full(v), row=r,
                       col=c, bucket=bucket(float(v), scale)) for c, v in enumerate(row)]
                 for r, row in enumerate(plane)] for z, plane in enumerate(self.w)]

    @cached_property
    def output_scale(self) -> float:
        return float(np.abs(self.output).max())

    def output_cell(self, z: int, r: int, c: int, step: int) -> Cell:
        _, oh, ow = self.output.shape
        index = (z * oh + r) * ow + c
        value = float(self.output[z, r, c])
        shown = index < step
        return Cell(id=f"out-{z}-{r}-{c}", text=fit(value, max(oh, ow)) if shown else "",
                    exact=format_full(value) if shown else None, row=r, col=c, empty=not shown,
                    current=index == step - 1,
                    bucket=bucket(value, self.output_scale) if shown else 0)

    @property
    def output_grid(self) -> np.ndarray:
        return self.output

    def output_slices(self) -> list[list[list[Cell]]]:
        d, h, w = self.output.shape
        return [[[self.output_cell(z, r, c, self.step) for c in range(w)] for r in range(h)]
                for z in range(d)]


    # --- the 3-D view ---------------------------------------------------------------------
    # Each depth slice is a sheet seen from above and in front: columns run right, rows run
    # down-right at half a cell, and each deeper sheet sits just below the one above.
    @property
    def iso_drawn(self) -> bool:
        return math.prod(self.padded.shape) + self.output.size <= ISO_MAX_CELLS

    @staticmethod
    def _sheet_step(rows: int) -> float:
        return rows * ISO_CELL * 0.5 + ISO_CELL * 0.4

    def _quad(self, z: int, r: int, c: int, origin: tuple[float, float], rows: int) -> str:
        gap = self._sheet_step(rows)
        corners = ((r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c))
        return " ".join(f"{origin[0] + cc * ISO_CELL + rr * ISO_CELL / 2:.1f},"
                        f"{origin[1] + rr * ISO_CELL / 2 + z * gap:.1f}" for rr, cc in corners)

    def _extent(self, shape: tuple[int, int, int]) -> tuple[float, float]:
        d, h, w = shape
        return (w * ISO_CELL + h * ISO_CELL / 2, h * ISO_CELL / 2 + (d - 1) * self._sheet_step(h))

    @cached_property
    def iso_origins(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where the input stack and the output stack start (their top-left corners)."""
        width, _ = self._extent(self.padded.shape)
        return (ISO_MARGIN, ISO_MARGIN), (2 * ISO_MARGIN + width + ISO_CELL, ISO_MARGIN)

    @cached_property
    def iso_size(self) -> tuple[int, int]:
        (iw, ih), (ow, oh) = self._extent(self.padded.shape), self._extent(self.output.shape)
        return (math.ceil(3 * ISO_MARGIN + iw + ISO_CELL + ow),
                math.ceil(2 * ISO_MARGIN + max(ih, oh)))

    @cached_property
    def iso_input(self) -> list[IsoCell]:
        """The padded input's cells, deepest sheet first so nearer sheets cover it."""
        d, h, w = self.padded.shape
        cells = []
        for z in reversed(range(d)):
            for r in range(h):
                for c in range(w):
                    cells.append(IsoCell(self._quad(z, r, c, self.iso_origins[0], h),
                                         bucket(float(self.padded[z, r, c]), self.scale),
                                         ghost=self.is_padding(z, r, c)))
        return cells

    @cached_property
    def iso_output(self) -> list[IsoCell]:
        d, h, w = self.output.shape
        return [IsoCell(self._quad(z, r, c, self.iso_origins[1], h))
                for z in reversed(range(d)) for r in range(h) for c in range(w)]

    def iso_window(self, step: int) -> tuple[list[str], str | None]:
        """At ``step``: the outlines of the input cells under the kernel cube, and of the
        output value they make."""
        if step == 0:
            return [], None
        h = self.padded.shape[1]
        inputs = [self._quad(z, r, c, self.iso_origins[0], h)
                  for z, r, c in sorted(self.window(step), reverse=True)]
        z, r, c = self.current(step)
        return inputs, self._quad(z, r, c, self.iso_origins[1], self.output.shape[1])

    @cached_property
    def formulas(self) -> list[str]:
        return size_formulas(self.x.shape, self.w.shape, stride=self.view.stride,
                             padding=self.view.padding, dilation=self.view.dilation)

    # --- words ----------------------------------------------------------------------------
    def formula(self, step: int) -> str:
        """The lesson's 3-D formula with this step's indices filled in."""
        i, j, k = (v + 1 for v in self.current(step))
        return (f"[f ⋆ g]({i}, {j}, {k}) = Σ_p Σ_q Σ_r f(p, q, r) · "
                f"g({i} + p, {j} + q, {k} + r)")

    def terms(self, step: int) -> list[str]:
        rec = self.record(step)
        return [f"{format_factor(w)}×{format_factor(x)}"
                for w, x in zip(rec.weights, rec.inputs, strict=True)]
