"""The definitions, as plain loops: the test oracle for the vectorised engine (the
convolution here; pooling at the end).

Every output element is a sum over the input channels of its group and every kernel tap:

    y[n, co, *o] = bias[co] + sum_{c, *k} w[co, c, *k'] * x_padded[n, g*C_in_g + c, *(o*S + k*D)]

with ``k' = k`` for cross-correlation and ``k' = K - 1 - k`` (the flipped kernel) for true
convolution, and ``g = co // C_out_g``. The backward pass is the same loop run in reverse: each
term ``w * x`` sends ``dy * x`` to the weight and ``dy * w`` to the input cell the padded value
was copied from (nowhere for zero padding).

The transposed convolution is the same sum read the other way round: each input element
stamps the kernel into the output (:func:`conv_transpose_naive`),

    y[n, g*C_out_g + co, *(i*S + k*D - P)] += x[n, ci, *i] * w[ci, co, *k]

for the input channels ``ci`` of group ``g``, cells outside the output cropped.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..i18n import gettext
from .arrays import as_real_array, common_dtype, prepare, prepare_backward
from .errors import ShapeError
from .geometry import Geometry, source_index
from .pool_geometry import PoolGeometry, pool_plan
from .transposed import TransposedGeometry, prepare_transposed
from .types import Gradients


def taps(geom: Geometry, out_index: tuple[int, ...]):
    """Yield ``(c_local, k, k_weight, position, source)`` for every term of one output element.

    ``k`` indexes the sliding footprint, ``k_weight`` the weight element used there (flipped
    in convolution mode); ``position`` is the tap's coordinate relative to the unpadded input
    (negative or past the end inside padding) and ``source`` the input coordinate whose value
    it holds, or ``None`` for a zero-padding cell.
    """
    for c in range(geom.c_in_group):
        for k in itertools.product(*(range(kk) for kk in geom.kernel)):
            position = tuple(
                o * s + kk * d - b
                for o, kk, s, d, (b, _) in zip(out_index, k, geom.stride, geom.dilation,
                                               geom.padding, strict=True)
            )
            src = tuple(
                int(source_index(p, size, geom.padding_mode))
                for p, size in zip(position, geom.in_spatial, strict=True)
            )
            k_weight = tuple(kk - 1 - i for kk, i in zip(geom.kernel, k, strict=True)) \
                if geom.flip else k
            yield c, k, k_weight, position, (None if -1 in src else src)


def _output_indices(geom: Geometry):
    return itertools.product(range(geom.n), range(geom.c_out),
                             *(range(o) for o in geom.out_spatial))


def forward_naive(x, weight, bias=None, **params) -> np.ndarray:
    """Convolution by the definition; same arguments and result (shape and dtype) as
    :func:`app.engine.forward`."""
    x, w, b, geom = prepare(x, weight, bias, **params)
    y = np.zeros((geom.n, geom.c_out, *geom.out_spatial), dtype=x.dtype)
    for n, co, *o in _output_indices(geom):
        group = co // geom.c_out_group
        total = 0.0 if b is None else float(b[co])
        for c, _k, kw, _pos, src in taps(geom, tuple(o)):
            if src is not None:
                total += float(w[(co, c, *kw)]) * float(x[(n, group * geom.c_in_group + c,
                                                            *src)])
        y[(n, co, *o)] = total
    return y if geom.batched else y[0]


def backward_naive(x, weight, grad_output, **params) -> Gradients:
    """Gradients by running the definition's loop backwards (the chain rule, term by term);
    same arguments and results (shapes and dtype) as :func:`app.engine.backward`."""
    (x, w, _, geom), dy = prepare_backward(x, weight, grad_output, **params)
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    gb = np.zeros(geom.c_out, dtype=x.dtype)
    for n, co, *o in _output_indices(geom):
        group = co // geom.c_out_group
        delta = float(dy[(n, co, *o)])
        gb[co] += delta
        for c, _k, kw, _pos, src in taps(geom, tuple(o)):
            if src is None:
                continue
            channel = group * geom.c_in_group + c
            gw[(co, c, *kw)] += delta * float(x[(n, channel, *src)])
            gx[(n, channel, *src)] += delta * float(w[(co, c, *kw)])
    return Gradients(gx if geom.batched else gx[0], gw, gb)


# ----------------------------------------------------------------------------- transposed


def stamps(geom: TransposedGeometry, in_index: tuple[int, ...]):
    """Yield ``(k, position)`` for every tap of the kernel one input element stamps:
    ``position = i * S + k * D - P``, the output cell the tap lands on (negative, or past
    the output's end, where the padding crops it)."""
    for k in itertools.product(*(range(kk) for kk in geom.kernel)):
        yield k, tuple(i * s + kk * d - p for i, kk, s, d, p in zip(
            in_index, k, geom.stride, geom.dilation, geom.padding, strict=True))


def _inside(position: tuple[int, ...], geom: TransposedGeometry) -> bool:
    return all(0 <= t < o for t, o in zip(position, geom.out_spatial, strict=True))


def _input_indices(geom: TransposedGeometry):
    return itertools.product(range(geom.n), range(geom.c_in),
                             *(range(i) for i in geom.in_spatial))


def conv_transpose_naive(x, weight, bias=None, **params) -> np.ndarray:
    """Transposed convolution by the definition: every input element stamps the kernel of
    each output channel of its group, scaled by its value, into the output; same arguments
    and result (shape and dtype) as :func:`app.engine.conv_transpose`."""
    x, w, b, geom, _ = prepare_transposed(x, weight, bias, params)
    y = np.zeros((geom.n, geom.c_out, *geom.out_spatial), dtype=x.dtype)
    for n, ci, *i in _input_indices(geom):
        value = float(x[(n, ci, *i)])
        group = ci // geom.c_in_group
        for co in range(geom.c_out_group):
            for k, t in stamps(geom, tuple(i)):
                if _inside(t, geom):
                    y[(n, group * geom.c_out_group + co, *t)] += value * float(w[(ci, co, *k)])
    if b is not None:
        y += b.reshape(-1, *(1,) * geom.ndim)
    return y if geom.batched else y[0]


def conv_transpose_backward_naive(x, weight, grad_output, **params) -> Gradients:
    """Gradients by running the stamping loop backwards, term by term; same arguments and
    results as :func:`app.engine.conv_transpose_backward`."""
    x, w, _, geom, dy = prepare_transposed(x, weight, None, params, grad_output)
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    gb = dy.sum(axis=(0, *range(2, 2 + geom.ndim)))
    for n, ci, *i in _input_indices(geom):
        group = ci // geom.c_in_group
        for co in range(geom.c_out_group):
            for k, t in stamps(geom, tuple(i)):
                if _inside(t, geom):
                    delta = float(dy[(n, group * geom.c_out_group + co, *t)])
                    gx[(n, ci, *i)] += delta * float(w[(ci, co, *k)])
                    gw[(ci, co, *k)] += delta * float(x[(n, ci, *i)])
    return Gradients(gx if geom.batched else gx[0], gw, gb)
# ----------------------------------------------------------------------------- pooling


def pool_window(geom: PoolGeometry, out_index: tuple[int, ...]):
    """Yield ``(k, position, inside)`` for every tap of one pooling window, in window order
    (C order over the taps): ``position = o * stride + k * dilation - padding`` per axis,
    and where it lies — ``"input"``, ``"padding"`` or ``"outside"`` (past the padding, where
    a ``ceil_mode`` window may reach)."""
    for k in itertools.product(*(range(kk) for kk in geom.kernel)):
        position = tuple(o * s + kk * d - p for o, kk, s, d, p in zip(
            out_index, k, geom.stride, geom.dilation, geom.padding, strict=True))
        if all(0 <= q < size for q, size in zip(position, geom.in_spatial, strict=True)):
            inside = "input"
        elif all(-p <= q < size + p for q, size, p in zip(position, geom.in_spatial,
                                                           geom.padding, strict=True)):
            inside = "padding"
        else:
            inside = "outside"
        yield k, position, inside


def _pool_outputs(geom: PoolGeometry):
    return itertools.product(range(geom.n), range(geom.c), *map(range, geom.out_spatial))


def _pool_divisor(geom: PoolGeometry, o: tuple[int, ...]) -> int:
    """Average pooling's divisor: the window's cells in the padded input, or its input
    cells (count_include_pad False)."""
    counted = ("input", "padding") if geom.count_include_pad else ("input",)
    return sum(inside in counted for _k, _p, inside in pool_window(geom, o))


def _pool_arguments(x, kind, kernel_size, params) -> tuple[np.ndarray, PoolGeometry]:
    xa = as_real_array(x, "input")
    geom = pool_plan(xa.shape, kind, kernel_size, **params)
    return (xa if geom.batched else xa[None]), geom


def _pool_backward_arguments(x, grad_output, kind, kernel_size, params):
    dy = as_real_array(grad_output, "grad_output")
    xa, geom = _pool_arguments(x, kind, kernel_size, params)
    if dy.shape != geom.output_shape:
        raise ShapeError("grad_output", gettext(
            "grad_output must have the output's shape %(shape)s, got %(got)s")
            % {"shape": list(geom.output_shape), "got": list(dy.shape)})
    dtype = common_dtype(xa, dy)
    dy = dy.astype(dtype, copy=False)
    return xa.astype(dtype, copy=False), (dy if geom.batched else dy[None]), geom


def max_pool_naive(x, kernel_size, **params) -> np.ndarray:
    """Max pooling by the definition: the largest input cell of each window, the first one
    in window order winning a tie (padding is -inf: it never wins; a window of padding
    alone is -inf). Same arguments and result as :func:`app.engine.max_pool`."""
    xa, geom = _pool_arguments(x, "max", kernel_size, params)
    y = np.zeros((geom.n, geom.c, *geom.out_spatial), dtype=xa.dtype)
    for n, c, *o in _pool_outputs(geom):
        best = -math.inf
        for _k, position, inside in pool_window(geom, tuple(o)):
            if inside == "input" and float(xa[(n, c, *position)]) > best:
                best = float(xa[(n, c, *position)])
        y[(n, c, *o)] = best
    return y if geom.batched else y[0]


def avg_pool_naive(x, kernel_size, **params) -> np.ndarray:
    """Average pooling by the definition: the sum of each window's input cells (padding is
    zero) over its divisor. Same arguments and result as :func:`app.engine.avg_pool`."""
    xa, geom = _pool_arguments(x, "avg", kernel_size, params)
    y = np.zeros((geom.n, geom.c, *geom.out_spatial), dtype=xa.dtype)
    for n, c, *o in _pool_outputs(geom):
        total = sum(float(xa[(n, c, *position)]) for _k, position, inside
                    in pool_window(geom, tuple(o)) if inside == "input")
        y[(n, c, *o)] = total / _pool_divisor(geom, tuple(o))
    return y if geom.batched else y[0]


def max_pool_backward_naive(x, grad_output, kernel_size, **params) -> np.ndarray:
    """Each window's δ to its first maximum in window order (nowhere for a window of
    padding alone). Same arguments and result as :func:`app.engine.max_pool_backward`."""
    xa, dy, geom = _pool_backward_arguments(x, grad_output, "max", kernel_size, params)
    gx = np.zeros_like(xa)
    for n, c, *o in _pool_outputs(geom):
        best, winner = -math.inf, None
        for _k, position, inside in pool_window(geom, tuple(o)):
            if inside == "input" and float(xa[(n, c, *position)]) > best:
                best, winner = float(xa[(n, c, *position)]), position
        if winner is not None:
            gx[(n, c, *winner)] += dy[(n, c, *o)]
    return gx if geom.batched else gx[0]


def avg_pool_backward_naive(x, grad_output, kernel_size, **params) -> np.ndarray:
    """Each window's δ / divisor to every input cell of the window. Same arguments and
    result as :func:`app.engine.avg_pool_backward`."""
    xa, dy, geom = _pool_backward_arguments(x, grad_output, "avg", kernel_size, params)
    gx = np.zeros_like(xa)
    for n, c, *o in _pool_outputs(geom):
        share = float(dy[(n, c, *o)]) / _pool_divisor(geom, tuple(o))
        for _k, position, inside in pool_window(geom, tuple(o)):
            if inside == "input":
                gx[(n, c, *position)] += share
    return gx if geom.batched else gx[0]


# ----------------------------------------------------------------------------- layers


def relu_naive(x) -> np.ndarray:
    """``max(x, 0)``, one element at a time."""
    xa = as_real_array(x, "input")
    y = np.zeros_like(xa)
    for index in np.ndindex(xa.shape):
        y[index] = xa[index] if xa[index] > 0 else 0.0
    return y


def linear_naive(x, weight, bias=None) -> np.ndarray:
    """``y[n, o] = b[o] + Σ_i w[o, i] x[n, i]``, term by term (x (N, F_in) or (F_in,))."""
    xa, wa = as_real_array(x, "input"), as_real_array(weight, "weight")
    ba = None if bias is None else as_real_array(bias, "bias")
    rows = xa.reshape(-1, xa.shape[-1])
    y = np.zeros((len(rows), wa.shape[0]), dtype=common_dtype(xa, wa, ba))
    for n, o in itertools.product(range(len(rows)), range(wa.shape[0])):
        total = 0.0 if ba is None else float(ba[o])
        for i in range(wa.shape[1]):
            total += float(wa[o, i]) * float(rows[n, i])
        y[n, o] = total
    return y.reshape(*xa.shape[:-1], wa.shape[0])


def softmax_cross_entropy_naive(logits, labels) -> tuple[float, np.ndarray]:
    """``L = mean_n(-log p_n[y_n])`` with ``p_n = softmax(z_n)``, and ``∂L/∂z_nk =
    (p_nk - [k = y_n]) / N``, written out with ``math``: ``log Σ_k exp(z_nk)`` computed
    as ``m + log Σ_k exp(z_nk - m)``, ``m`` the row's max, which is the same number."""
    z = as_real_array(logits, "logits")
    n, classes = z.shape
    grad = np.zeros_like(z)
    total = 0.0
    for row in range(n):
        m = max(float(v) for v in z[row])
        denominator = math.fsum(math.exp(float(v) - m) for v in z[row])
        label = int(labels[row])
        total += m + math.log(denominator) - float(z[row, label])
        for k in range(classes):
            p = math.exp(float(z[row, k]) - m) / denominator
            grad[row, k] = (p - (k == label)) / n
    return total / n, grad
