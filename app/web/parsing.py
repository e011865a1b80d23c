"""Reading a page's state from its query parameters: one ``parse_view_*`` per page, each
giving that page's view (:mod:`.views`) or a :class:`StateError` that names the bad parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import fields

import numpy as np

from ..config import Settings
from ..engine import MODES, PADDING_MODES
from ..engine.loss import LOSSES as ENGINE_LOSSES
from ..engine.trace import PARTS
from ..i18n import gettext
from ..presets import (
    BACKPROP,
    CHANNELS,
    IMAGES_2D,
    KERNELS_1D,
    KERNELS_1D_DENSE,
    KERNELS_2D,
    SIGNALS_1D,
    VOLUMES,
)
from .lesson import STOPS
from .playback import SPEEDS
from .views import SCALES, SHOWS, View, View1D, View2D, View3D, ViewBackprop, ViewChannels


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
        raise StateError(field, gettext("%(field)s is empty") % {"field": field})
    matrix = []
    for row in rows:
        cells = [c for c in re.split(r"[,\s]+", row.strip()) if c]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            raise StateError(field, gettext(
                "%(field)s must hold numbers separated by commas or spaces, rows by ';' or "
                "new lines") % {"field": field}) from None
        if not all(math.isfinite(v) for v in values):
            raise StateError(field, gettext("%(field)s must hold finite numbers")
                             % {"field": field})
        matrix.append(values)
    if len({len(r) for r in matrix}) != 1:
        raise StateError(field, gettext(
            "%(field)s must be rectangular: every row needs the same number of values")
            % {"field": field})
    if max_side is not None and max(len(matrix), len(matrix[0])) > max_side:
        raise StateError(field, gettext(
            "%(field)s can be at most %(side)s x %(side)s here (%(limit)s=%(side)s)")
            % {"field": field, "side": max_side, "limit": limit}, limit)
    return matrix


def parse_vector(text: str, field: str, max_len: int, limit: str) -> list[float]:
    """``"1, 2, 3"`` (commas, spaces or new lines) to a list of numbers."""
    values = parse_matrix(text.replace(";", " ").replace("\n", " "), field)[0]
    if len(values) > max_len:
        raise StateError(field, gettext(
            "%(field)s can hold at most %(most)s values here (%(limit)s=%(most)s)")
            % {"field": field, "most": max_len, "limit": limit}, limit)
    return values


def _axis_ints(text: str, field: str, minimum: int, axes: int) -> int | tuple[int, ...]:
    """One whole number, or (on a 2D page) two separated by a comma: rows, columns."""
    parts = [p.strip() for p in text.split(",")]
    names = {"field": field, "axes": axes}
    shape = gettext("%(field)s must be a whole number") % names if axes == 1 else \
        gettext("%(field)s must be a whole number, or two separated by a comma (rows, "
                "columns)") % names if axes == 2 else \
        gettext("%(field)s must be a whole number, or %(axes)s separated by commas (one per "
                "axis)") % names
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise StateError(field, shape) from None
    if len(values) not in (1, axes):
        raise StateError(field, shape)
    if min(values) < minimum or max(values) > 99:
        raise StateError(field, gettext("%(field)s must be between %(lo)s and %(hi)s")
                         % {"field": field, "lo": minimum, "hi": 99})
    return values[0] if len(values) == 1 else tuple(values)


def _preset(query: Mapping[str, str], field: str, names: Mapping[str, object]) -> dict:
    if field not in query or query[field] == "custom":  # edited values: no preset's
        return {}
    if query[field] not in names:
        values = {"field": field, "name": repr(query[field][:40]), "names": ", ".join(names)}
        raise StateError(field, (gettext("no preset is named %(name)s; choose one of %(names)s")
                                 if field == "preset" else
                                 gettext("no %(field)s preset is named %(name)s; choose one of "
                                         "%(names)s")) % values)
    return {field: query[field]}


def _choice(query: Mapping[str, str], field: str, choices, message: str) -> dict:
    """``field`` as the query has it, when it is one of ``choices`` (else ``message``)."""
    if field not in query:
        return {}
    if query[field] not in choices:
        raise StateError(field, message)
    return {field: query[field]}


def flag(query: Mapping[str, str], name: str) -> bool:
    """A yes/no parameter: ``1``, ``true`` or ``on`` is yes, anything else (or none) no."""
    return query.get(name, "") in ("1", "true", "on")


def _whole(query: Mapping[str, str], field: str, lo: int, hi: int) -> dict:
    if not query.get(field, "").strip():
        return {}
    try:
        value = int(query[field])
    except ValueError:
        raise StateError(field, gettext("%(field)s must be a whole number")
                         % {"field": field}) from None
    if not lo <= value <= hi:
        raise StateError(field, gettext("%(field)s must be between %(lo)s and %(hi)s")
                         % {"field": field, "lo": lo, "hi": hi})
    return {field: value}


def _common(query: Mapping[str, str], axes: int, default: View) -> dict:
    """The parameters every page reads the same way."""
    changes: dict = {}
    if query.get("bias", "").strip():
        try:
            bias = float(query["bias"])
        except ValueError:
            raise StateError("bias", gettext("bias must be a number")) from None
        if not math.isfinite(bias):
            raise StateError("bias", gettext("bias must be a finite number"))
        changes["bias"] = bias
    for name, minimum in (("stride", 1), ("dilation", 1)):
        if query.get(name, "").strip():
            changes[name] = _axis_ints(query[name], name, minimum, axes)
    if query.get("padding", "").strip():
        padding = query["padding"].strip()
        changes["padding"] = padding if padding in ("valid", "same", "full") else \
            _axis_ints(padding, "padding", 0, axes)
    changes |= _choice(query, "padding_mode", PADDING_MODES,
                       gettext("padding_mode must be one of %(names)s")
                       % {"names": ", ".join(PADDING_MODES)})
    changes |= _choice(query, "mode", MODES,
                       gettext("mode must be 'cross-correlation' or 'convolution'"))
    if query.get("step", "").strip():
        try:
            changes["step"] = max(0, int(query["step"]))
        except ValueError:
            raise StateError("step", gettext("step must be a whole number")) from None
    if query.get("speed", "").strip():
        try:
            speed = float(query["speed"])
        except ValueError:
            raise StateError("speed", gettext("speed must be a number of steps per second")) \
                from None
        changes["speed"] = min(max(speed, SPEEDS[0]), SPEEDS[-1]) if math.isfinite(speed) \
            else default.speed
    changes["projector"] = flag(query, "projector")
    changes |= _whole(query, "tour", 1, len(STOPS))
    known = {f.name for f in fields(default)}  # e.g. the backprop page has no bias
    return {name: value for name, value in changes.items() if name in known}


def parse_view_1d(query: Mapping[str, str], limits: Settings) -> View1D:
    """Read the 1D page's state from query parameters; :class:`StateError` names a bad one."""
    changes = _choice(query, "view", ("continuous", "discrete"),
                      gettext("view must be 'continuous' or 'discrete'"))
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
    changes["overlay"] = flag(query, "overlay")
    return View1D(**changes, **_common(query, 1, base))


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
    changes |= _choice(query, "show", SHOWS, gettext("show must be 'numbers' or 'picture'"))
    changes |= _choice(query, "scale", SCALES, gettext(
        "scale must be 'shared', 'input' or 'each' (the picture's grey scale)"))
    return View2D(**changes, **_common(query, 2, base))


def parse_view_3d(query: Mapping[str, str], limits: Settings) -> View3D:
    changes = _preset(query, "volume", VOLUMES)
    base = View3D(**changes)
    return View3D(**changes, **_common(query, 3, base))


def parse_view_channels(query: Mapping[str, str], limits: Settings) -> ViewChannels:
    changes = _preset(query, "preset", CHANNELS)
    preset = CHANNELS[changes.get("preset", "lesson")]
    changes |= _whole(query, "groups", 1, 64) | _whole(query, "sample", 0, len(preset.x) - 1)
    base = ViewChannels(**changes)
    return ViewChannels(**changes, **_common(query, 2, base))


def _backprop_values(query: Mapping[str, str], base: ViewBackprop, axes: int,
                     limits: Settings) -> dict:
    """The input x and the starting kernel w typed in: a vector on a 1-D preset, a matrix on
    a 2-D one, only where the preset has one input channel and one kernel."""
    changes: dict = {}
    sizes = {"x": (limits.page_max_signal, "page_max_signal", limits.page_max_grid_side,
                   "page_max_grid_side"),
             "w": (limits.page_max_kernel_1d, "page_max_kernel_1d", limits.page_max_kernel_side,
                   "page_max_kernel_side")}
    for name, preset_values in (("x", base.example.x[0]), ("w", base.example.w[0][0])):
        if not query.get(name, "").strip():
            continue
        if not base.editable:
            raise StateError(name, gettext(
                "%(field)s can be typed in on the presets with one input channel and one "
                "kernel; this one takes its values from the preset") % {"field": name})
        long, long_limit, side, side_limit = sizes[name]
        if axes == 1:
            values = tuple(parse_vector(query[name], name, long, long_limit))
        else:
            values = tuple(map(tuple, parse_matrix(query[name], name, side, side_limit)))
        as_given = [list(r) for r in values] if axes > 1 else list(values)
        if as_given != np.asarray(preset_values, dtype=float).tolist():
            changes[name] = values
    return changes


#: where δ comes from: typed in ("custom"), or one of the engine's losses
LOSSES = ("custom", *ENGINE_LOSSES)


def parse_view_backprop(query: Mapping[str, str], limits: Settings) -> ViewBackprop:
    """Read the backprop page's state; :class:`StateError` names a bad parameter."""
    changes: dict = _preset(query, "preset", BACKPROP)
    axes = np.ndim(BACKPROP[changes.get("preset", "lesson-1d")].w) - 2
    changes |= _backprop_values(query, ViewBackprop(**changes), axes, limits)
    changes |= _choice(query, "loss", LOSSES,
                       gettext("loss must be 'custom' (edit δ), 'sum' or 'mse'"))
    example = BACKPROP[changes.get("preset", "lesson-1d")]
    for name in ("delta", "target"):
        if query.get(name, "").strip():
            values = tuple(parse_vector(query[name], name, limits.page_max_signal,
                                        "page_max_signal"))
            # the preset's own values, sent back by the form, are the preset's: when x or w
            # change the output's size, they give way (the page says so) rather than refuse
            preset = getattr(example, name)
            if preset is None or list(values) != np.ravel(preset).tolist():
                changes[name] = values
    changes |= _choice(query, "part", PARTS, gettext("part must be 'weight', 'input' or 'bias'"))
    if query.get("eta", "").strip():
        try:
            eta = float(query["eta"])
        except ValueError:
            raise StateError("eta", gettext("eta (the learning rate) must be a number")) \
                from None
        if not (math.isfinite(eta) and 0 < eta <= 10):
            raise StateError("eta", gettext(
                "eta (the learning rate) must be above 0 and at most %(most)s") % {"most": 10})
        changes["eta"] = eta
    if query.get("epoch", "").strip():
        try:
            epoch = int(query["epoch"])
        except ValueError:
            raise StateError("epoch", gettext("epoch must be a whole number")) from None
        if epoch < 0:
            raise StateError("epoch", gettext("epoch must be 0 or more"))
        if epoch > limits.page_max_epochs:
            raise StateError("epoch", gettext(
                "epoch can be at most %(most)s here (page_max_epochs=%(most)s)")
                % {"most": limits.page_max_epochs}, "page_max_epochs")
        changes["epoch"] = epoch
    base = ViewBackprop(**changes)
    return ViewBackprop(**changes, **_common(query, max(axes, 1), base))
