"""Step records of the transposed convolution, both views of the same numbers.

- :class:`ScatterTrace`, the definition (:func:`app.engine.naive.conv_transpose_naive`): one
  step per input element, in C order over ``(n, c_in, *i)``. The step stamps the kernel of
  every output channel of its group, scaled by the element's value, into the output: each
  stamp term says which output cell it lands on (or that the padding crops it), what it
  adds, and that cell's running sum before and after it, counting the steps before this
  one. Where stamps overlap the sums accumulate.
- :class:`GatherTrace`, the adjoint: one step per output element, in C order over
  ``(n, c_out, *t)``: every (input element, kernel tap) pair whose stamp lands there, the
  products and their sum, plus the bias. This is the convolution's input gradient (the
  lesson's "full convolution with the flipped kernel", dilated by the stride).

Both carry the *overlap* of a cell: how many stamps land on it per pair of channels
(:func:`~app.engine.transposed.overlap_counts`; a checkerboard when the kernel size is not a
multiple of the stride).

A window of steps ``[start, start + count)`` is computed on its own, vectorised: a gather
step costs O(its terms), a scatter step O(its stamps x the terms each stamped cell gathers),
whatever the steps before it (:func:`~app.engine.cost.transposed_trace_terms_per_step`
bounds both). Values have the dtype :func:`app.engine.conv_transpose` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .trace import _c_order, _one_step, _quiet, _Steps, _window
from .transposed import TransposedGeometry, overlap_counts, prepare_transposed

VIEWS: tuple[str, ...] = ("scatter", "gather")


class _Trace:
    """Arguments are those of :func:`app.engine.conv_transpose`; they are checked once, here."""

    def __init__(self, x, weight, bias=None, **params) -> None:
        self.x, self.weight, self.bias, self.geometry, _ = prepare_transposed(
            x, weight, bias, params)
        geom = self.geometry
        #: the shape of the output, batched: (N, C_out, *out)
        self.result_shape = (geom.n, geom.c_out, *geom.out_spatial)

    shape: tuple[int, ...]  # one step per element of this shape, in C order

    def __len__(self) -> int:
        return math.prod(self.shape)

    @property
    def overlap(self) -> np.ndarray:
        """Stamps landing on each output cell, shape ``out_spatial``."""
        return overlap_counts(self.geometry)

    def _bias(self, co: np.ndarray) -> np.ndarray:
        return np.zeros(co.shape, self.x.dtype) if self.bias is None else self.bias[co]

    def step(self, i: int):
        """Step ``i`` alone (its arrays without the leading step axis)."""
        return _one_step(self, i)


# ----------------------------------------------------------------------------- gather


@dataclass(frozen=True)
class Gathered:
    """Every (input element, tap) pair reaching each of ``M`` output cells, ragged (CSR):
    cell ``j``'s terms are ``offsets[j]:offsets[j + 1]``, in C order over (input channel
    within the group, then each axis' pairs by increasing input position)."""

    owner: np.ndarray  # (terms,) the cell of each term
    offsets: np.ndarray  # (M + 1,)
    in_channel: np.ndarray  # (terms,) absolute input channel
    in_position: np.ndarray  # (terms, d)
    kernel_index: np.ndarray  # (terms, d)
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    overlap: np.ndarray  # (M,) the spatial pairs reaching the cell


def _axis_pairs(geom: TransposedGeometry, axis: int, t: np.ndarray):
    """Along one axis, the (input position, tap) pairs landing on each output position of
    ``t`` (1-D): ``i * S + k * D - P == t``. Returns ``(i, k, first, count)``: the pairs of
    ``t[j]`` are ``first[j]:first[j] + count[j]`` of ``i`` and ``k``, by increasing ``i``.
    O(len(t) x K)."""
    s, d, p = geom.stride[axis], geom.dilation[axis], geom.padding[axis]
    k = np.arange(geom.kernel[axis])[::-1]  # decreasing tap = increasing input position
    shifted = t[:, None] + p - k[None, :] * d
    lands = (shifted % s == 0) & (shifted >= 0) & (shifted < geom.in_spatial[axis] * s)
    row, col = np.nonzero(lands)
    count = lands.sum(axis=1)
    return shifted[row, col] // s, k[col], np.cumsum(count) - count, count


def _ragged(radices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every combination of digits under per-row radices (rows, m), row after row, each row's
    in C order: ``(owner, digits (terms, m), offsets (rows + 1,))``."""
    rows = len(radices)
    per_row = radices.prod(axis=1)
    offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.intp)
    owner = np.repeat(np.arange(rows), per_row)
    local = np.arange(offsets[-1]) - offsets[:-1][owner]
    places = np.cumprod(radices[:, ::-1], axis=1)[:, ::-1]  # product of the radices after
    places = np.concatenate([places[:, 1:], np.ones((rows, 1), np.int64)], axis=1)
    digits = local[:, None] // places[owner] % radices[owner]
    return owner, digits, offsets


def gather(geom: TransposedGeometry, x: np.ndarray, w: np.ndarray,
           cells: np.ndarray) -> Gathered:
    """The terms of output cells ``cells`` (M, 2 + d), each ``(n, c_out, *t)``.

    x : ndarray, shape (N, C_in, *spatial); w : ndarray, shape (C_in, C_out / groups, *K)
    Along each axis the pairs of every distinct position are found once
    (:func:`_axis_pairs`); a cell's terms are their product with its group's channels.
    """
    d, m = geom.ndim, len(cells)
    tables = []
    for a in range(d):
        distinct, which = np.unique(cells[:, 2 + a], return_inverse=True)
        i, k, first, count = _axis_pairs(geom, a, distinct)
        tables.append((i, k, first[which], count[which]))
    radices = np.stack([np.full(m, geom.c_in_group, np.int64)] + [t[3] for t in tables], -1)
    owner, digits, offsets = _ragged(radices)
    picked = [t[2][owner] + digits[:, 1 + a] for a, t in enumerate(tables)]
    i = np.stack([t[0][p] for t, p in zip(tables, picked, strict=True)], -1).reshape(-1, d)
    k = np.stack([t[1][p] for t, p in zip(tables, picked, strict=True)], -1).reshape(-1, d)
    n, co = cells[owner, 0], cells[owner, 1]
    group, co_local = co // geom.c_out_group, co % geom.c_out_group
    ci = (group * geom.c_in_group + digits[:, 0]).astype(np.intp)
    inputs = x[(n, ci, *i.T)]
    weights = w[(ci, co_local, *k.T)]
    return Gathered(owner=owner, offsets=offsets, in_channel=ci, in_position=i,
                    kernel_index=k, inputs=inputs, weights=weights, products=inputs * weights,
                    overlap=radices[:, 1:].prod(axis=1))


@dataclass(frozen=True)
class GatherSteps(_Steps):
    """Gather steps: one output element each, a variable number of terms (ragged, CSR).

    index : (count, 2 + d) int, the output element ``(n, c_out, *t)``
    offsets : (count + 1,) int: step ``j``'s terms are ``offsets[j]:offsets[j + 1]``
    in_channel : (terms,) int; in_position : (terms, d) int, the input element of each term
    kernel_index : (terms, d) int, the tap of its stamp that lands here
    inputs, weights, products : (terms,)
    total : (count,) the sum of the products; bias : (count,); value : (count,) total + bias
    overlap : (count,) int, the stamps landing here per pair of channels
    """

    index: np.ndarray
    offsets: np.ndarray
    in_channel: np.ndarray
    in_position: np.ndarray
    kernel_index: np.ndarray
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: np.ndarray
    bias: np.ndarray
    value: np.ndarray
    overlap: np.ndarray

    def one(self, j: int) -> GatherSteps:
        lo, hi = int(self.offsets[j]), int(self.offsets[j + 1])
        terms = {f: getattr(self, f)[lo:hi] for f in (
            "in_channel", "in_position", "kernel_index", "inputs", "weights", "products")}
        return GatherSteps(index=self.index[j], offsets=np.array([0, hi - lo]),
                           total=self.total[j], bias=self.bias[j], value=self.value[j],
                           overlap=self.overlap[j], **terms)


class GatherTrace(_Trace):
    """The transposed convolution one output element at a time: what reaches it."""

    def __init__(self, x, weight, bias=None, **params) -> None:
        super().__init__(x, weight, bias, **params)
        self.shape = self.result_shape

    @_quiet
    def steps(self, start: int = 0, count: int | None = None) -> GatherSteps:
        """Steps ``start .. start + count - 1`` (to the end when ``count`` is None)."""
        index = np.stack(np.unravel_index(_window(start, count, len(self)), self.shape), -1)
        g = gather(self.geometry, self.x, self.weight, index)
        # a cell no stamp reaches sums to zero
        total = np.bincount(g.owner, weights=g.products,
                            minlength=len(index)).astype(self.x.dtype)
        bias = self._bias(index[:, 1])
        return GatherSteps(
            index=index, offsets=g.offsets, in_channel=g.in_channel,
            in_position=g.in_position, kernel_index=g.kernel_index, inputs=g.inputs,
            weights=g.weights, products=g.products, total=total, bias=bias,
            value=total + bias, overlap=g.overlap,
        )


# ----------------------------------------------------------------------------- scatter


@dataclass(frozen=True)
class ScatterSteps(_Steps):
    """Scatter steps: one input element each, ``T = C_out/groups * prod(kernel)`` stamp
    terms, in C order over ``(c_out within the group, *k)``.

    index : (count, 2 + d) int, the input element ``(n, c_in, *i)``; value : (count,) its value
    out_channel : (count, T) int, the output channel each term stamps
    kernel_index : (count, T, d) int, the tap
    position : (count, T, d) int, the output cell it lands on, ``i * S + k * D - P`` (outside
        ``[0, out)`` on some axis where the padding crops it)
    inside : (count, T) bool, the cell is in the output
    weights, products : (count, T), the tap's weight and what the stamp adds (value x weight)
    before, after : (count, T), the cell's running sum before and after this stamp (the
        stamps of earlier steps only; no bias; 0 where cropped)
    overlap : (count, T) int, the stamps landing on that cell per pair of channels
    """

    index: np.ndarray
    value: np.ndarray
    out_channel: np.ndarray
    kernel_index: np.ndarray
    position: np.ndarray
    inside: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    before: np.ndarray
    after: np.ndarray
    overlap: np.ndarray


class ScatterTrace(_Trace):
    """The transposed convolution one input element at a time: the stamp it makes."""

    def __init__(self, x, weight, bias=None, **params) -> None:
        super().__init__(x, weight, bias, **params)
        geom = self.geometry
        self.shape = (geom.n, geom.c_in, *geom.in_spatial)
        taps = _c_order((geom.c_out_group, *geom.kernel))
        #: per stamp term: the output channel within the group, and the tap
        self.tap_channel, self.tap_kernel_index = taps[:, 0], taps[:, 1:]

    @_quiet
    def steps(self, start: int = 0, count: int | None = None) -> ScatterSteps:
        """Steps ``start .. start + count - 1`` (to the end when ``count`` is None)."""
        geom = self.geometry
        flat = _window(start, count, len(self))
        index = np.stack(np.unravel_index(flat, self.shape), -1)
        n, ci, i = index[:, 0], index[:, 1], index[:, 2:]
        k = self.tap_kernel_index
        position = (i[:, None, :] * np.asarray(geom.stride) + k[None] * np.asarray(geom.dilation)
                    - np.asarray(geom.padding))
        inside = ((position >= 0) & (position < np.asarray(geom.out_spatial))).all(axis=-1)
        group = ci // geom.c_in_group
        out_channel = group[:, None] * geom.c_out_group + self.tap_channel[None]
        value = self.x[(n, ci, *i.T)]
        weights = self.weight[(ci[:, None], self.tap_channel[None], *k.T[:, None, :])]
        products = value[:, None] * weights
        # each stamped cell's running sum: what the steps before this one gathered there
        steps_at, terms_at = np.nonzero(inside)
        cells = np.concatenate([n[steps_at, None], out_channel[steps_at, terms_at, None],
                                position[steps_at, terms_at]], axis=1)
        g = gather(geom, self.x, self.weight, cells)
        earlier = np.ravel_multi_index((n[steps_at][g.owner], g.in_channel, *g.in_position.T),
                                       self.shape) < flat[steps_at][g.owner]
        before = np.zeros(products.shape, self.x.dtype)
        before[steps_at, terms_at] = np.bincount(g.owner[earlier], g.products[earlier],
                                                 minlength=len(cells))
        overlap = np.zeros(products.shape, np.int64)
        overlap[steps_at, terms_at] = g.overlap
        after = np.where(inside, before + products, 0).astype(self.x.dtype)
        return ScatterSteps(
            index=index, value=value, out_channel=out_channel,
            kernel_index=np.broadcast_to(k, (len(index), *k.shape)), position=position,
            inside=inside, weights=weights, products=products, before=before, after=after,
            overlap=overlap,
        )


def replay(trace: ScatterTrace | GatherTrace) -> np.ndarray:
    """Rebuild the output by playing every step (unbatched when the input was): a gather
    step writes its value; a scatter step adds each stamp that lands inside, and the bias
    comes last."""
    geom = trace.geometry
    steps = trace.steps()
    y = np.zeros(trace.result_shape, dtype=trace.x.dtype)
    if isinstance(trace, GatherTrace):
        y[tuple(steps.index.T)] = steps.value
    else:
        at = np.nonzero(steps.inside)
        np.add.at(y, (steps.index[at[0], 0], steps.out_channel[at],
                      *steps.position[at].T), steps.products[at])
        if trace.bias is not None:
            y += trace.bias.reshape(-1, *(1,) * geom.ndim)
    return y if geom.batched else y[0]

