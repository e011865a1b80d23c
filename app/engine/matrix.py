"""The convolution as a matrix: the dense ``W`` with ``vec(y) = W @ vec(x)``, and the im2col
patches matrix ``P`` with ``vec(y[co]) = P @ vec(w[co])``.

For one sample (vectors in C order: ``vec(x)`` over ``(C_in, *spatial)``, ``vec(y)`` over
``(C_out, *out)``), every term of the definition (:mod:`app.engine.naive`)

    y[co, *o] += w[co, c, *k'] * x_padded[g * C_in_g + c, *(o * S + k * D)]

puts its weight in row ``(co, *o)`` of ``W``, in the column of the input cell the padded
value is copied from (:func:`~app.engine.geometry.source_index`): nowhere for a zero-padding
cell, so with zero padding each row is the kernel slid into place and ``W`` is doubly block
Toeplitz in 2-D; circular padding wraps the kernel round and makes the blocks circulant;
reflect and replicate padding fold taps onto the edge cells, where their weights add up.
``k' = k`` (cross-correlation) or ``K - 1 - k`` (convolution, the flipped kernel).

Because ``y`` is linear in ``x``, the backward pass is the same matrix read the other way:
``vec(∂L/∂x) = W.T @ vec(δ)`` (the transposed convolution) and ``∂L/∂w[co] = δ[co] @ P``
("δ slides over the input").

Both matrices are dense, so they are for small inputs: their size is checked against
``max_entries`` before anything is allocated (:func:`matrix_entries`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..i18n import gettext
from .arrays import as_real_array, pad
from .errors import ShapeError
from .geometry import Geometry, plan, source_index

#: entries a matrix of this module may have (8 MB of float64): far past any page's (a 6x6
#: input with a 3x3 kernel and padding 1 makes 36 x 36), small enough to be cheap
MAX_ENTRIES = 1_000_000


class MatrixTerms(NamedTuple):
    """The nonzero terms of ``W``, one per kernel tap that reads a real input cell.

    ``row`` and ``col`` index ``W``; ``weight`` is the flat index (C order) into the weight
    ``(C_out, C_in / groups, *kernel)`` of the weight the term carries; ``tap`` is the tap's
    place in the sliding footprint, ``c * prod(kernel) + flat(k)`` (the order the trace and
    the page colour taps in). Taps that fold onto the same input cell (reflect, replicate)
    are separate terms with the same ``row`` and ``col``.
    """

    row: np.ndarray
    col: np.ndarray
    weight: np.ndarray
    tap: np.ndarray


def matrix_shape(geom: Geometry) -> tuple[int, int]:
    """``W``'s shape: ``(C_out * prod(out), C_in * prod(spatial))``."""
    return (geom.c_out * math.prod(geom.out_spatial), geom.c_in * math.prod(geom.in_spatial))


def patches_shape(geom: Geometry) -> tuple[int, int]:
    """The patches matrix's shape: ``(prod(out), C_in * prod(kernel))``."""
    return (math.prod(geom.out_spatial), geom.c_in * math.prod(geom.kernel))


def matrix_entries(geom: Geometry) -> int:
    """The most entries the matrices of ``geom`` hold: ``W``'s, its terms' or ``P``'s."""
    terms = geom.c_out * math.prod(geom.out_spatial) * geom.c_in_group * math.prod(geom.kernel)
    return max(math.prod(matrix_shape(geom)), math.prod(patches_shape(geom)), terms)


def _check_size(geom: Geometry, max_entries: int) -> None:
    entries = matrix_entries(geom)
    if entries > max_entries:
        rows, cols = matrix_shape(geom)
        raise ShapeError(
            "input",
            gettext("the convolution's matrix would have %(entries)s entries (W is %(rows)s x "
                    "%(cols)s), and at most %(max)s are built: a smaller input, kernel or "
                    "padding fits")
            % {"entries": f"{entries:,}", "rows": rows, "cols": cols, "max": f"{max_entries:,}"},
        )


def matrix_plan(input_shape, weight_shape, *, max_entries: int = MAX_ENTRIES,
                **params) -> Geometry:
    """:func:`~app.engine.geometry.plan`, and the matrices' size checked (a
    :class:`ShapeError` over ``max_entries``), before anything is allocated."""
    geom = plan(tuple(input_shape), tuple(weight_shape), **params)
    _check_size(geom, max_entries)
    return geom


def matrix_terms(geom: Geometry) -> MatrixTerms:
    """Every nonzero term of ``W`` for ``geom`` (see :class:`MatrixTerms`)."""
    out = np.indices(geom.out_spatial).reshape(geom.ndim, -1).T     # (O, d)
    taps = np.indices(geom.kernel).reshape(geom.ndim, -1).T         # (K, d)
    stride, dilation = np.asarray(geom.stride), np.asarray(geom.dilation)
    before = np.asarray([b for b, _ in geom.padding])
    position = out[:, None, :] * stride + taps[None, :, :] * dilation - before  # (O, K, d)
    source = np.stack([source_index(position[..., a], size, geom.padding_mode)
                       for a, size in enumerate(geom.in_spatial)], -1)
    real = (source >= 0).all(-1)                                   # (O, K)
    o_idx, k_idx = np.nonzero(real)
    src_flat = np.ravel_multi_index(tuple(source[o_idx, k_idx].T), geom.in_spatial)
    k_weight = np.asarray(geom.kernel) - 1 - taps if geom.flip else taps
    kw_flat = np.ravel_multi_index(tuple(k_weight.T), geom.kernel)[k_idx]

    n_out, n_in, n_k = math.prod(geom.out_spatial), math.prod(geom.in_spatial), \
        math.prod(geom.kernel)
    co = np.arange(geom.c_out)[:, None, None]
    c = np.arange(geom.c_in_group)[None, :, None]
    channel = (co // geom.c_out_group) * geom.c_in_group + c        # the input channel read
    shape = (geom.c_out, geom.c_in_group, len(o_idx))
    row = np.broadcast_to(co * n_out + o_idx, shape)
    col = channel * n_in + src_flat
    weight = (co * geom.c_in_group + c) * n_k + kw_flat
    tap = np.broadcast_to(c * n_k + k_idx, shape)
    return MatrixTerms(*(np.ascontiguousarray(np.broadcast_to(a, shape)).ravel()
                         for a in (row, col, weight, tap)))


def conv_matrix(input_shape, weight, *, stride=1, padding=0, dilation=1, groups=1,
                padding_mode="zeros", mode="cross-correlation",
                max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """The matrix of the convolution of an input of ``input_shape`` with ``weight``.

    input_shape : (C_in, *spatial), or (N, C_in, *spatial): the matrix acts on one sample
    weight : array_like, shape (C_out, C_in / groups, *kernel)

    Returns ``W``, float64, shape ``(C_out * prod(out), C_in * prod(spatial))``, such that
    ``forward(x, weight, ...).ravel() == W @ x.ravel()`` for an unbatched ``x`` of
    ``input_shape`` (each sample's, for a batch), and
    ``backward(x, weight, δ, ...).grad_input.ravel() == W.T @ δ.ravel()``. The parameters
    mean what they mean in :func:`app.engine.forward`. Raises a
    :class:`~app.engine.ConvolutionError` for what ``forward`` refuses, and a
    :class:`ShapeError` for a matrix of more than ``max_entries`` entries, before it is built.
    """
    w = as_real_array(weight, "weight").astype(np.float64, copy=False)
    geom = matrix_plan(input_shape, w.shape, max_entries=max_entries, stride=stride,
                       padding=padding, dilation=dilation, groups=groups,
                       padding_mode=padding_mode, mode=mode)
    terms = matrix_terms(geom)
    matrix = np.zeros(matrix_shape(geom))
    np.add.at(matrix, (terms.row, terms.col), w.ravel()[terms.weight])
    return matrix


def im2col(x, kernel_shape, *, stride=1, padding=0, dilation=1, padding_mode="zeros",
           max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """The patches matrix of one sample: each window of the padded input unrolled into a row.

    x : array_like, shape (C_in, *spatial)
    kernel_shape : the kernel's spatial size, one int per spatial axis

    Returns ``P``, float64, shape ``(prod(out), C_in * prod(kernel))``:
    ``P[o, c * prod(kernel) + flat(k)] = x_padded[c, *(o * S + k * D)]``, windows and taps in
    C order, padding cells holding what the padding mode puts there. Then
    ``forward(x, w, ...)[co].ravel() == P @ w_sliding[co].ravel()`` (groups 1), with
    ``w_sliding`` the kernel as it slides (flipped in convolution mode), and
    ``backward(...).grad_weight[co].ravel() == δ[co].ravel() @ P`` (cross-correlation).
    """
    xa = as_real_array(x, "input").astype(np.float64, copy=False)
    kernel = tuple(int(k) for k in kernel_shape)
    if xa.ndim != len(kernel) + 1:
        raise ShapeError("input", gettext("im2col takes one sample, (C_in, *spatial) with "
                                          "%(ndim)s spatial dimensions, got shape %(shape)s")
                         % {"ndim": len(kernel), "shape": list(xa.shape)})
    geom = matrix_plan(xa.shape, (1, xa.shape[0], *kernel), max_entries=max_entries,
                       stride=stride, padding=padding, dilation=dilation,
                       padding_mode=padding_mode)
    xp = pad(xa[None], geom)[0]                                      # (C, *padded)
    out = np.indices(geom.out_spatial).reshape(geom.ndim, -1).T
    taps = np.indices(geom.kernel).reshape(geom.ndim, -1).T
    at = out[:, None, :] * np.asarray(geom.stride) + taps[None] * np.asarray(geom.dilation)
    values = xp[(slice(None), *(at[..., a] for a in range(geom.ndim)))]  # (C, O, K)
    return np.ascontiguousarray(values.transpose(1, 0, 2).reshape(patches_shape(geom)))
