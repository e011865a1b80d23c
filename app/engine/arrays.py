"""Turning arguments into checked arrays: dtype, finiteness, batching, padding and windows."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import ShapeError, ValueRangeError
from .geometry import Geometry, padded_sources, plan


class Prepared(NamedTuple):
    """Checked arrays and their geometry; ``x`` always has a batch axis."""

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    geometry: Geometry


def as_real_array(value: object, field: str) -> np.ndarray:
    """``value`` as a float array; float32 is kept, everything else becomes float64."""
    arr = value if isinstance(value, np.ndarray) else _from_nested(value, field)
    if arr.dtype.kind not in "biuf":
        raise ValueRangeError(field, f"{field} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype != np.float32 and arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueRangeError(field, f"{field} must hold finite numbers (no NaN or infinity)")
    return arr


def _from_nested(value: object, field: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueRangeError(
            field, f"{field} must be a rectangular array of real numbers ({exc})"
        ) from None


def common_dtype(*arrays: np.ndarray | None) -> np.dtype:
    """float32 when every array is float32, else float64."""
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
            f"grad_output must have the output's shape {list(geom.output_shape)}, "
            f"got {list(dy.shape)}",
        )
    dy = dy.astype(prepared.x.dtype, copy=False)
    return prepared, (dy if geom.batched else dy[None])


def pad(x: np.ndarray, geom: Geometry) -> np.ndarray:
    """Pad the spatial axes of ``x`` (N, C, *spatial) as ``geom`` says.

    Zero padding writes into a zeroed buffer; the other modes gather each axis through
    :func:`~app.engine.geometry.padded_sources`, the same map the trace shows.
    """
    if not any(b or a for b, a in geom.padding):
        return np.ascontiguousarray(x)
    if geom.padding_mode == "zeros":
        xp = np.zeros((*x.shape[:2], *geom.padded), dtype=x.dtype)
        xp[(..., *(slice(b, b + i) for (b, _), i in zip(geom.padding, geom.in_spatial,
                                                          strict=True)))] = x
        return xp
    for axis, (size, (before, after)) in enumerate(zip(geom.in_spatial, geom.padding,
                                                       strict=True)):
        if before or after:
            x = np.take(x, padded_sources(size, before, after, geom.padding_mode), axis=2 + axis)
    return np.ascontiguousarray(x)


def unpad_grad(grad_padded: np.ndarray, geom: Geometry) -> np.ndarray:
    """Adjoint of :func:`pad`: fold the gradient of every padded cell onto the input cell it
    copies (dropped for zero padding), giving the gradient of the unpadded input."""
    g = grad_padded
    for axis, (size, (before, after)) in enumerate(zip(geom.in_spatial, geom.padding,
                                                       strict=True)):
        if not (before or after):
            continue
        ax = 2 + axis
        inner = np.take(g, np.arange(before, before + size), axis=ax)  # a copy we can add into
        if geom.padding_mode != "zeros":
            sources = padded_sources(size, before, after, geom.padding_mode)
            pad_at = np.r_[0:before, before + size:before + size + after]
            # np.add.at accumulates repeated sources (replicate maps many cells to the edge).
            moved = np.moveaxis(inner, ax, 0)
            np.add.at(moved, sources[pad_at], np.moveaxis(np.take(g, pad_at, axis=ax), ax, 0))
        g = inner
    return g


def windows(xp: np.ndarray, geom: Geometry) -> np.ndarray:
    """View of every kernel window of padded ``xp`` (N, C, *padded): shape (N, C, *O, *K).

    ``result[n, c, *o, *k] == xp[n, c, *(o * stride + k * dilation)]``. Built from the array's
    own strides (``np.ndarray`` on the same buffer), which costs about a microsecond where
    ``sliding_window_view`` plus slicing costs about twenty; a test pins it to
    ``sliding_window_view``.
    """
    spatial = xp.strides[2:]
    strides = (
        *xp.strides[:2],
        *(st * s for st, s in zip(spatial, geom.stride, strict=True)),
        *(st * d for st, d in zip(spatial, geom.dilation, strict=True)),
    )
    shape = (*xp.shape[:2], *geom.out_spatial, *geom.kernel)
    return np.ndarray(shape, xp.dtype, buffer=xp, offset=0, strides=strides)
