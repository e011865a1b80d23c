"""Vectorised forward pass: im2col blocks in a reused workspace, one BLAS product each.

For one sample ``n`` and group ``g`` (``C_in_g = C_in / groups`` channels, kernel ``K``):

    cols[c * K + k, o] = xp[n, g * C_in_g + c, o * stride + k * dilation]      (im2col)
    y[n, g * C_out_g + co, o] = sum_j w[g * C_out_g + co, j] * cols[j, o]     (one GEMM)

with ``o`` and ``k`` running over all output positions and kernel taps (flattened). ``cols``
for a whole batch is many times larger than the caches, and fresh large buffers page-fault,
so it is built one block at a time (see :func:`schedule`) in a workspace of about
``WORKSPACE_BYTES``, and each block's product lands straight in its place in the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .arrays import Prepared, pad, prepare, windows
from .cache import OBJECT_BYTES, bounded_cache
from .errors import ConvolutionError
from .geometry import Geometry, plan

# Size of one im2col block (counted in float64 elements of this many bytes). Large enough that
# the matrix products stay efficient and col2im's per-offset adds are few, small enough to stay
# in the caches (L2 1-2 MB per core, shared L3 much larger on the machines we measured) and to
# be reused rather than freshly allocated and page-faulted; 1-16 MB were measured, 4 MB won.
WORKSPACE_BYTES = 4 << 20


def forward(
    x,
    weight,
    bias=None,
    *,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    padding_mode="zeros",
    mode="cross-correlation",
) -> np.ndarray:
    """N-D convolution with PyTorch's semantics (``torch.nn.functional.conv{1,2,3}d``).

    x : array_like, shape (N, C_in, *spatial) or unbatched (C_in, *spatial)
    weight : array_like, shape (C_out, C_in / groups, *kernel)
    bias : array_like, shape (C_out,), or None
    stride, dilation : int or one int per spatial dimension
    padding : int, one int per dimension, one (before, after) pair per dimension,
        or "valid", "same" (stride 1 only; the odd cell goes after) or "full"
    padding_mode : "zeros", "reflect", "replicate" or "circular"
    mode : "cross-correlation" (what CNNs compute) or "convolution" (kernel flipped)

    Returns the output, shape (N, C_out, *out) or (C_out, *out) for an unbatched input. An
    empty batch (N = 0) gives an empty output, shape (0, C_out, *out).

    dtypes: the result is float32 when every array given (x, weight and bias, if any) is a
    float32 ndarray, else float64, whatever mix arrives (PyTorch would refuse a mix). Integer,
    unsigned, bool (as 0 and 1) and float16 arrays, and nested lists, compute in float64;
    complex, string and object arrays are refused.
    """
    params = (stride, padding, dilation, groups, padding_mode, mode)
    x, w, b, geom = prepare_fast(x, weight, bias, params)
    y = correlate(pad(x, geom), effective_kernel(w, geom), geom, b)
    return y if geom.batched else y[0]


# ----------------------------------------------------------------------------- arguments


def prepare_fast(x, weight, bias, params: tuple) -> Prepared:
    """:func:`~app.engine.arrays.prepare`, with a short path for the usual call.

    ``params`` is ``(stride, padding, dilation, groups, padding_mode, mode)``. When every
    array is already a float32 or float64 ndarray, the geometry is valid and the values are
    finite, the result is what ``prepare`` returns, in a few microseconds. Anything else
    (lists, other dtypes, a bad shape, NaN) goes through ``prepare`` itself, so conversions,
    errors and the order in which errors are found stay exactly its own.
    """
    if is_float_array(x) and is_float_array(weight) and \
            (bias is None or is_float_array(bias)):
        geom = try_plan(x, weight, params, None if bias is None else bias.shape)
        if geom is not None and all_finite(x) and all_finite(weight) and \
                (bias is None or all_finite(bias)):
            return unify(x, weight, bias, geom)
    stride, padding, dilation, groups, padding_mode, mode = params
    return prepare(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                   groups=groups, padding_mode=padding_mode, mode=mode)


def try_plan(x: np.ndarray, weight: np.ndarray, params: tuple, bias_shape) -> Geometry | None:
    """The geometry of a call (cached by :func:`~app.engine.geometry.plan`), or None when
    ``plan`` refuses it: the caller then takes the general path, which raises the error.

    ``params`` is ``(stride, padding, dilation, groups, padding_mode, mode)``.
    """
    stride, padding, dilation, groups, padding_mode, mode = params
    try:
        return plan(x.shape, weight.shape, stride=stride, padding=padding, dilation=dilation,
                    groups=groups, padding_mode=padding_mode, mode=mode, bias_shape=bias_shape)
    except ConvolutionError:
        return None


_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)


def is_float_array(a: object) -> bool:
    """A plain ndarray of native float64 or float32, which ``prepare`` would pass through."""
    return type(a) is np.ndarray and (a.dtype == _FLOAT64 or a.dtype == _FLOAT32)


def all_finite(a: np.ndarray) -> bool:
    """True when ``a`` holds no NaN or infinity.

    ``sum(a * a)`` is finite only if every element is (NaN and infinities propagate), so one
    BLAS dot product settles the usual case; only when it overflows (or really is not
    finite) are the elements checked one by one.
    """
    return math.isfinite(np.vdot(a, a)) or bool(np.isfinite(a).all())


def unify(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, geom: Geometry,
          *extra: np.ndarray) -> Prepared:
    """float32/float64 arrays in their common dtype (float32 only when all are float32),
    ``x`` with a batch axis."""
    dtype = x.dtype
    if weight.dtype != dtype or (bias is not None and bias.dtype != dtype) or \
            any(e.dtype != dtype for e in extra):
        dtype = _FLOAT64
        x, weight = x.astype(dtype, copy=False), weight.astype(dtype, copy=False)
        if bias is not None:
            bias = bias.astype(dtype, copy=False)
    return Prepared(x if geom.batched else x[None], weight, bias, geom)


# ----------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class Block:
    """One im2col block: some samples, or some output rows of one sample.

    ``source`` indexes the im2col view (N, C, *K, *O); ``shape`` is the block in that layout,
    ``matrix`` the same memory as (samples, groups, taps, positions). ``samples`` and ``rows``
    index the output (N, C_out, *O), ``samples`` and ``positions`` the flattened output
    (N, groups, C_out_g, positions).
    """

    source: tuple
    shape: tuple[int, ...]
    matrix: tuple[int, int, int, int]
    samples: slice
    rows: slice
    positions: slice
    output: tuple[slice, ...]  # (samples, :, :, positions): the block in the flat output
    size: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """Everything about the im2col loop that depends on the geometry only (see schedule)."""

    blocks: tuple[Block, ...]
    taps: int  # C_in_g * prod(kernel), the inner dimension of the matrix product
    positions: int  # prod(out_spatial)
    workspace: int  # elements of the largest block
    weight_matrix: tuple[int, int, int]  # (groups, C_out_g, taps)
    output: tuple[int, ...]  # (N, C_out, *out)
    output_matrix: tuple[int, int, int, int]  # (N, groups, C_out_g, positions)
    bias: tuple[int, int, int]  # (groups, C_out_g, 1), to broadcast over the flat output
    sum_axes: tuple[int, ...]  # (0, *spatial axes): what grad_bias sums over


class Blocking(NamedTuple):
    """How :func:`schedule` cuts im2col, in numbers only (what the cost model needs)."""

    samples_per_block: int
    rows_per_block: int
    sample_groups: int  # ceil(N / samples_per_block)
    row_groups: int  # ceil(out_rows / rows_per_block)
    workspace: int  # elements of the largest block

    @property
    def blocks(self) -> int:
        return self.sample_groups * self.row_groups


def blocking(geom: Geometry) -> Blocking:
    """Whole samples go together while they fit in ``WORKSPACE_BYTES`` (float64); a larger
    sample is cut into bands of output rows along its first spatial axis (a band is at least
    one row, however large). An empty batch has no block and no workspace."""
    n, (out_rows, *rest) = geom.n, geom.out_spatial
    if n == 0:
        return Blocking(0, out_rows, 0, 1, 0)
    row_elems = geom.c_in * math.prod(geom.kernel) * math.prod(rest)
    budget = max(1, WORKSPACE_BYTES // 8)
    if row_elems * out_rows <= budget:
        samples, rows = min(n, max(1, budget // (row_elems * out_rows))), out_rows
    else:
        samples, rows = 1, min(out_rows, max(1, budget // row_elems))
    return Blocking(samples, rows, -(-n // samples), -(-out_rows // rows),
                    samples * rows * row_elems)


@bounded_cache(lambda sched: (20 + 10 * len(sched.blocks)) * OBJECT_BYTES)
def schedule(geom: Geometry) -> Schedule:
    """Split im2col into blocks as :func:`blocking` says."""
    ndim, g, n = geom.ndim, geom.groups, geom.n
    out_rows, *rest = geom.out_spatial
    taps = geom.c_in_group * math.prod(geom.kernel)
    per_row = math.prod(rest)
    samples_per_block, rows_per_block, *_ = blocking(geom)
    blocks = []
    for n0 in range(0, n, max(samples_per_block, 1)):  # no block for an empty batch
        samples = slice(n0, min(n, n0 + samples_per_block))
        count = samples.stop - samples.start
        for r0 in range(0, out_rows, rows_per_block):
            rows = slice(r0, min(out_rows, r0 + rows_per_block))
            band = rows.stop - rows.start
            source = (samples,) if band == out_rows else \
                (samples, Ellipsis, rows, *(slice(None),) * (ndim - 1))
            shape = (count, geom.c_in, *geom.kernel, band, *rest)
            positions = slice(r0 * per_row, rows.stop * per_row)
            blocks.append(Block(source, shape, (count, g, taps, band * per_row), samples, rows,
                                positions, (samples, slice(None), slice(None), positions),
                                math.prod(shape)))
    return Schedule(
        blocks=tuple(blocks), taps=taps, positions=out_rows * per_row,
        workspace=max((b.size for b in blocks), default=0),
        weight_matrix=(g, geom.c_out_group, taps),
        output=(n, geom.c_out, *geom.out_spatial),
        output_matrix=(n, g, geom.c_out_group, out_rows * per_row),
        bias=(g, geom.c_out_group, 1), sum_axes=(0, *range(2, 2 + ndim)),
    )


def fill(work: np.ndarray, cols: np.ndarray, block: Block) -> np.ndarray:
    """Copy ``block`` of the im2col view ``cols`` (N, C, *K, *O) into the front of ``work``.

    Returns the copy as a matrix stack, shape (samples, groups, taps, positions).
    """
    dest = work[: block.size].reshape(block.shape)
    np.copyto(dest, cols[block.source])
    return dest.reshape(block.matrix)


# ----------------------------------------------------------------------------- forward


def effective_kernel(w: np.ndarray, geom: Geometry) -> np.ndarray:
    """The kernel as it slides: flipped along every spatial axis in convolution mode.

    w : ndarray, shape (C_out, C_in / groups, *kernel)
    """
    if not geom.flip:
        return w
    return w[(slice(None), slice(None), *(slice(None, None, -1),) * geom.ndim)]


def correlate(xp: np.ndarray, w: np.ndarray, geom: Geometry,
              bias: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlate padded ``xp`` (N, C_in, *padded) with ``w`` (C_out, C_in/groups, *K).

    bias : ndarray, shape (C_out,), or None

    Returns y, shape (N, C_out, *out). Each block's matmul writes straight into ``y``'s
    memory, already in (N, C_out, *out) order, and the bias is added while it is in cache.
    """
    sched = schedule(geom)
    wmat = w.reshape(sched.weight_matrix)
    y = np.empty(sched.output, dtype=xp.dtype)
    ymat = y.reshape(sched.output_matrix)
    bias_col = None if bias is None else bias.reshape(sched.bias)
    cols = windows(xp, geom, kernel_first=True)
    work = np.empty(sched.workspace, dtype=xp.dtype)
    for block in sched.blocks:
        out = ymat[block.output]
        np.matmul(wmat, fill(work, cols, block), out=out)
        if bias_col is not None:
            out += bias_col
    return y
