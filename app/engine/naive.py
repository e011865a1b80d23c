"""The definition, as plain loops: the test oracle for the vectorised engine.

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

import numpy as np

from .arrays import prepare, prepare_backward
from .geometry import Geometry, source_index
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
