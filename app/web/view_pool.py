"""The pool page's state, all of it in the URL, and reading it from a query: the input (a
preset), the pool (kind, kernel size, stride, padding, dilation, ``ceil_mode``,
``count_include_pad``), the part shown (forward or backward) and the strided convolution
beside it (``compare``, with its kernel ``conv``).

``/pool?input=digit&kind=avg&kernel=2&part=backward``. The stride is left out while it is the
kernel size (PyTorch's default); a stride typed equal to the kernel size is that default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from ..config import Settings
from ..engine import POOL_KINDS
from ..i18n import N_, gettext
from ..presets import IMAGES_2D, KERNELS_2D
from .parsing import StateError, _axis_ints, _choice, _common, _preset, flag
from .views import View

#: the inputs: small grids with ties first (PyTorch sends a tie to the first maximum in
#: window order), then the 2D page's pictures
INPUTS: dict[str, tuple[str, list]] = {
    "ties": (N_("Ties: equal maxima in a window"), [[1, 3, 3, 0], [2, 3, 1, 1], [0, 1, 4, 4],
                                                [2, 2, 4, 4]]),
    "lesson-4x4": (N_("Distinct values 0..15"), [[r * 4 + c for c in range(4)] for r in range(4)]),
    "peak": (N_("A peak under overlapping windows"), [[1, 2, 0, 1, 2], [0, 3, 1, 2, 1],
                                                  [2, 1, 9, 0, 3], [1, 2, 0, 4, 1],
                                                  [3, 0, 2, 1, 2]]),
    **{name: preset for name, preset in IMAGES_2D.items() if name != "lesson"},
}

#: what the pool is compared with: a strided convolution over the same windows, its kernel
#: the window's mean (1 / cells everywhere) or one of the 2D page's kernels of that size
CONV_KERNELS: dict[str, str] = {"mean": N_("Mean of the window (box)"),
                                **{k: t for k, (t, _) in KERNELS_2D.items()}}

PARTS = ("forward", "backward")
#: what the page takes a count_include_pad of: 1 (PyTorch's default) or 0
YES, NO = ("1", "true", "on"), ("0", "false", "off")


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class ViewPool(View):
    """Everything the pool page shows, as the URL says it (see the module docstring)."""

    input: str = "ties"
    kind: str = "max"
    kernel: int | tuple[int, int] = 2
    stride: int | tuple[int, int] | None = None  # None: the kernel size
    padding: int | tuple[int, int] = 0
    dilation: int | tuple[int, int] = 1
    ceil_mode: bool = False
    count_include_pad: bool = True
    part: str = "forward"
    compare: bool = False
    conv: str = "mean"
    step: int = 0
    speed: float = 2
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none

    @property
    def input_values(self) -> list[list[float]]:
        return [list(map(float, r)) for r in INPUTS[self.input][1]]

    @property
    def kernel_size(self) -> tuple[int, int]:
        return _pair(self.kernel)

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Spatial sizes of the input and the window (the sliders' ranges read them)."""
        values = INPUTS[self.input][1]
        return (len(values), len(values[0])), self.kernel_size

    def pool_params(self) -> dict:
        """Stride, padding, dilation, ``ceil_mode``, ``count_include_pad``, as
        :func:`app.engine.max_pool` / ``avg_pool`` and their traces take them (a max takes
        count_include_pad True, an average dilation 1: their defaults)."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}

    def query(self, **changes) -> str:
        """The canonical query string: only what differs from the defaults."""
        view = replace(self, **changes) if changes else self
        default = type(self)()
        params = {f.name: _text(getattr(view, f.name)) for f in fields(self)
                  if getattr(view, f.name) != getattr(default, f.name)}
        return urlencode(params, safe=",;")


def parse_view_pool(query: Mapping[str, str], limits: Settings) -> ViewPool:
    """Read the pool page's state; :class:`~app.web.parsing.StateError` names a bad one."""
    changes: dict = _preset(query, "input", INPUTS)
    changes |= _choice(query, "kind", POOL_KINDS, gettext("kind must be 'max' or 'avg'"))
    changes |= _choice(query, "part", PARTS, gettext("part must be 'forward' or 'backward'"))
    changes |= _choice(query, "conv", CONV_KERNELS, gettext("conv must be one of %(names)s")
                       % {"names": ", ".join(CONV_KERNELS)})
    for name, minimum in (("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
        if query.get(name, "").strip():
            changes[name] = _axis_ints(query[name], name, minimum, 2)
    kernel = changes.get("kernel", ViewPool.kernel)
    if "stride" in changes and _pair(changes["stride"]) == _pair(kernel):
        del changes["stride"]  # the default: the kernel size
    changes["ceil_mode"] = flag(query, "ceil_mode")
    if query.get("count_include_pad", "").strip():
        value = query["count_include_pad"].strip().lower()
        if value not in YES + NO:
            raise StateError("count_include_pad", gettext(
                "count_include_pad must be 1 (divide by the window's cells, padding included) "
                "or 0 (by its input cells only)"))
        changes["count_include_pad"] = value in YES
    changes["compare"] = flag(query, "compare")
    base = ViewPool(**changes)
    kept = {k: query[k] for k in ("step", "speed", "projector", "tour") if k in query}
    return ViewPool(**changes, **_common(kept, 2, base))


def pool_side(view: ViewPool) -> int:
    """The input's longest side: the kernel and stride sliders run to it."""
    return max(view.sizes()[0])


__all__ = ["CONV_KERNELS", "INPUTS", "PARTS", "ViewPool", "parse_view_pool", "pool_side"]
