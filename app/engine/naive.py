"""The definition, as plain loops: the test oracle for the vectorised engine.

Every output element is a sum over the input channels of its group and every kernel tap:

    y[n, co, *o] = bias[co] + sum_{c, *k} w[co, c, *k'] * x_padded[n, g*C_in_g + c, *(o*S + k*D)]

with ``k' = k`` for cross-correlation and ``k' = K - 1 - k`` (the flipped kernel) for true
convolution, and ``g = co // C_out_g``. The backward pass is the same loop run in reverse: each
term ``w * x`` sends ``dy * x`` to the weight and ``dy * w`` to the input cell the padded value
was copied from (nowhere for zero padding).
"""

from __future__ import annotations

import itertools

import numpy as np

from .arrays import prepare, prepare_backward
from .geometry import Geometry, source_index
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
