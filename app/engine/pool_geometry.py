"""Geometry of max and average pooling: parameters, output sizes, validation, and the
per-axis tables the computation, the cost model and the traces read.

Conventions are PyTorch's (``torch.nn.functional.max_pool1d/2d/3d``, ``avg_pool1d/2d/3d``),
for any number of spatial dimensions ``d >= 1``:

- input ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``. ``kernel_size`` says how many
  spatial axes there are: a list has one size per axis; a single int pools every axis after
  ``(N, C)`` (so a 2-D array is an unbatched ``(C, L)``; give ``[2, 2]`` to pool an
  unbatched ``(C, H, W)``). The batch may be empty (N = 0); no other axis may.
- ``stride`` defaults to ``kernel_size``; ``padding`` is at most ``kernel_size // 2`` on
  every axis; ``stride``, ``padding`` and ``dilation`` are an int, one per axis, or a list
  of one for every axis (the convolution's rule). Average pooling has no dilation.
- per axis ``O = floor((I + 2P - D(K - 1) - 1 + (S - 1 if ceil_mode)) / S) + 1``; with
  ``ceil_mode`` the last window must start inside the input or the left padding, so a
  window that would start in the right padding is dropped.

One difference, on purpose: PyTorch's ``avg_pool3d`` alone also refuses a kernel larger
than the *unpadded* input along some axis ("input image ... smaller than kernel size"),
which its ``avg_pool1d`` and ``avg_pool2d`` accept; here 3-D pools follow the 1-D and 2-D
rule (``bench/torch_layers.py`` counts those cases).

A window's cells along an axis are ``o * S + k * D - P`` for taps ``k < K``: negative, or
``>= I``, in the padding (or, with ``ceil_mode``, past it). Everything here works on shapes
only; no array data is touched.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..i18n import gettext, ngettext
from .cache import bounded_cache
from .errors import ParameterError, ShapeError, describe
from .geometry import Spatial, _int_param, _per_axis, axis_names, geometry_class

POOL_KINDS = ("max", "avg")

#: the taps of an axis are enumerated one by one, or from its (output, input cell) pairs,
#: whichever is fewer; past this many of both the axis has no tap table, and pooling loops
#: over windows instead (a kernel of a billion taps, say, over a wide input)
TAP_ENUMERATION_LIMIT = 1 << 20


@geometry_class
class PoolGeometry(Spatial):
    """Everything about one pooling call that follows from shapes and parameters alone.

    ``padding`` is one int per axis, the same before and after (PyTorch pads pools
    symmetrically); ``out_spatial`` is the output's spatial size.
    """

    kind: str
    batched: bool
    n: int
    c: int
    in_spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    count_include_pad: bool
    out_spatial: tuple[int, ...]

    @property
    def planes(self) -> int:
        """N * C: the maps pooled side by side."""
        return self.n * self.c

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The input's shape, batched: (N, C, *spatial)."""
        return (self.n, self.c, *self.in_spatial)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The output's shape, unbatched when the input was."""
        shape = (self.n, self.c, *self.out_spatial)
        return shape if self.batched else shape[1:]

    @property
    def extent(self) -> tuple[int, ...]:
        """Size of the (dilated) window per axis: ``D * (K - 1) + 1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation, strict=True))

    @property
    def overlapping(self) -> bool:
        """True when one input cell can lie in two windows (a stride shorter than the window
        on some axis), so that gradients arriving there must be added, not written."""
        return any(s < e for s, e in zip(self.stride, self.extent, strict=True))


# ----------------------------------------------------------------------------- validation


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(field, gettext("%(field)s must be true or false, got %(value)s")
                             % {"field": field, "value": describe(value)})
    return bool(value)


def _kernel_sizes(kernel_size: object, input_ndim: int) -> tuple[int, ...]:
    """``kernel_size`` per spatial axis; one int is that size on every axis after (N, C)."""
    if isinstance(kernel_size, tuple | list):
        if not kernel_size:
            raise ParameterError("kernel_size", gettext(
                "kernel_size must be an integer or a list of one integer per spatial dimension, "
                "got []"))
        sizes = tuple(_int_param(k, "kernel_size") for k in kernel_size)
    else:
        sizes = (_int_param(kernel_size, "kernel_size"),) * max(input_ndim - 2, 1)
    for k in sizes:
        if k < 1:
            raise ParameterError("kernel_size", gettext(
                "%(field)s must be positive, got %(value)s") % {"field": "kernel_size",
                                                                 "value": k})
    return sizes


def _cache_key(value: object) -> object:
    """Hashable, and telling ``2`` from ``2.0`` and ``True`` (see geometry._cache_key)."""
    if isinstance(value, list | tuple):
        return (list, tuple(_cache_key(v) for v in value))
    return (type(value), value)


_PLANS: dict[tuple, PoolGeometry] = {}
_PLANS_MAX = 512


def pool_plan(
    input_shape: tuple[int, ...],
    kind: str,
    kernel_size: object,
    *,
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: object = False,
    count_include_pad: object = True,
) -> PoolGeometry:
    """Validate shapes and parameters and work out the geometry (cached for repeated calls).

    ``kind`` is ``"max"`` or ``"avg"``. Raises a :class:`~app.engine.errors.ConvolutionError`
    subclass naming the argument at fault and saying what arrived.
    """
    params = tuple(p.tolist() if isinstance(p, np.ndarray) else p
                   for p in (kernel_size, stride, padding, dilation, ceil_mode,
                             count_include_pad))
    shape = tuple(input_shape)
    try:
        key = (kind, shape, *map(_cache_key, params)) \
            if all(type(d) is int for d in shape) else None
        cached = _PLANS.get(key) if key is not None else None
    except TypeError:  # an unhashable parameter (a dict, say): validate it uncached
        key, cached = None, None
    if cached is not None:
        return cached
    geom = _pool_plan(shape, kind, *params)
    if key is not None:
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = geom
    return geom


def _pool_plan(input_shape: tuple[int, ...], kind: object, kernel_size: object,
               stride: object, padding: object, dilation: object, ceil_mode: object,
               count_include_pad: object) -> PoolGeometry:
    if kind not in POOL_KINDS:
        raise ParameterError("kind", gettext("kind must be one of %(choices)s, got %(value)s")
                             % {"choices": ", ".join(map(repr, POOL_KINDS)),
                                "value": describe(kind)})
    if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0
               for d in input_shape):
        raise ShapeError("input", gettext("%(field)s shape must be non-negative integers, "
                                          "got %(value)s")
                         % {"field": "input", "value": describe(list(input_shape))})
    if len(input_shape) < 2:
        raise ShapeError("input", gettext("input must have at least 2 dimensions (C, "
                                          "*spatial), got %(ndim)s dimensions with shape "
                                          "%(shape)s")
                         % {"ndim": len(input_shape), "shape": list(input_shape)})
    kernel = _kernel_sizes(kernel_size, len(input_shape))
    ndim = len(kernel)
    if len(input_shape) not in (ndim + 1, ndim + 2):
        raise ShapeError(
            "input",
            ngettext("expected input with %(unbatched)s dimensions (C, *spatial) or "
                     "%(batched)s dimensions (N, C, *spatial) for a kernel_size of %(ndim)s "
                     "spatial dimension, got %(got)s dimensions with shape %(shape)s",
                     "expected input with %(unbatched)s dimensions (C, *spatial) or "
                     "%(batched)s dimensions (N, C, *spatial) for a kernel_size of %(ndim)s "
                     "spatial dimensions, got %(got)s dimensions with shape %(shape)s", ndim)
            % {"unbatched": ndim + 1, "batched": ndim + 2, "ndim": ndim,
               "got": len(input_shape), "shape": list(input_shape)},
        )
    batched = len(input_shape) == ndim + 2
    if 0 in input_shape[batched:]:
        raise ShapeError("input", gettext("input has an empty dimension: shape %(shape)s; "
                                          "only the batch dimension N may be 0")
                         % {"shape": list(input_shape)})
    n, c, *spatial = input_shape if batched else (1, *input_shape)
    stride_t = kernel if stride is None else _per_axis(stride, ndim, "stride", 1)
    pad_t = _per_axis(padding, ndim, "padding", 0)
    if kind == "avg":
        if not (isinstance(dilation, int | np.integer) and not isinstance(dilation, bool)
                and dilation == 1):
            raise ParameterError("dilation", gettext("average pooling has no dilation (it must "
                                                     "be 1), got %(value)s")
                                 % {"value": describe(dilation)})
        dilation_t = (1,) * ndim
    else:
        dilation_t = _per_axis(dilation, ndim, "dilation", 1)
    ceil = _flag(ceil_mode, "ceil_mode")
    include = _flag(count_include_pad, "count_include_pad")
    if kind == "max" and not include:
        raise ParameterError("count_include_pad", gettext(
            "count_include_pad is for average pooling only: a max counts no cells"))
    for axis, (k, p) in enumerate(zip(kernel, pad_t, strict=True)):
        if p > k // 2:
            raise ParameterError(
                "padding", gettext("padding must be at most half of kernel_size (padding <= "
                                   "kernel_size // 2, as PyTorch requires): spatial axis "
                                   "%(axis)s has kernel_size %(kernel_size)s and padding "
                                   "%(padding)s") % {"axis": axis, "kernel_size": k, "padding": p})
    out = tuple(_output_size(i, k, s, p, d, ceil) for i, k, s, p, d in
                zip(spatial, kernel, stride_t, pad_t, dilation_t, strict=True))
    if min(out) < 1:
        padded = [i + 2 * p for i, p in zip(spatial, pad_t, strict=True)]
        extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation_t, strict=True)]
        raise ShapeError(
            "kernel_size",
            gettext("Output size is too small: the (dilated) window spans %(extent)s cells but "
                    "the padded input has only %(padded)s (output size %(out)s)")
            % {"extent": " x ".join(map(str, extent)), "padded": " x ".join(map(str, padded)),
               "out": " x ".join(map(str, out))},
        )
    return PoolGeometry(
        kind=kind, batched=batched, n=n, c=c, in_spatial=tuple(spatial), kernel=kernel,
        stride=stride_t, padding=pad_t, dilation=dilation_t, ceil_mode=ceil,
        count_include_pad=include, out_spatial=out,
    )


def _output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape``: floor (or ceil) division, and in ceil mode the
    last window must start inside the input or the left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_output_shape(input_shape: tuple[int, ...], kernel_size: object, *,
                      stride: object = None, padding: object = 0, dilation: object = 1,
                      ceil_mode: bool = False) -> tuple[int, ...]:
    """Shape of ``max_pool(x, kernel_size, ...)`` for ``x.shape == input_shape`` (and of
    ``avg_pool``, which has ``dilation=1``): ``(N, C, *O)``, or ``(C, *O)`` unbatched."""
    return pool_plan(input_shape, "max", kernel_size, stride=stride, padding=padding,
                     dilation=dilation, ceil_mode=ceil_mode).output_shape


def pool_size_formulas(in_spatial: tuple[int, ...], kernel: tuple[int, ...], *,
                       stride: object = None, padding: object = 0, dilation: object = 1,
                       ceil_mode: bool = False) -> list[str]:
    """The output-size formula of every spatial axis of a pool, the numbers filled in:
    ``O_H = ⌊(8 + 2×0 − 1×(2 − 1) − 1) / 2⌋ + 1 = 4``; with ``ceil_mode``, ``⌈…⌉`` and what
    the floor would give, and PyTorch's rule when it drops a last window that would start in
    the right padding. Parameters are checked (a :class:`ParameterError` names the bad one),
    sizes are not: an axis whose window is longer than its padded input says so instead.
    """
    ndim = len(kernel)
    stride_t = tuple(kernel) if stride is None else _per_axis(stride, ndim, "stride", 1)
    pad_t = _per_axis(padding, ndim, "padding", 0)
    dilation_t = _per_axis(dilation, ndim, "dilation", 1)
    lines = []
    for name, i, k, s, p, d in zip(axis_names(ndim), in_spatial, kernel, stride_t, pad_t,
                                   dilation_t, strict=True):
        span = i + 2 * p - d * (k - 1) - 1
        inner = f"({i} + 2×{p} − {d}×({k} − 1) − 1) / {s}"
        if span < 0:
            lines.append(f"O_{name} = ⌊{inner}⌋ + 1 = {span // s + 1}: no output, the window "
                         f"spans {d * (k - 1) + 1} cells but the padded input has only "
                         f"{i + 2 * p}")
            continue
        floor = span // s + 1
        if not ceil_mode:
            lines.append(f"O_{name} = ⌊{inner}⌋ + 1 = {floor}")
            continue
        ceil = -(-span // s) + 1
        line = f"O_{name} = ⌈{inner}⌉ + 1 = {ceil}"
        if (ceil - 1) * s >= i + p:
            line += (f", less the last window, which would start in the right padding "
                     f"({ceil - 1}×{s} ≥ {i} + {p}): {ceil - 1}")
        lines.append(line + (f" (floor: {floor})" if _output_size(i, k, s, p, d, True) != floor
                             else " (floor gives the same)"))
    return lines


# ----------------------------------------------------------------------------- per axis


def _ceil_div(a: np.ndarray, b: int) -> np.ndarray:
    return -((-a) // b)


class AxisTaps(NamedTuple):
    """Along one axis, every tap that reaches an input cell from some window, by tap: tap
    ``k[j]`` of outputs ``o_lo[j] <= o < o_hi[j]`` reads input cell
    ``first[j] + (o - o_lo[j]) * stride``; its other outputs read padding."""

    k: np.ndarray
    o_lo: np.ndarray
    o_hi: np.ndarray
    first: np.ndarray


class AxisWindows(NamedTuple):
    """Along one axis, per output ``o``: its window's input cells are the taps
    ``k_lo[o] <= k < k_hi[o]`` (none when ``k_lo >= k_hi``), the first of them cell
    ``first[o]``; ``padded[o]`` counts its cells inside the padded input (what
    ``count_include_pad`` divides by, a ``ceil_mode`` window cut at the padding's end)."""

    k_lo: np.ndarray
    k_hi: np.ndarray
    first: np.ndarray
    padded: np.ndarray

    @property
    def cells(self) -> np.ndarray:
        """Input cells per window."""
        return np.maximum(self.k_hi - self.k_lo, 0)


def _candidate_taps(geom: PoolGeometry, axis: int) -> np.ndarray | None:
    size, k, s, p, d, out = (geom.in_spatial[axis], geom.kernel[axis], geom.stride[axis],
                             geom.padding[axis], geom.dilation[axis], geom.out_spatial[axis])
    if k <= TAP_ENUMERATION_LIMIT:
        return np.arange(k, dtype=np.int64)
    if size * out > TAP_ENUMERATION_LIMIT:
        return None
    # every (output, input cell) pair names the tap between them, if the dilation divides
    offset = np.arange(size, dtype=np.int64)[None, :] + p \
        - np.arange(out, dtype=np.int64)[:, None] * s
    taps = offset[(offset >= 0) & (offset % d == 0)] // d
    return np.unique(taps[taps < k])


def _taps_size(tables: tuple[AxisTaps | None, ...]) -> int:
    return 200 + sum(0 if t is None else 4 * t.k.nbytes for t in tables)


@bounded_cache(_taps_size)
def axis_taps(geom: PoolGeometry) -> tuple[AxisTaps | None, ...]:
    """:class:`AxisTaps` of every axis (None for an axis whose taps are too many to list)."""
    tables = []
    for axis in range(geom.ndim):
        k = _candidate_taps(geom, axis)
        if k is None:
            tables.append(None)
            continue
        size, s, p, d, out = (geom.in_spatial[axis], geom.stride[axis], geom.padding[axis],
                              geom.dilation[axis], geom.out_spatial[axis])
        shift = k * d - p  # the cell tap k of output 0 reads
        o_lo = np.maximum(0, _ceil_div(-shift, s))
        o_hi = np.minimum(out, (size - 1 - shift) // s + 1)
        keep = o_lo < o_hi
        tables.append(AxisTaps(k[keep], o_lo[keep], o_hi[keep], o_lo[keep] * s + shift[keep]))
    return tuple(tables)


def _windows_size(tables: tuple[AxisWindows, ...]) -> int:
    return 200 + sum(4 * t.k_lo.nbytes for t in tables)


@bounded_cache(_windows_size)
def axis_windows(geom: PoolGeometry) -> tuple[AxisWindows, ...]:
    """:class:`AxisWindows` of every axis."""
    tables = []
    for size, k, s, p, d, out in zip(geom.in_spatial, geom.kernel, geom.stride, geom.padding,
                                     geom.dilation, geom.out_spatial, strict=True):
        start = np.arange(out, dtype=np.int64) * s - p  # the cell of tap 0
        k_lo = np.maximum(0, _ceil_div(-start, d))
        k_hi = np.minimum(k, (size - 1 - start) // d + 1)
        padded = np.minimum(start + (k - 1) * d + 1, size + p) - start  # d = 1 for avg
        tables.append(AxisWindows(k_lo, k_hi, start + k_lo * d, padded))
    return tuple(tables)


def cells_read(geom: PoolGeometry) -> int:
    """Input cells all windows read together (a cell read by two windows counts twice):
    the comparisons of a max, the additions of a mean."""
    return geom.planes * math.prod(int(t.cells.sum()) for t in axis_windows(geom))


def tap_count(geom: PoolGeometry) -> int | None:
    """Kernel taps that reach an input cell from some window (None: too many to list)."""
    tables = axis_taps(geom)
    if any(t is None for t in tables):
        return None
    return math.prod(len(t.k) for t in tables)


def empty_window(geom: PoolGeometry) -> tuple[int, int] | None:
    """``(axis, output position)`` of a window with no input cell, only padding (a max of
    -inf), or None. Only a dilated max window can be one: ``kernel_size=2, padding=1`` and
    a dilation that steps from the left padding over the input into the right."""
    for axis, table in enumerate(axis_windows(geom)):
        empty = np.flatnonzero(table.cells == 0)
        if empty.size:
            return axis, int(empty[0])
    return None
