"""Page state, all of it in the URL: what each page shows (its view), and the short canonical
query that says it.

A view is presets by name plus edits: ``/2d?input=digit&kernel=sobel-x&padding=1&step=7``,
``/1d?signal=box&kernel=box``.
Values are written out (``x=0,1,2;3,4,5``, rows separated by ``;``) only where they differ
from the preset, so ordinary URLs stay short. Reading a query is :mod:`.parsing`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import ClassVar
from urllib.parse import urlencode

import numpy as np

from .. import presets
from .formatting import format_exact, format_matrix


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


def _nested(values: tuple) -> list:
    """A typed-in vector, or matrix (a tuple of rows), as nested lists."""
    return [list(r) for r in values] if isinstance(values[0], tuple) else list(values)


class View:
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

    #: axes of ``kernel_values`` before its spatial ones: (C_out, C_in / groups) on the pages
    #: that show channels, none where the page shows one channel and one kernel
    channel_axes = 0

    def sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Spatial sizes of the input and the kernel, for the output-size formula."""
        kernel = np.shape(self.kernel_values)[self.channel_axes:]
        return np.shape(self.input_values)[-len(kernel):], kernel

    def query(self, **changes) -> str:
        """The canonical query string: only what differs from the defaults."""
        view = replace(self, **changes) if changes else self
        default = type(self)()
        params = {f.name: _format(f.name, getattr(view, f.name)) for f in fields(self)
                  if getattr(view, f.name) != getattr(default, f.name)}
        return urlencode(params, safe=",;")


@dataclass(frozen=True)
class _PlayedView(View):
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
class View1D(View):
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
    overlay: bool = False  # the result drawn over the signals too, as the lesson's animations
    step: int = 0
    speed: float = 24
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none

    @property
    def dense(self) -> bool:
        return self.view == "continuous"

    @property
    def kernels(self) -> dict:
        return presets.KERNELS_1D_DENSE if self.dense else presets.KERNELS_1D

    @property
    def input_values(self) -> list[float]:
        return list(self.x) if self.x is not None else \
            [float(v) for v in presets.signal_values(self.signal, self.dense)]

    @property
    def kernel_values(self) -> list[float]:
        return list(self.w) if self.w is not None else \
            [float(v) for v in self.kernels[self.kernel][1]]


#: how the 2D page draws its input and output: values in coloured cells, or grey pixels
SHOWS = ("numbers", "picture")
#: a picture's grey scale: one range for both pictures (``shared``), the input's range for
#: both (``input``: an output value beyond it is drawn clipped, and marked), or each its own
SCALES = ("shared", "input", "each")


class GridValues:
    """A 2-D page's input and kernel values: typed in (``x``, ``w``) or its presets'."""

    x: tuple | None
    w: tuple | None
    input: str
    kernel: str

    @property
    def input_values(self) -> list[list[float]]:
        return [list(r) for r in self.x] if self.x is not None else \
            [list(map(float, r)) for r in presets.IMAGES_2D[self.input][1]]

    @property
    def kernel_values(self) -> list[list[float]]:
        return [list(r) for r in self.w] if self.w is not None else \
            [list(map(float, r)) for r in presets.KERNELS_2D[self.kernel][1]]


@dataclass(frozen=True)
class View2D(GridValues, View):
    """Everything the 2D page shows, as the URL says it; ``show`` and ``scale`` say how
    (:data:`SHOWS`, :data:`SCALES`)."""

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
    show: str = "numbers"
    scale: str = "shared"
    step: int = 0
    speed: float = 4
    projector: bool = False
    tour: int = 0  # the stop shown in the lesson's tour (app.web.lesson), 0 for none


@dataclass(frozen=True)
class View3D(_PlayedView):
    """The 3D page: a volume preset and per-axis stride, padding and dilation."""

    volume: str = "box"

    @property
    def input_values(self) -> list:
        """The volume, (D, H, W)."""
        return presets.VOLUMES[self.volume][1]

    @property
    def kernel_values(self) -> list:
        """The kernel cube, (K_D, K_H, K_W)."""
        return presets.VOLUMES[self.volume][2]


@dataclass(frozen=True)
class _ExampleView(_PlayedView):
    """A page that takes its whole example from a preset, named by its ``preset`` field:
    the input with its channels, (N, C_in, *spatial) or (C_in, *spatial), and the kernels,
    (C_out, C_in, *kernel)."""

    channel_axes = 2
    examples: ClassVar[Mapping] = {}  # the page's presets, by name

    @property
    def example(self):
        """The preset the view names."""
        return self.examples[self.preset]

    def chosen(self, name: str):
        """The view's ``name`` where it sets one, else its example's."""
        return getattr(self, name) or getattr(self.example, name)

    @property
    def input_values(self) -> list:
        return self.example.x

    @property
    def kernel_values(self) -> list:
        """The example's kernels as written (before any grouping; backprop's, before any
        training)."""
        return self.example.w


@dataclass(frozen=True)
class ViewChannels(_ExampleView):
    """The channels page: a preset, groups, which sample of the batch is shown."""

    preset: str = "lesson"
    groups: int | None = None
    sample: int = 0
    examples: ClassVar[Mapping] = presets.CHANNELS


@dataclass(frozen=True)
class ViewBackprop(_ExampleView):
    """The backprop page: a preset, how δ is made, which pass is playing, and how many
    gradient-descent updates have been applied (``epoch``) — replayed from the preset's
    starting kernel, so the URL alone says where training is."""

    preset: str = "lesson-1d"
    x: tuple | None = None  # the input typed in (one channel): a vector, or rows of a matrix
    w: tuple | None = None  # the starting kernel typed in (one kernel, one channel)
    loss: str | None = None
    delta: tuple[float, ...] | None = None
    target: tuple[float, ...] | None = None
    part: str = "weight"
    eta: float | None = None
    epoch: int = 0
    examples: ClassVar[Mapping] = presets.BACKPROP

    @property
    def editable(self) -> bool:
        """Whether x and w can be typed in: one input channel and one kernel, as the lesson's
        examples (a page of many channels takes them from its preset)."""
        w = np.asarray(self.example.w)
        return w.shape[0] == 1 and w.shape[1] == 1

    @property
    def input_values(self) -> list:
        """The input, (C_in, *spatial): the values typed in, else the preset's."""
        return [_nested(self.x)] if self.x is not None else self.example.x

    @property
    def kernel_values(self) -> list:
        """The kernel before any training, (C_out, C_in, *k): typed in, else the preset's."""
        return [[_nested(self.w)]] if self.w is not None else self.example.w
