"""What the 2D page draws, computed from the engine: grids of cells, the current window and
the current step's arithmetic. Templates only lay these out; every number comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .formatting import format_factor, format_number
from .scenes import GridScene, stepwise


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
