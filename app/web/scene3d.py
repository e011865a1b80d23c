"""What the 3D page draws, from the engine: a volume as a row of depth slices, the kernel
cube's footprint across the slices it covers, and the output volume filling slice by slice."""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from ..engine import forward, plan
from ..engine.geometry import size_formulas
from ..engine.trace import ForwardTrace
from ..presets import VOLUMES
from .scenes import Budget, Cell, GridScene, bucket, padded_view
from .state import View3D, format_factor, format_number


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
                     macs=self.geom.macs)
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
                (tap, "×" + format_number(float(w)))
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

    def input_cell(self, z: int, r: int, c: int, window: dict) -> Cell:
        before = [b for b, _ in self.geom.padding]
        inside = all(0 <= v - b < s for v, b, s in zip((z, r, c), before, self.x.shape,
                                                      strict=True))
        value = float(self.padded[z, r, c])
        tap, badge = window.get((z, r, c), (None, None))
        return Cell(id=f"in-{z}-{r}-{c}", text=format_number(value), row=r, col=c,
                    ghost=not inside, bucket=bucket(value, self.scale), tap=tap, badge=badge)

    def input_slices(self) -> list[list[list[Cell]]]:
        window = self.window(self.step)
        d, h, w = self.padded.shape
        return [[[self.input_cell(z, r, c, window) for c in range(w)] for r in range(h)]
                for z in range(d)]

    def kernel_slices(self) -> list[list[list[Cell]]]:
        scale = float(np.abs(self.w).max())
        return [[[Cell(id=f"k-{z}-{r}-{c}", text=format_number(float(v)), row=r, col=c,
                       bucket=bucket(float(v), scale)) for c, v in enumerate(row)]
                 for r, row in enumerate(plane)] for z, plane in enumerate(self.w)]

    @cached_property
    def output_scale(self) -> float:
        return float(np.abs(self.output).max())

    def output_cell(self, z: int, r: int, c: int, step: int) -> Cell:
        _, oh, ow = self.output.shape
        index = (z * oh + r) * ow + c
        value = float(self.output[z, r, c])
        shown = index < step
        return Cell(id=f"out-{z}-{r}-{c}", text=format_number(value) if shown else "", row=r,
                    col=c, empty=not shown, current=index == step - 1,
                    bucket=bucket(value, self.output_scale) if shown else 0)

    @property
    def output_grid(self) -> np.ndarray:
        return self.output

    def output_slices(self) -> list[list[list[Cell]]]:
        d, h, w = self.output.shape
        return [[[self.output_cell(z, r, c, self.step) for c in range(w)] for r in range(h)]
                for z in range(d)]


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
