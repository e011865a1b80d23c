"""Turning arguments into checked arrays: dtype, finiteness, batching, padding and windows."""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from ..i18n import gettext
from .cache import OBJECT_BYTES, bounded_cache
from .errors import ShapeError, ValueRangeError
from .geometry import Geometry, padded_sources, plan


class Prepared(NamedTuple):
    """Checked arrays and their geometry; ``x`` always has a batch axis."""

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    geometry: Geometry


def as_real_array(value: object, field: str) -> np.ndarray:
    """``value`` as a float array: float32 stays float32 (in native byte order), and bool
    (as 0 and 1), integers, float16, longer floats and nested lists become float64.
    Complex, string, object and date arrays are refused."""
    arr = value if isinstance(value, np.ndarray) else _from_nested(value, field)
    if arr.dtype.kind not in "biuf":
        raise ValueRangeError(field, gettext("%(field)s must hold real numbers, got dtype "
                                             "%(dtype)s") % {"field": field, "dtype": arr.dtype})
    if arr.dtype != np.float32 and arr.dtype != np.float64:
        # a float32 in the other byte order is still float32 (dtype('>f4') != float32)
        arr = arr.astype(np.float32 if arr.dtype.kind == "f" and arr.dtype.itemsize == 4
                         else np.float64)
    if not np.isfinite(arr).all():
        raise ValueRangeError(field, gettext("%(field)s must hold finite numbers (no NaN or "
                                             "infinity)") % {"field": field})
    return arr


def _from_nested(value: object, field: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueRangeError(
            field, gettext("%(field)s must be a rectangular array of real numbers "
                           "(%(reason)s)") % {"field": field, "reason": exc}
        ) from None


def common_dtype(*arrays: np.ndarray | None) -> np.dtype:
    """float32 when every array is float32, else float64: the engine's one promotion rule
    (PyTorch refuses mixed dtypes; the engine computes a mix in float64)."""
    if all(a is None or a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def prepare(
    x: object,
    weight: object,
    bias: object = None,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    mode: str = "cross-correlation",
    extra: tuple[np.ndarray, ...] = (),
) -> Prepared:
    """Validate everything (shapes and parameters first, then values) and unify dtypes.

    ``extra`` arrays (e.g. ``grad_output``) take part in choosing the dtype.
    """
    xa = as_real_array(x, "input")
    wa = as_real_array(weight, "weight")
    ba = None if bias is None else as_real_array(bias, "bias")
    geom = plan(
        xa.shape, wa.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
        padding_mode=padding_mode, mode=mode, bias_shape=None if ba is None else ba.shape,
    )
    dtype = common_dtype(xa, wa, ba, *extra)
    xa, wa = xa.astype(dtype, copy=False), wa.astype(dtype, copy=False)
    if ba is not None:
        ba = ba.astype(dtype, copy=False)
    if not geom.batched:
        xa = xa[None]
    return Prepared(xa, wa, ba, geom)


def prepare_backward(x: object, weight: object, grad_output: object, **params) -> tuple[
    Prepared, np.ndarray
]:
    """:func:`prepare` plus ``grad_output`` checked against the output's shape (batched)."""
    dy = as_real_array(grad_output, "grad_output")
    prepared = prepare(x, weight, None, extra=(dy,), **params)
    geom = prepared.geometry
    if dy.shape != geom.output_shape:
        raise ShapeError(
            "grad_output",
            gettext("grad_output must have the output's shape %(shape)s, got %(got)s")
            % {"shape": list(geom.output_shape), "got": list(dy.shape)},
        )
    dy = dy.astype(prepared.x.dtype, copy=False)
    return prepared, (dy if geom.batched else dy[None])


def pad(x: np.ndarray, geom: Geometry) -> np.ndarray:
    """Pad the spatial axes of ``x`` (N, C, *spatial) as ``geom`` says: shape (N, C, *padded).

    Always C-contiguous (the result may be ``x`` itself when no padding is needed). Zero
    padding writes into a zeroed buffer; the other modes gather each axis through
    :func:`~app.engine.geometry.padded_sources`, the same map the trace shows.
    """
    if not any(map(any, geom.padding)):
        return np.ascontiguousarray(x)
    if geom.padding_mode == "zeros":
        padded, interior = _zero_padding_layout(geom)
        xp = np.zeros((*x.shape[:2], *padded), dtype=x.dtype)
        xp[interior] = x
        return xp
    for axis, (size, (before, after)) in enumerate(zip(geom.in_spatial, geom.padding,
                                                       strict=True)):
        if before or after:
            x = np.take(x, padded_sources(size, before, after, geom.padding_mode), axis=2 + axis)
    return np.ascontiguousarray(x)


@bounded_cache(lambda layout: (10 + 3 * len(layout[1])) * OBJECT_BYTES)
def _zero_padding_layout(geom: Geometry) -> tuple[tuple[int, ...], tuple[slice, ...]]:
    """The padded spatial shape, and the index of the input inside (N, C, *padded)."""
    interior = tuple(slice(b, b + i) for (b, _), i in zip(geom.padding, geom.in_spatial,
                                                          strict=True))
    return geom.padded, (slice(None), slice(None), *interior)


def unpad_grad(grad_padded: np.ndarray, geom: Geometry) -> np.ndarray:
    """Adjoint of :func:`pad`: fold the gradient of every padded cell onto the input cell it
    copies (dropped for zero padding), giving the gradient of the unpadded input.

    grad_padded : ndarray, shape (N, C, *padded); returns shape (N, C, *spatial), a new array
    (or ``grad_padded`` itself when there is no padding).
    """
    if not any(map(any, geom.padding)):
        return grad_padded
    if geom.padding_mode == "zeros":
        return grad_padded[_zero_padding_layout(geom)[1]].copy()
    g = grad_padded
    for axis, (size, (before, after)) in enumerate(zip(geom.in_spatial, geom.padding,
                                                       strict=True)):
        if not (before or after):
            continue
        ax = 2 + axis
        inner = np.take(g, np.arange(before, before + size), axis=ax)  # a copy we can add into
        sources = padded_sources(size, before, after, geom.padding_mode)
        pad_at = np.r_[0:before, before + size:before + size + after]
        # np.add.at accumulates repeated sources (replicate maps many cells to the edge).
        moved = np.moveaxis(inner, ax, 0)
        np.add.at(moved, sources[pad_at], np.moveaxis(np.take(g, pad_at, axis=ax), ax, 0))
        g = inner
    return g


def windows(xp: np.ndarray, geom: Geometry, *, kernel_first: bool = False,
            writeable: bool = False) -> np.ndarray:
    """View of every kernel window of padded ``xp`` (N, C, *padded): shape (N, C, *O, *K).

    ``result[n, c, *o, *k] == xp[n, c, *(o * stride + k * dilation)]``. With
    ``kernel_first`` the same view has its axes in im2col order, (N, C, *K, *O).

    Built from the array's own strides (``np.ndarray`` on the same buffer), which costs about
    a microsecond where ``sliding_window_view`` plus slicing costs about twenty; a test pins
    it to ``sliding_window_view``. It steps by ``geom.work_stride`` (the same windows). The
    view is read-only unless ``writeable``: windows overlap, so only an add into one window
    at a time (whose cells are distinct) is safe, as :func:`~app.engine.backward.
    col2im_positions` does.
    """
    n_stride, c_stride, *spatial = xp.strides
    steps = tuple(map(operator.mul, spatial, geom.work_stride))  # one output step, per axis
    taps = tuple(map(operator.mul, spatial, geom.dilation))  # one kernel tap, per axis
    if kernel_first:
        shape, strides = geom.kernel + geom.out_spatial, taps + steps
    else:
        shape, strides = geom.out_spatial + geom.kernel, steps + taps
    # Positional arguments: np.ndarray(shape, dtype, buffer, offset, strides) parses them
    # in half the time keywords take, which matters at a few microseconds per call.
    view = np.ndarray((*xp.shape[:2], *shape), xp.dtype, xp, 0, (n_stride, c_stride, *strides))
    if not writeable:
        view.flags.writeable = False
    return view
