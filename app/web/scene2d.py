"""What the 2D page draws, computed from the engine: grids of cells, the current window and
the current step's arithmetic. Templates only lay these out; every number comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..i18n import gettext
from .cells import Cell, bucket, fit
from .formatting import format_factor, format_full, format_number
from .picture import GreyScale
from .scenes import GridScene, shared, stepwise


@dataclass(frozen=True)
class Scale:
    """What the page says of a picture's grey scale: which pictures it draws, its words,
    and how many of their values it clips."""

    pictures: str
    words: str
    clipped: int


@dataclass(frozen=True)
class Term:
    tap: int
    weight: str
    value: str
    product: str


class Scene2D(GridScene):
    """One view of the 2D page: the engine's geometry, output and trace for a
    :class:`~app.web.views.View2D` (one channel, one kernel, the view's bias)."""

    # --- geometry shown on the page ---------------------------------------------------
    @property
    def geometry_data(self) -> dict[str, str]:
        """Geometry for the receptive-field highlight in the browser (no values)."""
        g = self.geom
        return {
            "stride": ",".join(map(str, g.stride)), "dilation": ",".join(map(str, g.dilation)),
            "pad": ",".join(str(b) for b, _ in g.padding), "kernel": ",".join(map(str, g.kernel)),
            "out": ",".join(map(str, g.out_spatial)), "padded": ",".join(map(str, g.padded)),
        }

    @property
    def padded_values(self) -> np.ndarray:
        """The padded input (:attr:`padded`), as this page's template names it."""
        return self.padded

    # --- the current step -------------------------------------------------------------
    out_position = GridScene.current  # row and column of the output made at this step

    @stepwise
    def terms(self) -> list[Term]:
        """This step's products, each with its tap."""
        record = self.record()
        return [Term(tap, format_factor(record.weights[tap]), format_factor(record.inputs[tap]),
                     format_number(float(record.products[tap])))
                for tap in range(len(record.products))]

    # --- grids --------------------------------------------------------------------------
    input_rows = GridScene.input_cells
    output_rows = GridScene.output_cells

    def kernel_rows(self, flipped: bool = False) -> list[list]:
        """The kernel as written, or ``flipped`` as it slides in convolution mode; the grid
        that slides carries the tap colours."""
        return self.kernel_cells(self.flipped_kernel if flipped else self.w,
                                 "kf" if flipped else "k", taps=flipped or not self.geom.flip)

    # --- pictures (``show=picture``): the same cells, drawn as grey pixels ---------------
    @property
    def picture(self) -> bool:
        """Whether the input and the output are drawn as grey-scale pictures."""
        return self.view.show == "picture"

    @shared
    def grey_scales(self) -> tuple[GreyScale, GreyScale]:
        """The input picture's grey scale and the output's, as the view's ``scale`` says:
        ``shared``, the range of both (the padded input as drawn, and the whole output);
        ``input``, the input's range for both; ``each``, each picture its own range."""
        if self.view.scale == "shared":
            both = GreyScale.of(self.padded, self.output)
            return both, both
        drawn = GreyScale.of(self.padded)
        return drawn, drawn if self.view.scale == "input" else GreyScale.of(self.output)

    @shared
    def scale_notes(self) -> list[Scale]:
        """The grey scales in words, one per scale drawn, with the values each clips."""
        x_scale, out_scale = self.grey_scales
        if x_scale == out_scale:
            pictures = gettext("input and output") if self.view.scale == "shared" else \
                gettext("input and output (the input's range)")
            return [Scale(pictures, x_scale.words,
                          x_scale.clipped(self.padded) + out_scale.clipped(self.output))]
        return [Scale(gettext("input"), x_scale.words, x_scale.clipped(self.padded)),
                Scale(gettext("output"), out_scale.words, out_scale.clipped(self.output))]

    @staticmethod
    def _pixel(cell: Cell, value: float, scale: GreyScale) -> Cell:
        """``cell`` drawn as a pixel: no text (its value stays its title and name)."""
        grey, clip = scale.level(value)
        return replace(cell, text="", exact=format_full(value), grey=grey, clip=clip, bucket=0)

    def input_cell(self, index: tuple[int, ...], window: dict) -> Cell:
        cell = super().input_cell(index, window)
        if not self.picture:
            return cell
        return self._pixel(cell, float(self.padded[index]), self.grey_scales[0])

    def output_cell(self, index: tuple[int, ...]) -> Cell:
        cell = super().output_cell(index)
        if not self.picture or cell.empty:
            return cell
        return self._pixel(cell, float(self.output_grid[index]), self.grey_scales[1])

    @stepwise
    def magnifier(self) -> tuple[list[list[Cell]], Cell]:
        """The numbers under the kernel at this step, from the trace's record: the values
        each tap reads (kernel-shaped, tap by tap as the flipped kernel grid is), and the
        output value they make; blank cells at step 0."""
        shape = self.geom.kernel
        side = max(shape)
        record = self.record() if self.step else None

        def cell(index: tuple[int, int]) -> Cell:
            tap = int(np.ravel_multi_index(index, shape))
            common = {"id": f"mag-{index[0]}-{index[1]}", "row": index[0], "col": index[1],
                      "tap": tap}
            if record is None:
                return Cell(text="", bucket=0, empty=True, **common)
            value = float(record.inputs[tap])
            return Cell(text=fit(value, side), exact=format_full(value),
                        bucket=bucket(value, self.input_scale), **common)

        rows = [[cell((r, c)) for c in range(shape[1])] for r in range(shape[0])]
        if record is None:
            return rows, Cell(id="mag-out", text="", bucket=0, row=0, col=0, empty=True)
        value = float(record.value)
        return rows, Cell(id="mag-out", text=fit(value, 1), exact=format_full(value),
                          bucket=bucket(value, self.output_scale), row=0, col=0, current=True)
