"""Max and average pooling, forward and backward, vectorised (semantics: see
:mod:`app.engine.pool_geometry`, which are PyTorch's).

- Max pooling pads with -inf: a padding cell never wins, and a ``ceil_mode`` window that
  runs past the padding just has fewer cells. The max is the *first* maximum in window
  order (C order over the kernel taps): that cell gets the window's gradient, as in
  PyTorch. A window with only padding cells (a dilated one, see
  :func:`~app.engine.pool_geometry.empty_window`) is -inf, as in PyTorch, and its gradient
  goes nowhere.
- Average pooling pads with zeros and divides by the window's cells inside the padded input
  (``count_include_pad=True``; a ``ceil_mode`` window running past the padding counts only
  the cells up to its end, as PyTorch does), or by its input cells (``False``).

No padded copy is made. Method ``"taps"`` loops over the kernel taps that reach an input
cell: for one tap, the windows whose cell under it is an input cell are a slice of the
output along each axis, and the cells they read a strided slice of the input, so one NumPy
call takes the tap for every window at once. Method ``"windows"`` loops over the windows,
one reduction over each one's input cells: for few windows of many taps.
:func:`~app.engine.cost.pool_method` chooses.

dtypes: float32 when every array given (x, and grad_output for a backward pass) is a
float32 ndarray, else float64 (the convolution's rule).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..i18n import gettext
from .arrays import as_real_array, common_dtype
from .cache import OBJECT_BYTES, bounded_cache
from .cost import pool_method
from .errors import ShapeError
from .forward import all_finite, is_float_array
from .pool_geometry import PoolGeometry, axis_taps, axis_windows, pool_plan

_ALL = slice(None)


def max_pool(x, kernel_size, *, stride=None, padding=0, dilation=1,
             ceil_mode=False) -> np.ndarray:
    """N-D max pooling, as ``torch.nn.functional.max_pool{1,2,3}d``.

    x : array_like, shape (N, C, *spatial) or unbatched (C, *spatial)
    kernel_size : int (every axis after (N, C)) or one int per spatial axis
    stride : int, one per axis, or None (the default: kernel_size)
    padding : int or one per axis, at most kernel_size // 2; dilation : int or one per axis

    Returns shape (N, C, *out), or (C, *out) for an unbatched input.
    """
    x, geom = _prepare(x, "max", kernel_size, stride, padding, dilation, ceil_mode, True)
    y = max_windows(x, geom)
    return y if geom.batched else y[0]


def avg_pool(x, kernel_size, *, stride=None, padding=0, ceil_mode=False,
             count_include_pad=True) -> np.ndarray:
    """N-D average pooling, as ``torch.nn.functional.avg_pool{1,2,3}d``.

    x : array_like, shape (N, C, *spatial) or unbatched (C, *spatial)
    kernel_size, stride, padding : as :func:`max_pool` (no dilation)
    count_include_pad : divide by the window's cells inside the padded input (True), or by
        its input cells only (False)

    Returns shape (N, C, *out), or (C, *out) for an unbatched input.
    """
    x, geom = _prepare(x, "avg", kernel_size, stride, padding, 1, ceil_mode, count_include_pad)
    y = mean_windows(x, geom)
    return y if geom.batched else y[0]


def max_pool_backward(x, grad_output, kernel_size, *, stride=None, padding=0, dilation=1,
                      ceil_mode=False) -> np.ndarray:
    """dL/dx through ``y = max_pool(x, ...)``, given dL/dy: each window's δ goes to the
    cell that won it (the first maximum in window order, as PyTorch sends it).

    x : array_like, shape (N, C, *spatial) or (C, *spatial); grad_output : the output's shape
    Returns dL/dx, the input's shape.
    """
    (x, geom), dy = _prepare_backward(x, grad_output, "max", kernel_size, stride, padding,
                                      dilation, ceil_mode, True)
    gx = max_backward(x, dy, geom)
    return gx if geom.batched else gx[0]


def avg_pool_backward(x, grad_output, kernel_size, *, stride=None, padding=0,
                      ceil_mode=False, count_include_pad=True) -> np.ndarray:
    """dL/dx through ``y = avg_pool(x, ...)``, given dL/dy: each window's δ, divided by the
    window's divisor, goes to every input cell of the window (its padding's share is lost).

    x : array_like, shape (N, C, *spatial) or (C, *spatial); grad_output : the output's shape
    Returns dL/dx, the input's shape.
    """
    (x, geom), dy = _prepare_backward(x, grad_output, "avg", kernel_size, stride, padding, 1,
                                      ceil_mode, count_include_pad)
    gx = mean_backward(dy, geom, x.dtype)
    return gx if geom.batched else gx[0]


# ----------------------------------------------------------------------------- arguments


def _real(value: object, field: str) -> np.ndarray:
    """``value`` checked as :func:`~app.engine.arrays.as_real_array` does, quickly for a
    finite float ndarray."""
    if is_float_array(value) and all_finite(value):
        return value  # type: ignore[return-value]
    return as_real_array(value, field)


def _prepare(x, kind, kernel_size, stride, padding, dilation, ceil_mode,
             count_include_pad) -> tuple[np.ndarray, PoolGeometry]:
    """The input as a checked float array with a batch axis, and its geometry."""
    xa = _real(x, "input")
    geom = pool_plan(xa.shape, kind, kernel_size, stride=stride, padding=padding,
                     dilation=dilation, ceil_mode=ceil_mode,
                     count_include_pad=count_include_pad)
    return (xa if geom.batched else xa[None]), geom


def _prepare_backward(x, grad_output, *params) -> tuple[tuple[np.ndarray, PoolGeometry],
                                                        np.ndarray]:
    """:func:`_prepare`, and grad_output checked against the output's shape (batched), both
    in their common dtype."""
    dy = _real(grad_output, "grad_output")
    x, geom = _prepare(x, *params)
    if dy.shape != geom.output_shape:
        raise ShapeError("grad_output", gettext(
            "grad_output must have the output's shape %(shape)s, got %(got)s")
            % {"shape": list(geom.output_shape), "got": list(dy.shape)})
    dtype = common_dtype(x, dy)
    x, dy = x.astype(dtype, copy=False), dy.astype(dtype, copy=False)
    return (x, geom), (dy if geom.batched else dy[None])


# ----------------------------------------------------------------------------- layouts


def _layout_size(layout: tuple) -> int:
    return (10 + len(layout) * (6 + 4 * len(layout[0][0]) if layout else 0)) * OBJECT_BYTES


@bounded_cache(_layout_size)
def tap_layout(geom: PoolGeometry) -> tuple[tuple[tuple, tuple], ...]:
    """Per kernel tap that reaches an input cell, in window order (C order over the taps):
    ``(output index, input index)``, the windows whose cell under the tap is an input
    cell, and those cells, as slices of (N, C, *out) and (N, C, *spatial)."""
    tables = axis_taps(geom)
    per_axis = []
    for table, s in zip(tables, geom.stride, strict=True):
        per_axis.append([
            (slice(int(lo), int(hi)), slice(int(first), int(first) + (int(hi) - int(lo) - 1) * s
                                             + 1, s))
            for lo, hi, first in zip(table.o_lo, table.o_hi, table.first, strict=True)
        ])
    return tuple(
        ((_ALL, _ALL, *(o for o, _ in combo)), (_ALL, _ALL, *(i for _, i in combo)))
        for combo in itertools.product(*per_axis)
    )


def window_boxes(geom: PoolGeometry):
    """Per window, in C order over the outputs: ``(output index, input index)``, its
    position in (N, C, *out) and its input cells as a strided box of (N, C, *spatial), or
    None for the input index of a window with no input cell."""
    per_axis = []
    for table, d in zip(axis_windows(geom), geom.dilation, strict=True):
        per_axis.append([
            slice(int(first), int(first) + (int(hi) - int(lo) - 1) * d + 1, d) if hi > lo
            else None
            for lo, hi, first in zip(table.k_lo, table.k_hi, table.first, strict=True)
        ])
    for o in itertools.product(*map(range, geom.out_spatial)):
        box = tuple(axis[i] for axis, i in zip(per_axis, o, strict=True))
        yield (_ALL, _ALL, *o), (None if None in box else (_ALL, _ALL, *box))


def divisors(geom: PoolGeometry, dtype: np.dtype) -> np.ndarray:
    """What average pooling divides each window's sum by, shape ``out_spatial``: the
    product over the axes of the window's cells inside the padded input
    (``count_include_pad``) or of its input cells."""
    counts = [t.padded if geom.count_include_pad else t.cells for t in axis_windows(geom)]
    return math.prod(np.asarray(c, dtype=np.float64).reshape(
        [-1 if i == a else 1 for i in range(geom.ndim)])
        for a, c in enumerate(counts)).astype(dtype)


# ----------------------------------------------------------------------------- forward


def max_windows(x: np.ndarray, geom: PoolGeometry) -> np.ndarray:
    """The max of every window. x : ndarray, shape (N, C, *spatial); returns (N, C, *out)."""
    shape = (geom.n, geom.c, *geom.out_spatial)
    if geom.n == 0:
        return np.full(shape, -np.inf, dtype=x.dtype)
    if pool_method(geom) == "taps":
        layout = tap_layout(geom)
        if layout and x[layout[0][1]].shape == shape:  # the first tap reaches every window
            y, rest = x[layout[0][1]].copy(), layout[1:]
        else:
            y = np.full(shape, -np.inf, dtype=x.dtype)
            rest = layout
        for out_index, in_index in rest:
            dest = y[out_index]
            np.maximum(dest, x[in_index], out=dest)
        return y
    y = np.full(shape, -np.inf, dtype=x.dtype)
    axes = tuple(range(2, 2 + geom.ndim))
    for out_index, in_index in window_boxes(geom):
        if in_index is not None:
            y[out_index] = x[in_index].max(axis=axes)
    return y


def mean_windows(x: np.ndarray, geom: PoolGeometry) -> np.ndarray:
    """The mean of every window. x : ndarray, shape (N, C, *spatial); returns (N, C, *out)."""
    shape = (geom.n, geom.c, *geom.out_spatial)
    if geom.n == 0:
        return np.zeros(shape, dtype=x.dtype)
    if pool_method(geom) == "taps":
        layout = tap_layout(geom)
        if layout and x[layout[0][1]].shape == shape:  # the first tap reaches every window
            y, rest = x[layout[0][1]].copy(), layout[1:]
        else:
            y, rest = np.zeros(shape, dtype=x.dtype), layout
        for out_index, in_index in rest:
            y[out_index] += x[in_index]
    else:
        y = np.zeros(shape, dtype=x.dtype)
        axes = tuple(range(2, 2 + geom.ndim))
        for out_index, in_index in window_boxes(geom):
            if in_index is not None:  # (never None: a mean's window has an input cell)
                y[out_index] = x[in_index].sum(axis=axes)
    y /= divisors(geom, x.dtype)
    return y


# ----------------------------------------------------------------------------- backward


def max_backward(x: np.ndarray, dy: np.ndarray, geom: PoolGeometry) -> np.ndarray:
    """dL/dx of max pooling. x : (N, C, *spatial); dy : (N, C, *out); returns x's shape.

    Taps: the taps are visited in window order, and a window's δ goes to the first of its
    cells equal to its max; the window is then marked as taken, so no later tie gets it.
    """
    grad = np.zeros(x.shape, dtype=x.dtype)
    if geom.n == 0:
        return grad
    if pool_method(geom) == "windows":
        _max_backward_windows(grad, x, dy, geom)
        return grad
    y = max_windows(x, geom)
    taken = np.zeros(y.shape, dtype=bool)  # the windows whose winner has been found
    layout = tap_layout(geom)
    last = len(layout) - 1
    add = geom.overlapping  # else every input cell is under one tap of one window at most
    for i, (out_index, in_index) in enumerate(layout):
        won = np.equal(x[in_index], y[out_index])
        if i:
            done = taken[out_index]
            np.greater(won, done, out=won)  # equal to the max, and the first to be
        if i < last:
            done = taken[out_index]
            np.logical_or(done, won, out=done)
        if add:
            grad[in_index] += dy[out_index] * won
        else:
            np.multiply(dy[out_index], won, out=grad[in_index])
    return grad


def _max_backward_windows(grad: np.ndarray, x: np.ndarray, dy: np.ndarray,
                          geom: PoolGeometry) -> None:
    """One window at a time: its first maximum (``argmax`` of its cells in C order, which is
    window order) gets its δ, for every (n, c) at once."""
    planes = np.indices((geom.n, geom.c)).reshape(2, -1)
    for out_index, in_index in window_boxes(geom):
        if in_index is None:
            continue
        cells = x[in_index]
        box = cells.shape[2:]
        winner = np.unravel_index(cells.reshape(geom.planes, -1).argmax(axis=1), box)
        where = tuple(b.start + w * b.step for b, w in zip(in_index[2:], winner, strict=True))
        np.add.at(grad, (*planes, *where), dy[out_index].reshape(-1))


def mean_backward(dy: np.ndarray, geom: PoolGeometry, dtype: np.dtype) -> np.ndarray:
    """dL/dx of average pooling: δ / divisor to every input cell of each window.
    dy : (N, C, *out); returns (N, C, *spatial)."""
    grad = np.zeros(geom.input_shape, dtype=dtype)
    if geom.n == 0:
        return grad
    shares = dy / divisors(geom, dtype)
    if pool_method(geom) == "taps":
        add = geom.overlapping
        for out_index, in_index in tap_layout(geom):
            if add:
                grad[in_index] += shares[out_index]
            else:
                grad[in_index] = shares[out_index]
        return grad
    spread = (_ALL, _ALL) + (None,) * geom.ndim
    for out_index, in_index in window_boxes(geom):
        if in_index is not None:
            grad[in_index] += shares[out_index][spread]
    return grad
