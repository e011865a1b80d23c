"""Vectorised forward pass: windows of the padded input, one batched BLAS contraction per chunk."""

from __future__ import annotations

import math

import numpy as np

from .arrays import pad, prepare, windows
from .geometry import Geometry

# Size of the im2col workspace reused across chunks of samples. Small enough to stay in cache
# on the machines we measured; large inputs are processed a few samples at a time.
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

    Returns the output, shape (N, C_out, *out) or (C_out, *out) for an unbatched input.
    float32 inputs give float32; anything else computes in float64.
    """
    x, w, b, geom = prepare(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
        padding_mode=padding_mode, mode=mode,
    )
    y = correlate(pad(x, geom), effective_kernel(w, geom), geom)
    if b is not None:
        y += b.reshape(-1, *(1,) * geom.ndim)
    return y if geom.batched else y[0]


def effective_kernel(w: np.ndarray, geom: Geometry) -> np.ndarray:
    """The kernel as it slides: flipped along every spatial axis in convolution mode.

    w : ndarray, shape (C_out, C_in / groups, *kernel)
    """
    if not geom.flip:
        return w
    return w[(slice(None), slice(None), *(slice(None, None, -1),) * geom.ndim)]


def chunk_size(geom: Geometry, itemsize: int) -> int:
    """How many samples share one im2col workspace of about ``WORKSPACE_BYTES``."""
    per_sample = geom.c_in * math.prod(geom.kernel) * math.prod(geom.out_spatial) * itemsize
    return max(1, min(geom.n, WORKSPACE_BYTES // max(per_sample, 1)))


def im2col_order(ndim: int) -> tuple[int, ...]:
    """Axis order taking windows (N, C, *O, *K) to columns (N, C, *K, *O)."""
    return (0, 1, *range(2 + ndim, 2 + 2 * ndim), *range(2, 2 + ndim))


def correlate(xp: np.ndarray, w: np.ndarray, geom: Geometry) -> np.ndarray:
    """Cross-correlate padded ``xp`` (N, C_in, *padded) with ``w`` (C_out, C_in/groups, *K).

    Returns (N, C_out, *out). Per chunk of samples, the windows are copied into a reused
    workspace laid out as (samples, groups, C_in/groups * K, out) and one batched matmul
    writes straight into the output's memory, already in (N, C_out, *out) order.
    """
    n, g = xp.shape[0], geom.groups
    taps = geom.c_in_group * math.prod(geom.kernel)
    positions = math.prod(geom.out_spatial)
    wmat = w.reshape(g, geom.c_out_group, taps)
    y = np.empty((n, geom.c_out, *geom.out_spatial), dtype=xp.dtype)
    ymat = y.reshape(n, g, geom.c_out_group, positions)
    win = windows(xp, geom).transpose(im2col_order(geom.ndim))
    chunk = chunk_size(geom, xp.itemsize)
    cols = np.empty((chunk, *win.shape[1:]), dtype=xp.dtype)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        work = cols[: stop - start]
        np.copyto(work, win[start:stop])
        np.matmul(wmat, work.reshape(stop - start, g, taps, positions), out=ymat[start:stop])
    return y
