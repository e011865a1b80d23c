"""Step records for the animations, built from the definition (see :mod:`app.engine.naive`).

A trace is a sequence of steps, each producing one number of a result: one output element
(forward), one kernel-weight gradient, one input gradient or one bias gradient (backward).
Each step carries the terms that make its number: the two factors of every product, where
they come from, the products and their sum. A window of steps ``[start, start + count)`` is
computed on its own, in O(count x terms): step *i* never needs steps before it.

Coordinates: a *position* counts from the first real input element along each spatial axis,
so padding cells have negative positions or positions ``>= size``; the *source* of a
position is the input element whose value it holds (``-1`` on every axis for zero padding).
Step order is C order over the result's shape (batched: ``(N, C, *spatial)``). An empty
batch (N = 0) makes forward and input-gradient traces of no steps, whose one window
(``steps()``, start 0) is empty, and weight and bias steps of no terms, each a zero.
Values have the dtype :func:`app.engine.forward` and :func:`app.engine.backward` return for
the same arrays (float32 only when every array is float32, else float64).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from ..i18n import gettext
from .arrays import prepare, prepare_backward
from .errors import ParameterError
from .geometry import Geometry, positions_holding, source_index

Part = Literal["weight", "input", "bias"]
PARTS: tuple[str, ...] = ("weight", "input", "bias")


def _quiet(method):
    """Steps are shown to people: a product or a sum too large for its dtype is ``inf`` (an
    undefined one ``nan``), as IEEE 754 says, without NumPy's warning. Pages spell it out;
    the API refuses it by name."""
    @functools.wraps(method)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return method(*args, **kwargs)
    return quiet


def result_shape(geom: Geometry, part: str) -> tuple[int, ...]:
    """The shape of what a trace part computes, one step per element (batched): the output
    for ``"forward"``, else the gradient of the weight, the input or the bias."""
    return {
        "forward": (geom.n, geom.c_out, *geom.out_spatial),
        "weight": geom.weight_shape,
        "input": (geom.n, geom.c_in, *geom.in_spatial),
        "bias": (geom.c_out,),
    }[part]


def _flip(k: np.ndarray, geom: Geometry) -> np.ndarray:
    """Kernel indices as the weight array stores them: reversed in convolution mode."""
    return np.asarray(geom.kernel) - 1 - k if geom.flip else k


def _window(start: int, count: int | None, total: int) -> np.ndarray:
    """The step numbers of a window. A trace of an empty result (a batch of N = 0) has no
    steps: its only window is the empty one at start 0."""
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise ParameterError("start", gettext("%(field)s must be a non-negative integer, got "
                                              "%(value)s") % {"field": "start",
                                                              "value": repr(start)})
    if total == 0 and start > 0:
        raise ParameterError(
            "start", gettext("start must be 0 for a trace with no steps (an empty batch), got "
                             "%(value)s") % {"value": start}
        )
    if start >= total > 0:
        raise ParameterError(
            "start", gettext("start must be below the number of steps (%(total)s), got "
                             "%(value)s") % {"total": total, "value": start}
        )
    if count is None:
        return np.arange(start, total)
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise ParameterError("count", gettext("count must be a positive integer, got "
                                              "%(value)s") % {"value": repr(count)})
    return np.arange(start, min(total, start + count))


def _one_step(trace: ForwardTrace | BackwardTrace, i: int):
    if len(trace) == 0:
        raise ParameterError("start", gettext("there is no step %(step)s: this trace has no "
                                              "steps (its result, shape %(shape)s, is empty)")
                             % {"step": repr(i), "shape": list(trace.shape)})
    return trace.steps(i, 1).one(0)


def _c_order(shape: tuple[int, ...]) -> np.ndarray:
    """Every index of an array of ``shape``, in C order: shape (prod(shape), len(shape))."""
    return np.stack(np.unravel_index(np.arange(math.prod(shape)), shape), -1)


def _sources(position: np.ndarray, geom: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Sources of positions (..., d) and a mask of zero-padding cells (...)."""
    src = np.stack(
        [source_index(position[..., a], size, geom.padding_mode)
         for a, size in enumerate(geom.in_spatial)], axis=-1,
    )
    zero = (src < 0).any(axis=-1)
    src[zero] = -1
    return src, zero


def _in_padding(position: np.ndarray, geom: Geometry) -> np.ndarray:
    return ((position < 0) | (position >= np.asarray(geom.in_spatial))).any(axis=-1)


class _Steps:
    """A window of steps: every field is an array whose first axis is the step."""

    def __len__(self) -> int:
        return len(self.index)

    def one(self, j: int):
        """The ``j``-th step of the window alone, as a record of the same type."""
        return dataclasses.replace(self, **{
            f.name: getattr(self, f.name)[j] for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray) and f.name not in self._shared
        })

    _shared: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForwardSteps(_Steps):
    """Forward steps: one output element each, ``T = C_in/groups * prod(kernel)`` terms.

    Terms run in C order over ``(c, *k)``: input channel within the group, then the
    footprint index along each axis.

    index : (count, 2 + d) int, the output element ``(n, c_out, *o)``
    channel : (count, T) int, input channel of each term
    position, source : (count, T, d) int, the input cell each term reads (see module doc)
    padding : (count, T) bool, the term reads a padding cell
    kernel_index : (count, T, d) int, weight element used (flipped in convolution mode)
    inputs, weights, products : (count, T) the factors and their products
    total : (count,) sum of the products; bias : (count,); value : (count,) total + bias
    """

    index: np.ndarray
    channel: np.ndarray
    position: np.ndarray
    source: np.ndarray
    padding: np.ndarray
    kernel_index: np.ndarray
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: np.ndarray
    bias: np.ndarray
    value: np.ndarray


class ForwardTrace:
    """The forward pass, one step per output element.

    Arguments are those of :func:`app.engine.forward`; they are checked once, here.
    """

    def __init__(self, x, weight, bias=None, **params) -> None:
        self.x, self.weight, self.bias, self.geometry = prepare(x, weight, bias, **params)
        geom = self.geometry
        self.shape = result_shape(geom, "forward")
        taps = _c_order((geom.c_in_group, *geom.kernel))
        #: per term: the input channel within the group, and the footprint index
        self.tap_channel, self._tap_k = taps[:, 0], taps[:, 1:]
        #: per term: the weight element used (the footprint index, flipped in convolution mode)
        self.tap_kernel_index = _flip(self._tap_k, geom)

    def __len__(self) -> int:
        return math.prod(self.shape)

    @_quiet
    def steps(self, start: int = 0, count: int | None = None) -> ForwardSteps:
        """Steps ``start .. start + count - 1`` (to the end when ``count`` is None)."""
        geom = self.geometry
        index = np.stack(np.unravel_index(_window(start, count, len(self)), self.shape), -1)
        n, co, o = index[:, 0], index[:, 1], index[:, 2:]
        stride, dilation = np.asarray(geom.stride), np.asarray(geom.dilation)
        before = np.asarray([b for b, _ in geom.padding])
        position = o[:, None, :] * stride + self._tap_k[None] * dilation - before
        source, zero = _sources(position, geom)
        channel = (co // geom.c_out_group)[:, None] * geom.c_in_group + self.tap_channel[None]
        safe = np.where(source < 0, 0, source)
        inputs = self.x[(n[:, None], channel, *np.moveaxis(safe, -1, 0))]
        inputs = np.where(zero, 0, inputs).astype(self.x.dtype)
        kw = self.tap_kernel_index
        weights = self.weight[(co[:, None], self.tap_channel[None], *kw.T[:, None, :])]
        products = inputs * weights
        total = products.sum(axis=1)
        bias = np.zeros_like(total) if self.bias is None else self.bias[co]
        count_ = len(index)
        return ForwardSteps(
            index=index, channel=channel, position=position, source=source,
            padding=_in_padding(position, geom),
            kernel_index=np.broadcast_to(kw, (count_, *kw.shape)),
            inputs=inputs, weights=weights, products=products, total=total, bias=bias,
            value=total + bias,
        )

    def step(self, i: int) -> ForwardSteps:
        """Step ``i`` alone (its arrays without the leading step axis)."""
        return _one_step(self, i)


@dataclass(frozen=True)
class GradWeightSteps(_Steps):
    """dL/dw steps: one weight element each; ``T = N * prod(out)`` terms, C order over
    ``(n, *o)`` (every output position the weight touched), the lesson's
    ``dL/dw1 = d1*x1 + d2*x2 + d3*x3``.

    index : (count, 2 + d) int, the weight element ``(c_out, c_in_local, *k)``
    channel : (count,) int, the absolute input channel the weight reads
    out_index : (T, 1 + d) int, ``(n, *o)`` of each term (the same for every step)
    position, source : (count, T, d) int; padding : (count, T) bool — the input cell of each term
    deltas, inputs, products : (count, T); total, value : (count,) the gradient
    """

    index: np.ndarray
    channel: np.ndarray
    out_index: np.ndarray
    position: np.ndarray
    source: np.ndarray
    padding: np.ndarray
    deltas: np.ndarray
    inputs: np.ndarray
    products: np.ndarray
    total: np.ndarray
    value: np.ndarray
    _shared = ("out_index",)


@dataclass(frozen=True)
class GradBiasSteps(_Steps):
    """dL/db steps: one output channel each, the sum of its deltas over ``(n, *o)``.

    index : (count, 1) int; out_index : (T, 1 + d) int; deltas : (count, T);
    total, value : (count,)
    """

    index: np.ndarray
    out_index: np.ndarray
    deltas: np.ndarray
    total: np.ndarray
    value: np.ndarray
    _shared = ("out_index",)


@dataclass(frozen=True)
class GradInputSteps(_Steps):
    """dL/dx steps: one input element each, a variable number of terms (ragged, CSR).

    The terms of step ``j`` are ``offsets[j]:offsets[j + 1]`` of the term arrays. Each term is
    one ``delta * weight`` reaching the input element: the full convolution of the deltas
    (dilated by the stride) with the flipped kernel.

    index : (count, 2 + d) int, the input element ``(n, c_in, *i)``
    offsets : (count + 1,) int
    out_channel : (terms,) int; out_position : (terms, d) int, the output (delta) of each term
    kernel_index : (terms, d) int, the weight element multiplied (as the weight stores it)
    via : (terms, d) int, the position the gradient arrives at: the element itself, or a
        padding cell that copies it (reflect/replicate/circular), from where it hops back
    deltas, weights, products : (terms,); total, value : (count,)
    """

    index: np.ndarray
    offsets: np.ndarray
    out_channel: np.ndarray
    out_position: np.ndarray
    kernel_index: np.ndarray
    via: np.ndarray
    deltas: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: np.ndarray
    value: np.ndarray

    def one(self, j: int) -> GradInputSteps:
        lo, hi = int(self.offsets[j]), int(self.offsets[j + 1])
        terms = {f: getattr(self, f)[lo:hi] for f in (
            "out_channel", "out_position", "kernel_index", "via", "deltas", "weights",
            "products")}
        return GradInputSteps(
            index=self.index[j], offsets=np.array([0, hi - lo]), total=self.total[j],
            value=self.value[j], **terms,
        )


class BackwardTrace:
    """One part of the backward pass (``"weight"``, ``"input"`` or ``"bias"``), one step per
    element of that gradient. Arguments are those of :func:`app.engine.backward`.
    """

    def __init__(self, x, weight, grad_output, part: Part = "weight", **params) -> None:
        if part not in PARTS:
            raise ParameterError(
                "part", gettext("part must be one of %(choices)s, got %(value)s")
                % {"choices": ", ".join(map(repr, PARTS)), "value": repr(part)}
            )
        (self.x, self.weight, _, self.geometry), self.grad_output = prepare_backward(
            x, weight, grad_output, **params
        )
        self.part = part
        self.shape = result_shape(self.geometry, part)

    def __len__(self) -> int:
        return math.prod(self.shape)

    @_quiet
    def steps(self, start: int = 0, count: int | None = None):
        """Steps ``start .. start + count - 1`` (to the end when ``count`` is None)."""
        flat = _window(start, count, len(self))
        index = np.stack(np.unravel_index(flat, self.shape), -1)
        return {"weight": self._weight_steps, "input": self._input_steps,
                "bias": self._bias_steps}[self.part](index)

    def step(self, i: int):
        """Step ``i`` alone (its arrays without the leading step axis)."""
        return _one_step(self, i)

    @cached_property
    def out_index(self) -> np.ndarray:
        """Per term of a weight or bias step: the output position ``(n, *o)`` it comes from,
        shape (N * prod(out), 1 + d). Made when first asked for: an input step needs none."""
        geom = self.geometry
        return _c_order((geom.n, *geom.out_spatial))

    def _deltas(self, co: np.ndarray) -> np.ndarray:
        """(count, T) deltas of output channels ``co`` at every ``(n, *o)``."""
        n, o = self.out_index[:, 0], self.out_index[:, 1:]
        return self.grad_output[(n[None], co[:, None], *o.T[:, None, :])]

    def _bias_steps(self, index: np.ndarray) -> GradBiasSteps:
        deltas = self._deltas(index[:, 0])
        total = deltas.sum(axis=1)
        return GradBiasSteps(index=index, out_index=self.out_index, deltas=deltas,
                             total=total, value=total)

    def _weight_steps(self, index: np.ndarray) -> GradWeightSteps:
        geom = self.geometry
        co, c_local, kw = index[:, 0], index[:, 1], index[:, 2:]
        k = _flip(kw, geom)  # footprint index of this weight as the kernel slides
        channel = (co // geom.c_out_group) * geom.c_in_group + c_local
        n, o = self.out_index[:, 0], self.out_index[:, 1:]
        before = np.asarray([b for b, _ in geom.padding])
        position = (o[None] * np.asarray(geom.stride) + k[:, None, :] * np.asarray(geom.dilation)
                    - before)
        source, zero = _sources(position, geom)
        safe = np.where(source < 0, 0, source)
        inputs = self.x[(n[None], channel[:, None], *np.moveaxis(safe, -1, 0))]
        inputs = np.where(zero, 0, inputs).astype(self.x.dtype)
        deltas = self._deltas(co)
        products = deltas * inputs
        total = products.sum(axis=1)
        return GradWeightSteps(
            index=index, channel=channel, out_index=self.out_index, position=position,
            source=source, padding=_in_padding(position, geom), deltas=deltas, inputs=inputs,
            products=products, total=total, value=total,
        )

    def _input_steps(self, index: np.ndarray) -> GradInputSteps:
        """Input steps for the elements ``index`` (count, 2 + d), vectorised over the window.

        Along each axis the terms of every distinct index are found once
        (:func:`axis_terms`); a step's terms are then the product of its axes' terms and its
        group's output channels, laid out in C order over (output channel, axis 1, ...,
        axis d) with mixed-radix arithmetic on the term numbers.
        """
        geom, d = self.geometry, self.geometry.ndim
        steps = len(index)
        tables = []  # per axis: (terms' o, k, via), and each step's first term and count
        for a in range(d):
            distinct, which = np.unique(index[:, 2 + a], return_inverse=True)
            owner, o, k, via = axis_terms(geom, a, distinct)
            counts = np.bincount(owner, minlength=len(distinct))
            firsts = np.cumsum(counts) - counts
            tables.append(((o, k, via), firsts[which], counts[which]))
        sizes = np.stack([geom.c_out_group * np.ones(steps, np.int64)]
                         + [t[2] for t in tables], -1)  # (steps, 1 + d) digits' radices
        per_step = sizes.prod(axis=1)
        offsets = np.concatenate([[0], np.cumsum(per_step)]).astype(np.intp)
        owner = np.repeat(np.arange(steps), per_step)
        local = np.arange(offsets[-1]) - offsets[:-1][owner]
        # place value of each digit: the product of the radices after it
        places = np.cumprod(sizes[:, ::-1], axis=1)[:, ::-1]
        places = np.concatenate([places[:, 1:], np.ones((steps, 1), np.int64)], axis=1)
        digits = local[:, None] // places[owner] % sizes[owner]
        group = index[:, 1] // geom.c_in_group
        co = (group[owner] * geom.c_out_group + digits[:, 0]).astype(np.intp)
        picked = [t[1][owner] + digits[:, 1 + a] for a, t in enumerate(tables)]
        o, k, via = (np.stack([t[0][j][p] for t, p in zip(tables, picked, strict=True)], -1)
                     .reshape(-1, d).astype(np.intp) for j in range(3))
        kw = _flip(k, geom)
        n, c_local = index[owner, 0], index[owner, 1] % geom.c_in_group
        deltas = self.grad_output[(n, co, *o.T)]
        weights = self.weight[(co, c_local, *kw.T)]
        products = deltas * weights
        # a step with no terms (an input cell no window reads) sums to zero
        total = np.bincount(owner, weights=products, minlength=steps).astype(self.x.dtype)
        return GradInputSteps(
            index=index, offsets=offsets, out_channel=co, out_position=o, kernel_index=kw,
            via=via, deltas=deltas, weights=weights, products=products, total=total,
            value=total,
        )


def axis_terms(geom: Geometry, axis: int, index: np.ndarray) -> tuple[np.ndarray, ...]:
    """Along one spatial axis, every ``(o, k, via)`` by which each input element ``index``
    (a 1-D int array) meets the deltas: output position ``o`` reads, with tap ``k``, the
    padded position ``via`` holding the element (``o * stride + k * dilation - before ==
    via``).

    Returns ``(owner, o, k, via)``, 1-D int arrays, term ``t`` belonging to
    ``index[owner[t]]``, sorted by owner, then via, then k. Costs O(runs x taps + terms): the
    positions holding an element come as runs (:func:`~app.engine.geometry.
    positions_holding`), and each tap's outputs over a run are an arithmetic range.
    """
    size, (before, after) = geom.in_spatial[axis], geom.padding[axis]
    stride, dilation = geom.stride[axis], geom.dilation[axis]
    out = geom.out_spatial[axis]
    owner, start, stop = positions_holding(index, size, before, after, geom.padding_mode)
    k = np.arange(geom.kernel[axis])
    # o * stride = via + before - k * dilation, for via in [start, stop): a range of o per
    # run and tap
    shift = before - k[None, :] * dilation
    first = np.maximum(-(-(start[:, None] + shift) // stride), 0)
    last = np.minimum((stop[:, None] - 1 + shift) // stride, out - 1)
    runs = np.maximum(last - first + 1, 0).ravel()
    which = np.repeat(np.arange(runs.size), runs)
    o = first.ravel()[which] + np.arange(which.size) - (np.cumsum(runs) - runs)[which]
    taps = np.tile(k, len(owner))[which]
    via = o * stride + taps * dilation - before
    owner = np.repeat(owner, len(k))[which]
    order = np.lexsort((taps, via, owner))
    return owner[order], o[order], taps[order], via[order]


def replay(trace: ForwardTrace | BackwardTrace) -> np.ndarray:
    """Rebuild the whole result by playing every step: the output for a forward trace, the
    gradient for a backward one (unbatched when the input was)."""
    steps = trace.steps()
    result = np.zeros(trace.shape, dtype=trace.x.dtype)
    result[tuple(steps.index.T)] = steps.value
    drop_batch = not trace.geometry.batched and (
        isinstance(trace, ForwardTrace) or trace.part == "input"
    )
    return result[0] if drop_batch else result
