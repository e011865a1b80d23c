"""The transposed-convolution page's state, all of it in its URL: its presets, its view and
reading its query (``/transposed?input=ones4&kernel=k3&stride=2&show=gather``).

Kept in a module of its own, beside the other pages' :mod:`.views` and :mod:`.parsing`: the
page's presets, its fields (``output_padding``, ``show``) and its rules (one channel; a 1-D
or 2-D input) are its own. Presets live here too, for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..config import Settings
from ..engine.transposed import transposed_size_formulas
from ..engine.transposed_trace import VIEWS
from ..i18n import N_, gettext
from .parsing import _axis_ints, _choice, _common, _preset, parse_matrix, parse_vector
from .views import View

#: inputs: name -> (title, values); a flat list is a 1-D input
INPUTS_T: dict[str, tuple[str, list]] = {
    "d2l": (N_("2×2: 0 1 / 2 3 (the worked example)"), [[0, 1], [2, 3]]),
    "ones4": (N_("4×4 of ones: the overlap shows as it is"), [[1] * 4 for _ in range(4)]),
    "ramp3": (N_("3×3: 1 to 9"), [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    "signal": (N_("1-D: 1 2 3 4"), [1, 2, 3, 4]),
    "ones-1d": (N_("1-D: six ones"), [1] * 6),
}

#: kernels: name -> (title, 2-D values, 1-D values); a 1-D input takes the 1-D form
KERNELS_T: dict[str, tuple[str, list, list]] = {
    "d2l": (N_("2×2: 0 1 / 2 3"), [[0, 1], [2, 3]], [1, 2]),
    "k3": (N_("3×3 of ones (k3: with stride 2, a checkerboard)"), [[1] * 3 for _ in range(3)],
           [1, 1, 1]),
    "k4": (N_("4×4 of ones (k4: with stride 2, even)"), [[1] * 4 for _ in range(4)], [1] * 4),
    "k2": (N_("2×2 of ones"), [[1, 1], [1, 1]], [1, 1]),
    "bilinear": (N_("4×4 bilinear upsampling (stride 2, padding 1)"),
                 np.outer([0.25, 0.75, 0.75, 0.25], [0.25, 0.75, 0.75, 0.25]).tolist(),
                 [0.25, 0.75, 0.75, 0.25]),
}


def _tuple(values: list) -> tuple:
    return tuple(tuple(float(v) for v in r) for r in values) if isinstance(values[0], list) \
        else tuple(float(v) for v in values)


@dataclass(frozen=True)
class ViewTransposed(View):
    """Everything the transposed page shows: an input and a kernel (presets, or typed in),
    stride, padding (cropped from both ends), ``output_padding`` and dilation, and ``show``:
    ``scatter`` (each input cell stamps the kernel) or ``gather`` (each output cell sums what
    reaches it), as the engine's traces (:data:`~app.engine.transposed_trace.VIEWS`)."""

    input: str = "d2l"
    x: tuple | None = None
    kernel: str = "d2l"
    w: tuple | None = None
    stride: int | tuple[int, ...] = 1
    padding: int | tuple[int, ...] = 0
    output_padding: int | tuple[int, ...] = 0
    dilation: int | tuple[int, ...] = 1
    show: str = "scatter"
    step: int = 0
    speed: float = 2
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none

    @property
    def input_values(self) -> list:
        values = self.x if self.x is not None else _tuple(INPUTS_T[self.input][1])
        return [list(r) for r in values] if isinstance(values[0], tuple) else list(values)

    @property
    def ndim(self) -> int:
        return 2 if isinstance(self.input_values[0], list) else 1

    @property
    def kernel_values(self) -> list:
        if self.w is not None:
            values = self.w
        else:
            _, two, one = KERNELS_T[self.kernel]
            values = _tuple(two if self.ndim == 2 else one)
        return [list(r) for r in values] if isinstance(values[0], tuple) else list(values)

    def engine_params(self) -> dict:
        return {"stride": self.stride, "padding": self.padding,
                "output_padding": self.output_padding, "dilation": self.dilation}

    def size_formulas(self) -> list[str]:
        """The transposed output-size formula of every axis, the numbers filled in (the
        engine's)."""
        return transposed_size_formulas(*self.sizes(), **self.engine_params())


def parse_view_transposed(query: Mapping[str, str], limits: Settings) -> ViewTransposed:
    """Read the transposed page's state; :class:`~app.web.parsing.StateError` names a bad
    parameter. The input is 1-D (a list) or 2-D (rows), one channel; the kernel has as many
    dimensions as the input."""
    changes = {**_preset(query, "input", INPUTS_T), **_preset(query, "kernel", KERNELS_T)}
    base = ViewTransposed(**changes)
    if query.get("x", "").strip():
        text = query["x"]
        if ";" in text.strip().strip(";") or "\n" in text.strip():
            x = _tuple(parse_matrix(text, "x", limits.page_max_grid_side, "page_max_grid_side"))
        else:
            x = _tuple(parse_vector(text, "x", limits.page_max_signal, "page_max_signal"))
        if x != _tuple(base.input_values):
            changes["x"] = x
    base = ViewTransposed(**changes)
    if query.get("w", "").strip():
        text = query["w"]
        if base.ndim == 2:
            w = _tuple(parse_matrix(text, "w", limits.page_max_kernel_side,
                                    "page_max_kernel_side"))
        else:
            w = _tuple(parse_vector(text.replace(";", " "), "w", limits.page_max_kernel_1d,
                                    "page_max_kernel_1d"))
        if w != _tuple(base.kernel_values):
            changes["w"] = w
    base = ViewTransposed(**changes)
    if query.get("output_padding", "").strip():
        changes["output_padding"] = _axis_ints(query["output_padding"], "output_padding", 0,
                                               base.ndim)
    if query.get("padding", "").strip():
        changes["padding"] = _axis_ints(query["padding"], "padding", 0, base.ndim)
    changes |= _choice(query, "show", VIEWS, gettext("show must be 'scatter' or 'gather'"))
    common = _common({k: v for k, v in query.items() if k != "padding"}, base.ndim, base)
    return ViewTransposed(**changes, **common)
