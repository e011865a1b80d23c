"""Step records of pooling for the animations, built from the definition (see
:func:`app.engine.naive.pool_window`), one step per window, forward and backward.

Forward, a step is one output element: the window's cells (where each lies: in the input,
in the padding, or past it where a ``ceil_mode`` window reaches), their values, and the max
with the cell that won it (the first maximum in window order), or the sum, the divisor and
the mean. Backward, a step is one δ (an output element's gradient) and where it goes: all
of it to the window's winner, or δ / divisor to every counted cell (a padding cell's share
is lost). A window of steps ``[start, start + count)`` is computed on its own, in
O(count x window): step *i* never needs the steps before it.

Terms run in window order, C order over the kernel taps ``(*k)``; positions count from the
first input cell along each axis (padding is negative or ``>= size``), as in
:mod:`app.engine.trace`. Step order is C order over the output (N, C, *out), batched. Values
have the dtype :func:`app.engine.max_pool` / :func:`app.engine.avg_pool` return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .pool import _prepare, _prepare_backward
from .pool_geometry import PoolGeometry
from .trace import _c_order, _one_step, _quiet, _Steps, _window


@dataclass(frozen=True)
class PoolSteps(_Steps):
    """Forward pooling steps, ``T = prod(kernel)`` terms each, in window order.

    index : (count, 2 + d) int, the output element ``(n, c, *o)``
    position : (count, T, d) int, the cell under each tap
    padding : (count, T) bool, the cell is padding; outside : (count, T) bool, past the
        padding (a ``ceil_mode`` window's overhang: no cell at all)
    inputs : (count, T) the values the window holds: the input's, and for padding and
        outside cells -inf (max) or 0 (mean)
    winner : (count,) int, the term whose cell won the max (first maximum in window order),
        -1 for a window of padding alone — or, for a mean, -1 everywhere
    counted : (count, T) bool, the cells the mean divides by (all False for a max)
    total : (count,) the sum of the inputs (a mean) or the max; divisor : (count,) the
        mean's divisor (1 for a max); value : (count,) the output, total / divisor
    """

    index: np.ndarray
    position: np.ndarray
    padding: np.ndarray
    outside: np.ndarray
    inputs: np.ndarray
    winner: np.ndarray
    counted: np.ndarray
    total: np.ndarray
    divisor: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class PoolBackwardSteps(_Steps):
    """Backward pooling steps: one δ each, and the share of it each window cell receives.

    index : (count, 2 + d) int, the output element whose δ this is
    delta : (count,) dL/dy there
    position, padding, outside : as :class:`PoolSteps`
    winner : (count,) int, the term that gets all of δ (max; -1 for a mean, or a window of
        padding alone)
    shares : (count, T) what each cell receives: δ at the winner (max), δ / divisor at every
        counted cell (mean), else 0
    reaches : (count, T) bool, the share lands on an input cell (a padding cell's is lost)
    """

    index: np.ndarray
    delta: np.ndarray
    position: np.ndarray
    padding: np.ndarray
    outside: np.ndarray
    winner: np.ndarray
    shares: np.ndarray
    reaches: np.ndarray


class _Windows:
    """What forward and backward steps share: the windows of a window of steps."""

    x: np.ndarray
    geometry: PoolGeometry

    def _init_taps(self) -> None:
        geom = self.geometry
        #: per term, the tap ``(*k)``, in window order
        self.taps = _c_order(geom.kernel)
        self.shape = (geom.n, geom.c, *geom.out_spatial)

    def __len__(self) -> int:
        return math.prod(self.shape)

    def _cells(self, start: int, count: int | None):
        """Index, position, padding, outside, inputs and the input-cell mask of the
        windows of steps ``start ..``; plus the padding value (-inf or 0)."""
        geom = self.geometry
        index = np.stack(np.unravel_index(_window(start, count, len(self)), self.shape), -1)
        n, c, o = index[:, 0], index[:, 1], index[:, 2:]
        position = (o[:, None, :] * np.asarray(geom.stride)
                    + self.taps[None] * np.asarray(geom.dilation) - np.asarray(geom.padding))
        size, pad = np.asarray(geom.in_spatial), np.asarray(geom.padding)
        real = ((position >= 0) & (position < size)).all(axis=-1)
        padded = ((position >= -pad) & (position < size + pad)).all(axis=-1)
        fill = -np.inf if geom.kind == "max" else 0.0
        safe = np.where(real[..., None], position, 0)
        inputs = self.x[(n[:, None], c[:, None], *np.moveaxis(safe, -1, 0))]
        inputs = np.where(real, inputs, fill).astype(self.x.dtype)
        return index, position, padded & ~real, ~padded, inputs, real, padded

    def _winners(self, inputs: np.ndarray, real: np.ndarray) -> np.ndarray:
        """The first maximum of each window among its input cells, -1 for none (or a mean)."""
        if self.geometry.kind != "max":
            return np.full(len(inputs), -1, dtype=np.int64)
        winner = inputs.argmax(axis=1) if inputs.shape[1] else np.zeros(len(inputs), np.int64)
        return np.where(real.any(axis=1), winner, -1)

    def step(self, i: int):
        """Step ``i`` alone (its arrays without the leading step axis)."""
        return _one_step(self, i)


class PoolTrace(_Windows):
    """Forward pooling, one step per output element. ``kind`` is ``"max"`` or ``"avg"``;
    the other arguments are those of :func:`app.engine.max_pool` / ``avg_pool``."""

    def __init__(self, x, kind: str, kernel_size, *, stride=None, padding=0, dilation=1,
                 ceil_mode=False, count_include_pad=True) -> None:
        self.x, self.geometry = _prepare(x, kind, kernel_size, stride, padding, dilation,
                                         ceil_mode, count_include_pad)
        self._init_taps()

    @_quiet
    def steps(self, start: int = 0, count: int | None = None) -> PoolSteps:
        """Steps ``start .. start + count - 1`` (to the end when ``count`` is None)."""
        index, position, padding, outside, inputs, real, padded = self._cells(start, count)
        winner = self._winners(inputs, real)
        if self.geometry.kind == "max":
            counted = np.zeros_like(real)
            total = inputs.max(axis=1, initial=-np.inf)
            divisor = np.ones_like(total)
        else:
            counted = padded if self.geometry.count_include_pad else real
            total = inputs.sum(axis=1)
            divisor = counted.sum(axis=1).astype(self.x.dtype)
        return PoolSteps(index=index, position=position, padding=padding, outside=outside,
                         inputs=inputs, winner=winner, counted=counted, total=total,
                         divisor=divisor, value=total / divisor)


class PoolBackwardTrace(_Windows):
    """Backward pooling, one step per δ (output element): where it goes. Arguments are
    those of :func:`app.engine.max_pool_backward` / ``avg_pool_backward`` with ``kind``."""

    def __init__(self, x, grad_output, kind: str, kernel_size, *, stride=None, padding=0,
                 dilation=1, ceil_mode=False, count_include_pad=True) -> None:
        (self.x, self.geometry), self.grad_output = _prepare_backward(
            x, grad_output, kind, kernel_size, stride, padding, dilation, ceil_mode,
            count_include_pad)
        self._init_taps()
        #: the shape of the gradient the steps add up to: the input's, batched
        self.result_shape = self.geometry.input_shape

    @_quiet
    def steps(self, start: int = 0, count: int | None = None) -> PoolBackwardSteps:
        """Steps ``start .. start + count - 1`` (to the end when ``count`` is None)."""
        index, position, padding, outside, inputs, real, padded = self._cells(start, count)
        delta = self.grad_output[tuple(index.T)]
        winner = self._winners(inputs, real)
        if self.geometry.kind == "max":
            reaches = np.zeros_like(real)
            has = winner >= 0
            reaches[np.flatnonzero(has), winner[has]] = True
            shares = np.where(reaches, delta[:, None], 0).astype(self.x.dtype)
        else:
            counted = padded if self.geometry.count_include_pad else real
            share = delta / counted.sum(axis=1)
            shares = np.where(counted, share[:, None], 0).astype(self.x.dtype)
            reaches = real
        return PoolBackwardSteps(index=index, delta=delta, position=position, padding=padding,
                                 outside=outside, winner=winner, shares=shares,
                                 reaches=reaches)


def replay(trace: PoolTrace | PoolBackwardTrace) -> np.ndarray:
    """Rebuild the whole result by playing every step: the output for a forward trace
    (each step writes its value), dL/dx for a backward one (each step adds its shares where
    they reach); unbatched when the input was."""
    steps = trace.steps()
    geom = trace.geometry
    if isinstance(trace, PoolTrace):
        result = np.zeros(trace.shape, dtype=trace.x.dtype)
        result[tuple(steps.index.T)] = steps.value
    else:
        result = np.zeros(trace.result_shape, dtype=trace.x.dtype)
        step, term = np.nonzero(steps.reaches)
        where = (steps.index[step, 0], steps.index[step, 1],
                 *np.moveaxis(steps.position[step, term], -1, 0))
        np.add.at(result, where, steps.shares[step, term])
    return result if geom.batched else result[0]
