"""What the 3D page draws, from the engine: a volume as a row of depth slices, the kernel
cube's footprint across the slices it covers, and the output volume filling slice by slice;
above them, the same volumes in 3-D, as stacks of depth sheets with the kernel cube outlined
in the input and the value it makes outlined in the output."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .cells import Cell, bucket
from .formatting import format_product
from .scenes import GridScene, shared, stepwise

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

    @stepwise
    def covered(self) -> list[int]:
        """The padded depth slices the kernel cube covers at this step."""
        return sorted({z for z, _, _ in self.window()})

    # --- grids ----------------------------------------------------------------------------
    input_slices = GridScene.input_cells
    output_slices = GridScene.output_cells

    def kernel_slices(self) -> list[list[list[Cell]]]:
        return self.kernel_cells(self.w)

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

    @shared
    def iso_origins(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where the input stack and the output stack start (their top-left corners)."""
        width, _ = self._extent(self.padded.shape)
        return (ISO_MARGIN, ISO_MARGIN), (2 * ISO_MARGIN + width + ISO_CELL, ISO_MARGIN)

    @shared
    def iso_size(self) -> tuple[int, int]:
        (iw, ih), (ow, oh) = self._extent(self.padded.shape), self._extent(self.output.shape)
        return (math.ceil(3 * ISO_MARGIN + iw + ISO_CELL + ow),
                math.ceil(2 * ISO_MARGIN + max(ih, oh)))

    @shared
    def iso_input(self) -> list[IsoCell]:
        """The padded input's cells, deepest sheet first so nearer sheets cover it."""
        d, h, w = self.padded.shape
        cells = []
        for z in reversed(range(d)):
            for r in range(h):
                for c in range(w):
                    cells.append(IsoCell(self._quad(z, r, c, self.iso_origins[0], h),
                                         bucket(float(self.padded[z, r, c]), self.input_scale),
                                         ghost=self.is_padding((z, r, c))))
        return cells

    @shared
    def iso_output(self) -> list[IsoCell]:
        d, h, w = self.output.shape
        return [IsoCell(self._quad(z, r, c, self.iso_origins[1], h))
                for z in reversed(range(d)) for r in range(h) for c in range(w)]

    @stepwise
    def iso_window(self) -> tuple[list[str], str | None]:
        """The outlines of the input cells under the kernel cube at this step, and of the
        output value they make."""
        if self.step == 0:
            return [], None
        h = self.padded.shape[1]
        inputs = [self._quad(z, r, c, self.iso_origins[0], h)
                  for z, r, c in sorted(self.window(), reverse=True)]
        z, r, c = self.current()
        return inputs, self._quad(z, r, c, self.iso_origins[1], self.output.shape[1])

    # --- words ----------------------------------------------------------------------------
    @stepwise
    def formula(self) -> str:
        """The lesson's 3-D formula with this step's indices filled in."""
        i, j, k = (v + 1 for v in self.current())
        return (f"[f ⋆ g]({i}, {j}, {k}) = Σ_p Σ_q Σ_r f(p, q, r) · "
                f"g({i} + p, {j} + q, {k} + r)")

    @stepwise
    def terms(self) -> list[str]:
        """This step's products, ``w×x``."""
        rec = self.record()
        return [format_product(w, x) for w, x in zip(rec.weights, rec.inputs, strict=True)]
