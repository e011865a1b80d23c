"""Page state, all of it in the URL: parsing query parameters, and writing short canonical URLs.

A view is presets by name plus edits: ``/2d?input=digit&kernel=sobel-x&padding=1&step=7``,
``/1d?signal=box&kernel=box``.
Values are written out (``x=0,1,2;3,4,5``, rows separated by ``;``) only where they differ
from the preset, so ordinary URLs stay short.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

import numpy as np

from ..config import Settings
from ..engine import MODES, PADDING_MODES
from ..presets import (
    BACKPROP,
    CHANNELS,
    IMAGES_2D,
    KERNELS_1D,
    KERNELS_1D_DENSE,
    KERNELS_2D,
    SIGNALS_1D,
    VOLUMES,
    signal_values,
)
from .lesson import STOPS
from .playback import SPEEDS


class StateError(ValueError):
    """A query parameter the page cannot use; ``field`` names it, and ``limit`` the
    :class:`~app.config.Settings` limit it crossed, if that was the reason."""

    def __init__(self, field: str, message: str, limit: str | None = None) -> None:
        super().__init__(message)
        self.field, self.message, self.limit = field, message, limit


def parse_matrix(text: str, field: str, max_side: int | None = None,
                 limit: str | None = None) -> list[list[float]]:
    """``"0,1,2;3,4,5"`` (or one row per line, spaces allowed) to a rectangular matrix."""
    rows = [r for r in re.split(r"[;\n]", text.strip()) if r.strip()]
    if not rows:
        raise StateError(field, f"{field} is empty")
    matrix = []
    for row in rows:
        cells = [c for c in re.split(r"[,\s]+", row.strip()) if c]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            raise StateError(field, f"{field} must hold numbers separated by commas or "
                                    "spaces, rows by ';' or new lines") from None
        if not all(math.isfinite(v) for v in values):
            raise StateError(field, f"{field} must hold finite numbers")
        matrix.append(values)
    if len({len(r) for r in matrix}) != 1:
        raise StateError(field, f"{field} must be rectangular: every row needs the same "
                                "number of values")
    if max_side is not None and max(len(matrix), len(matrix[0])) > max_side:
        raise StateError(field, f"{field} can be at most {max_side} x {max_side} here "
                                f"({limit}={max_side})", limit)
    return matrix


def _spelled(value: float) -> str | None:
    """∞, −∞ and NaN as a page writes them (no number to round), else ``None``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return None


def format_exact(value: float) -> str:
    """The shortest text that reads back as exactly this float: integers without a point
    (``3``), others as Python's ``repr`` (``0.1``, ``1e-07``), and ``inf``/``nan`` spelled so
    ``float()`` reads them. What a values box, a URL or a cell's title holds."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return _compact(repr(value))


def format_full(value: float) -> str:
    """A number in full, as a cell's title and accessible name say it: exact
    (:func:`format_exact`), with ∞, −∞ and NaN spelled."""
    spelled = _spelled(float(value))
    return format_exact(value) if spelled is None else spelled


def format_number(value: float) -> str:
    """A number as the page writes it: integers without a point, else up to 3 decimals;
    ∞, −∞ and NaN spelled."""
    value = float(value)
    spelled = _spelled(value)
    if spelled is not None:
        return spelled
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return _compact(f"{value:.3g}")
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _compact(text: str) -> str:
    """``1.50e+12`` as ``1.5e12``, ``2e-05`` as ``2e-5``: the exponent without its ``+`` and
    leading zeros, the mantissa without trailing zeros."""
    if "e" not in text or not text[-1].isdigit():  # inf, nan
        return text
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def format_fit(value: float, chars: int) -> str:
    """A number in at most ``chars`` characters, with as many significant digits as fit
    (``-0.858`` in 5 is ``-0.86``, ``-1.05e12`` is ``-1e12``, in 7 ``-1.1e12``); ∞, −∞ and NaN
    spelled. A number no text of ``chars`` can hold (``-1e-300`` in 5) gets its shortest; the
    grid's cell shrinks its type to show it whole (app.css, ``.cell.n7``)."""
    value = float(value)
    spelled = _spelled(value)
    if spelled is not None:
        return spelled
    exact = format_exact(value)
    if len(exact) <= chars:
        return exact
    shortest = exact
    for digits in range(min(chars, 17), 0, -1):
        for text in (_compact(f"{value:.{digits}g}"), _compact(f"{value:.{digits - 1}e}")):
            if len(text) <= chars:
                return text
            shortest = min(shortest, text, key=len)
    return shortest


def format_cell(value: float, scale: float, chars: int = 5) -> str:
    """A number short enough for a grid cell (``chars`` characters, see :func:`format_fit`):
    rounding noise (below 10⁻¹² of the grid's largest value) reads 0."""
    value = float(value)
    if math.isfinite(value) and abs(value) <= 1e-12 * max(scale, 1.0):
        return "0"
    return format_fit(value, chars)


def format_factor(value: float) -> str:
    """A number as a factor in a product: negatives in parentheses, ``2×(-1)``."""
    text = format_number(float(value))
    return f"({text})" if text.startswith(("-", "−")) else text


def format_matrix(matrix: list[list[float]]) -> str:
    """Values for a URL, each exact (:func:`format_exact`): ``0,1.5;2,3``."""
    return ";".join(",".join(format_exact(v) for v in row) for row in matrix)


def _axis_ints(text: str, field: str, minimum: int, axes: int) -> int | tuple[int, ...]:
    """One whole number, or (on a 2D page) two separated by a comma: rows, columns."""
    parts = [p.strip() for p in text.split(",")]
    shape = "a whole number" if axes == 1 else \
        "a whole number, or two separated by a comma (rows, columns)" if axes == 2 else \
        f"a whole number, or {axes} separated by commas (one per axis)"
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise StateError(field, f"{field} must be {shape}") from None
    if len(values) not in (1, axes):
        raise StateError(field, f"{field} must be {shape}")
    if min(values) < minimum or max(values) > 99:
        raise StateError(field, f"{field} must be between {minimum} and 99")
    return values[0] if len(values) == 1 else tuple(values)


def _format(name: str, value: object) -> str:
    if name in ("x", "w"):  # a vector (1D) or a matrix (2D) of values
        rows = value if isinstance(value[0], tuple) else (value,)
        return format_matrix([list(r) for r in rows])
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "1"
    if isinstance(value, float):
        return format_exact(value)
    return str(value)


class _View:
    """What every page's view shares: engine parameters and a canonical, short query."""

    def engine_params(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "padding_mode": self.padding_mode, "mode": self.mode}

    @property
    def default_speed(self) -> float:
        """The page's own default speed (its view's), which its URL leaves out."""
        return type(self).speed

    def scene_query(self) -> str:
        """The canonical query of what the scene shows: without the player's step and speed,
        projector mode or the tour."""
        return self.query(step=0, speed=type(self).speed, projector=False, tour=0)

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Spatial sizes of the input and the kernel, for the output-size formula."""
        return np.shape(self.input_values), np.shape(self.kernel_values)

    def query(self, **changes) -> str:
        """The canonical query string: only what differs from the defaults."""
        view = replace(self, **changes) if changes else self
        default = type(self)()
        params = {f.name: _format(f.name, getattr(view, f.name)) for f in fields(self)
                  if getattr(view, f.name) != getattr(default, f.name)}
        return urlencode(params, safe=",;")


@dataclass(frozen=True)
class _PlayedView(_View):
    """The sliding parameters and player state of the pages that take them as they are."""

    stride: int | tuple[int, ...] = 1
    padding: int | tuple[int, ...] | str = 0
    padding_mode: str = "zeros"
    dilation: int | tuple[int, ...] = 1
    mode: str = "cross-correlation"
    step: int = 0
    speed: float = 2
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none


@dataclass(frozen=True)
class View2D(_View):
    """Everything the 2D page shows, as the URL says it."""

    input: str = "lesson"
    x: tuple[tuple[float, ...], ...] | None = None
    kernel: str = "lesson"
    w: tuple[tuple[float, ...], ...] | None = None
    bias: float = 0.0
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] | str = 0
    padding_mode: str = "zeros"
    dilation: int | tuple[int, int] = 1
    mode: str = "cross-correlation"
    step: int = 0
    speed: float = 4
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none

    @property
    def input_values(self) -> list[list[float]]:
        return [list(r) for r in self.x] if self.x is not None else \
            [list(map(float, r)) for r in IMAGES_2D[self.input][1]]

    @property
    def kernel_values(self) -> list[list[float]]:
        return [list(r) for r in self.w] if self.w is not None else \
            [list(map(float, r)) for r in KERNELS_2D[self.kernel][1]]


def _preset(query: Mapping[str, str], field: str, names: Mapping[str, object]) -> dict:
    if field not in query or query[field] == "custom":  # edited values: no preset's
        return {}
    if query[field] not in names:
        kind = "" if field == "preset" else f"{field} "
        raise StateError(field, f"no {kind}preset is named {query[field][:40]!r}; "
                                f"choose one of {', '.join(names)}")
    return {field: query[field]}


def flag(query: Mapping[str, str], name: str) -> bool:
    """A yes/no parameter: ``1``, ``true`` or ``on`` is yes, anything else (or none) no."""
    return query.get(name, "") in ("1", "true", "on")


def _common(query: Mapping[str, str], axes: int, default: _View) -> dict:
    """The parameters every page reads the same way."""
    changes: dict = {}
    if query.get("bias", "").strip():
        try:
            bias = float(query["bias"])
        except ValueError:
            raise StateError("bias", "bias must be a number") from None
        if not math.isfinite(bias):
            raise StateError("bias", "bias must be a finite number")
        changes["bias"] = bias
    for name, minimum in (("stride", 1), ("dilation", 1)):
        if query.get(name, "").strip():
            changes[name] = _axis_ints(query[name], name, minimum, axes)
    if query.get("padding", "").strip():
        padding = query["padding"].strip()
        changes["padding"] = padding if padding in ("valid", "same", "full") else \
            _axis_ints(padding, "padding", 0, axes)
    if "padding_mode" in query:
        if query["padding_mode"] not in PADDING_MODES:
            raise StateError("padding_mode", "padding_mode must be one of "
                                             + ", ".join(PADDING_MODES))
        changes["padding_mode"] = query["padding_mode"]
    if "mode" in query:
        if query["mode"] not in MODES:
            raise StateError("mode", "mode must be 'cross-correlation' or 'convolution'")
        changes["mode"] = query["mode"]
    if query.get("step", "").strip():
        try:
            changes["step"] = max(0, int(query["step"]))
        except ValueError:
            raise StateError("step", "step must be a whole number") from None
    if query.get("speed", "").strip():
        try:
            speed = float(query["speed"])
        except ValueError:
            raise StateError("speed", "speed must be a number of steps per second") from None
        changes["speed"] = min(max(speed, SPEEDS[0]), SPEEDS[-1]) if math.isfinite(speed) \
            else default.speed
    changes["projector"] = flag(query, "projector")
    changes |= _whole(query, "tour", 1, len(STOPS))
    known = {f.name for f in fields(default)}  # e.g. the backprop page has no bias
    return {name: value for name, value in changes.items() if name in known}


def parse_view_2d(query: Mapping[str, str], limits: Settings) -> View2D:
    """Read the 2D page's state from query parameters; :class:`StateError` names a bad one."""
    changes = {**_preset(query, "input", IMAGES_2D), **_preset(query, "kernel", KERNELS_2D)}
    base = View2D(**changes)
    if query.get("x", "").strip():
        x = parse_matrix(query["x"], "x", limits.page_max_grid_side, "page_max_grid_side")
        if x != base.input_values:
            changes["x"] = tuple(map(tuple, x))
    if query.get("w", "").strip():
        w = parse_matrix(query["w"], "w", limits.page_max_kernel_side, "page_max_kernel_side")
        if w != base.kernel_values:
            changes["w"] = tuple(map(tuple, w))
    return View2D(**changes, **_common(query, 2, base))


def parse_vector(text: str, field: str, max_len: int, limit: str) -> list[float]:
    """``"1, 2, 3"`` (commas, spaces or new lines) to a list of numbers."""
    values = parse_matrix(text.replace(";", " ").replace("\n", " "), field)[0]
    if len(values) > max_len:
        raise StateError(field, f"{field} can hold at most {max_len} values here "
                                f"({limit}={max_len})", limit)
    return values


@dataclass(frozen=True)
class View1D(_View):
    """Everything the 1D page shows, as the URL says it.

    ``view`` is ``continuous`` (densely sampled signals drawn as curves, the lesson's
    animations) or ``discrete`` (a few samples drawn as stems, with the arithmetic).
    """

    signal: str = "spiky"
    x: tuple[float, ...] | None = None
    kernel: str = "box"
    w: tuple[float, ...] | None = None
    bias: float = 0.0
    stride: int = 1
    padding: int | str = "full"
    padding_mode: str = "zeros"
    dilation: int = 1
    mode: str = "convolution"
    view: str = "continuous"
    compare: bool = False
    step: int = 0
    speed: float = 24
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none

    @property
    def dense(self) -> bool:
        return self.view == "continuous"

    @property
    def kernels(self) -> dict:
        return KERNELS_1D_DENSE if self.dense else KERNELS_1D

    @property
    def input_values(self) -> list[float]:
        return list(self.x) if self.x is not None else \
            [float(v) for v in signal_values(self.signal, self.dense)]

    @property
    def kernel_values(self) -> list[float]:
        return list(self.w) if self.w is not None else \
            [float(v) for v in self.kernels[self.kernel][1]]


def parse_view_1d(query: Mapping[str, str], limits: Settings) -> View1D:
    """Read the 1D page's state from query parameters; :class:`StateError` names a bad one."""
    changes: dict = {}
    if "view" in query:
        if query["view"] not in ("continuous", "discrete"):
            raise StateError("view", "view must be 'continuous' or 'discrete'")
        changes["view"] = query["view"]
    changes.update(_preset(query, "signal", SIGNALS_1D))
    kernels = View1D(**changes).kernels
    if query.get("kernel") in KERNELS_1D | KERNELS_1D_DENSE and query["kernel"] not in kernels:
        pass  # a kernel of the other view: switching views falls back to that view's box
    else:
        changes.update(_preset(query, "kernel", kernels))
    base = View1D(**changes)
    if query.get("x", "").strip():
        x = parse_vector(query["x"], "x", limits.page_max_signal, "page_max_signal")
        if x != base.input_values:
            changes["x"] = tuple(x)
    if query.get("w", "").strip():
        w = parse_vector(query["w"], "w", limits.page_max_kernel_1d, "page_max_kernel_1d")
        if w != base.kernel_values:
            changes["w"] = tuple(w)
    changes["compare"] = flag(query, "compare")
    return View1D(**changes, **_common(query, 1, base))


PARTS = ("weight", "input", "bias")
LOSSES = ("custom", "sum", "mse")


@dataclass(frozen=True)
class ViewBackprop(_PlayedView):
    """The backprop page: a preset, how δ is made, which pass is playing, and how many
    gradient-descent updates have been applied (``epoch``) — replayed from the preset's
    starting kernel, so the URL alone says where training is."""

    preset: str = "lesson-1d"
    loss: str | None = None
    delta: tuple[float, ...] | None = None
    target: tuple[float, ...] | None = None
    part: str = "weight"
    eta: float | None = None
    epoch: int = 0

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        preset = BACKPROP[self.preset]
        return np.shape(preset.x)[1:], np.shape(preset.w)[2:]


def parse_view_backprop(query: Mapping[str, str], limits: Settings) -> ViewBackprop:
    """Read the backprop page's state; :class:`StateError` names a bad parameter."""
    changes: dict = _preset(query, "preset", BACKPROP)
    axes = np.ndim(BACKPROP[changes.get("preset", "lesson-1d")].w) - 2
    if "loss" in query:
        if query["loss"] not in LOSSES:
            raise StateError("loss", "loss must be 'custom' (edit δ), 'sum' or 'mse'")
        changes["loss"] = query["loss"]
    for name in ("delta", "target"):
        if query.get(name, "").strip():
            changes[name] = tuple(parse_vector(query[name], name, limits.page_max_signal,
                                               "page_max_signal"))
    if "part" in query:
        if query["part"] not in PARTS:
            raise StateError("part", "part must be 'weight', 'input' or 'bias'")
        changes["part"] = query["part"]
    if query.get("eta", "").strip():
        try:
            eta = float(query["eta"])
        except ValueError:
            raise StateError("eta", "eta (the learning rate) must be a number") from None
        if not (math.isfinite(eta) and 0 < eta <= 10):
            raise StateError("eta", "eta (the learning rate) must be above 0 and at most 10")
        changes["eta"] = eta
    if query.get("epoch", "").strip():
        try:
            epoch = int(query["epoch"])
        except ValueError:
            raise StateError("epoch", "epoch must be a whole number") from None
        if epoch < 0:
            raise StateError("epoch", "epoch must be 0 or more")
        if epoch > limits.page_max_epochs:
            raise StateError("epoch", f"epoch can be at most {limits.page_max_epochs} here "
                                      f"(page_max_epochs={limits.page_max_epochs})",
                             "page_max_epochs")
        changes["epoch"] = epoch
    base = ViewBackprop(**changes)
    return ViewBackprop(**changes, **_common(query, max(axes, 1), base))


@dataclass(frozen=True)
class ViewChannels(_PlayedView):
    """The channels page: a preset, groups, which sample of the batch is shown."""

    preset: str = "lesson"
    groups: int | None = None
    sample: int = 0

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        preset = CHANNELS[self.preset]
        return np.shape(preset.x)[2:], np.shape(preset.w)[2:]


def _whole(query: Mapping[str, str], field: str, lo: int, hi: int) -> dict:
    if not query.get(field, "").strip():
        return {}
    try:
        value = int(query[field])
    except ValueError:
        raise StateError(field, f"{field} must be a whole number") from None
    if not lo <= value <= hi:
        raise StateError(field, f"{field} must be between {lo} and {hi}")
    return {field: value}


def parse_view_channels(query: Mapping[str, str], limits: Settings) -> ViewChannels:
    changes = _preset(query, "preset", CHANNELS)
    preset = CHANNELS[changes.get("preset", "lesson")]
    changes |= _whole(query, "groups", 1, 64) | _whole(query, "sample", 0, len(preset.x) - 1)
    base = ViewChannels(**changes)
    return ViewChannels(**changes, **_common(query, 2, base))


@dataclass(frozen=True)
class View3D(_PlayedView):
    """The 3D page: a volume preset and per-axis stride, padding and dilation."""

    volume: str = "box"

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        _, x, w = VOLUMES[self.volume]
        return np.shape(x), np.shape(w)


def parse_view_3d(query: Mapping[str, str], limits: Settings) -> View3D:
    changes = _preset(query, "volume", VOLUMES)
    base = View3D(**changes)
    return View3D(**changes, **_common(query, 3, base))
