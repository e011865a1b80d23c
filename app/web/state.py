"""Page state, all of it in the URL: parsing query parameters, and writing short canonical URLs.

A view is presets by name plus edits: ``/2d?input=digit&kernel=sobel-x&padding=1&step=7``.
Values are written out (``x=0,1,2;3,4,5``, rows separated by ``;``) only where they differ
from the preset, so ordinary URLs stay short.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from ..engine import MODES, PADDING_MODES
from ..presets import IMAGES_2D, KERNELS_2D

MAX_SIDE = 32  # a page grid larger than this is unreadable anyway
MAX_KERNEL = 9
SPEEDS = (0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 30, 45, 60)


class StateError(ValueError):
    """A query parameter the page cannot use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def parse_matrix(text: str, field: str, max_side: int) -> list[list[float]]:
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
    if len(matrix) > max_side or len(matrix[0]) > max_side:
        raise StateError(field, f"{field} can be at most {max_side} x {max_side} here")
    return matrix


def format_number(value: float) -> str:
    """A number as the page writes it: integers without a point, else up to 3 decimals."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def format_factor(value: float) -> str:
    """A number as a factor in a product: negatives in parentheses, ``2×(-1)``."""
    text = format_number(float(value))
    return f"({text})" if text.startswith("-") else text


def format_matrix(matrix: list[list[float]]) -> str:
    return ";".join(",".join(format_number(v) for v in row) for row in matrix)


def _axis_pair(text: str, field: str, minimum: int) -> int | tuple[int, int]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise StateError(field, f"{field} must be a whole number, or two separated by a comma "
                                "(rows, columns)") from None
    if len(values) not in (1, 2):
        raise StateError(field, f"{field} takes one number, or two (rows, columns)")
    if min(values) < minimum or max(values) > 99:
        raise StateError(field, f"{field} must be between {minimum} and 99")
    return values[0] if len(values) == 1 else (values[0], values[1])


@dataclass(frozen=True)
class View2D:
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

    @property
    def input_values(self) -> list[list[float]]:
        return [list(r) for r in self.x] if self.x is not None else \
            [list(map(float, r)) for r in IMAGES_2D[self.input][1]]

    @property
    def kernel_values(self) -> list[list[float]]:
        return [list(r) for r in self.w] if self.w is not None else \
            [list(map(float, r)) for r in KERNELS_2D[self.kernel][1]]

    def engine_params(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "padding_mode": self.padding_mode, "mode": self.mode}

    def query(self, **changes) -> str:
        """The canonical query string: only what differs from the defaults."""
        view = replace(self, **changes) if changes else self
        default = View2D()
        params: dict[str, str] = {}
        for f in fields(self):
            value = getattr(view, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name in ("x", "w"):
                params[f.name] = format_matrix([list(r) for r in value])
            elif isinstance(value, tuple):
                params[f.name] = ",".join(map(str, value))
            elif isinstance(value, bool):
                params[f.name] = "1"
            elif isinstance(value, float):
                params[f.name] = format_number(value)
            else:
                params[f.name] = str(value)
        return urlencode(params, safe=",;")


def parse_view_2d(query: Mapping[str, str]) -> View2D:
    """Read the 2D page's state from query parameters; :class:`StateError` names a bad one."""
    changes: dict = {}
    if "input" in query:
        if query["input"] not in IMAGES_2D:
            raise StateError("input", f"no input preset is named {query['input'][:40]!r}; "
                                      f"choose one of {', '.join(IMAGES_2D)}")
        changes["input"] = query["input"]
    if "kernel" in query:
        if query["kernel"] not in KERNELS_2D:
            raise StateError("kernel", f"no kernel preset is named {query['kernel'][:40]!r}; "
                                       f"choose one of {', '.join(KERNELS_2D)}")
        changes["kernel"] = query["kernel"]
    base = View2D(**changes)
    if query.get("x", "").strip():
        x = parse_matrix(query["x"], "x", MAX_SIDE)
        if x != base.input_values:
            changes["x"] = tuple(map(tuple, x))
    if query.get("w", "").strip():
        w = parse_matrix(query["w"], "w", MAX_KERNEL)
        if w != base.kernel_values:
            changes["w"] = tuple(map(tuple, w))
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
            changes[name] = _axis_pair(query[name], name, minimum)
    if query.get("padding", "").strip():
        padding = query["padding"].strip()
        changes["padding"] = padding if padding in ("valid", "same", "full") else \
            _axis_pair(padding, "padding", 0)
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
            else View2D.speed
    changes["projector"] = query.get("projector", "") in ("1", "true", "on")
    return View2D(**changes)
