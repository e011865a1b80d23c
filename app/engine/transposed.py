"""Transposed convolution: geometry, validation, and the vectorised forward and backward.

Conventions are PyTorch's (``torch.nn.functional.conv_transpose1d/2d/3d``), for any number of
spatial dimensions ``d >= 1``:

- input ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)`` (the batch may be empty);
- weight ``(C_in, C_out / groups, *kernel)``; bias ``(C_out,)``;
- every input element stamps the kernel, scaled by its value, into the output; the stamps
  of neighbouring elements are ``stride`` cells apart and overlap where they meet:
  ``y[n, g*C_out_g + co, i*S + k*D - P] += x[n, ci, i] * w[ci, co, k]`` for input channel
  ``ci`` of group ``g``;
- ``padding`` crops ``P`` cells from both ends of every axis, ``output_padding`` gives back
  that many at the end (it must be smaller than the stride or the dilation, as PyTorch
  says), so the output size is
  ``O = (I - 1) * S - 2 * P + D * (K - 1) + output_padding + 1``.

That is exactly the input gradient of the convolution with the same weight and geometry
(which maps ``O`` cells back to ``I``), so the forward pass here *is*
:func:`app.engine.backward`'s input gradient, and the backward pass is that convolution's
forward pass and weight gradient: :class:`TransposedGeometry` holds the convolution
(``adjoint``) whose machinery does the work.
"""

from __future__ import annotations

import math

import numpy as np

from ..i18n import gettext
from .arrays import as_real_array, common_dtype, pad, unpad_grad, windows
from .backward import input_gradient
from .errors import ParameterError, ShapeError, describe
from .forward import all_finite, fill, is_float_array, schedule
from .geometry import (
    INTEGERS,
    Geometry,
    Grouped,
    _cache_key,
    _int_param,
    _one_or,
    _per_axis,
    axis_names,
    check_shapes,
    geometry_class,
    plan,
)
from .types import Gradients


@geometry_class
class TransposedGeometry(Grouped):
    """Everything about one transposed convolution that follows from shapes and parameters.

    ``padding`` and ``output_padding`` hold one int per spatial axis. ``adjoint`` is the
    convolution whose input gradient this is: its input is the output cut to the cells some
    stamp can reach (``reached``), padded ``(P, P - min(output_padding, P))``, and its output
    has the input's size. It is None when no stamp lands in the output on some axis (a
    padding that crops everything), where the output is the bias alone.
    """

    batched: bool
    n: int
    c_in: int
    c_out: int
    groups: int
    in_spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    out_spatial: tuple[int, ...]
    #: per axis, the output cells a stamp can reach: the first ``reached`` ones (the rest,
    #: given back by output_padding past what the padding cropped, stay zero)
    reached: tuple[int, ...]
    adjoint: Geometry | None

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.c_in, self.c_out_group, *self.kernel)

    @property
    def uncropped(self) -> tuple[int, ...]:
        """Per axis, the output before the padding crops it: ``(I - 1) * S + D * (K - 1) + 1``."""
        return tuple((i - 1) * s + d * (k - 1) + 1 for i, s, d, k in zip(
            self.in_spatial, self.stride, self.dilation, self.kernel, strict=True))

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the definition: every input element times every tap of
        the kernel of every output channel of its group."""
        return (self.n * self.c_in * math.prod(self.in_spatial) * self.c_out_group
                * math.prod(self.kernel))


def _output_padding(value: object, ndim: int, stride: tuple[int, ...],
                    dilation: tuple[int, ...]) -> tuple[int, ...]:
    values = _per_axis(value, ndim, "output_padding", 0)
    for axis, (op, s, d) in enumerate(zip(values, stride, dilation, strict=True)):
        if op >= s and op >= d:
            raise ParameterError(
                "output_padding",
                gettext("output_padding must be smaller than either stride or dilation: "
                        "spatial axis %(axis)s has output_padding %(output_padding)s, stride "
                        "%(stride)s, dilation %(dilation)s")
                % {"axis": axis, "output_padding": op, "stride": s, "dilation": d},
            )
    return values


def _padding(value: object, ndim: int) -> tuple[int, ...]:
    if isinstance(value, str) or (isinstance(value, tuple | list)
                                  and any(isinstance(p, tuple | list) for p in value)):
        raise ParameterError(
            "padding",
            gettext("padding of a transposed convolution must be an integer or a list of "
                    "%(count)s (cells cropped from both ends of each axis; PyTorch's "
                    "conv_transpose takes no names or (before, after) pairs), got %(value)s")
            % {"count": _one_or(ndim, *INTEGERS), "value": describe(value)},
        )
    return _per_axis(value, ndim, "padding", 0)


_PLANS: dict[tuple, TransposedGeometry] = {}
_PLANS_MAX = 512


def plan_transposed(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    bias_shape: tuple[int, ...] | None = None,
) -> TransposedGeometry:
    """Validate shapes and parameters of a transposed convolution and work out its geometry
    (cached for repeated calls).

    Raises a :class:`~app.engine.errors.ConvolutionError` subclass naming the argument at
    fault and what was expected.
    """
    params = [p.tolist() if isinstance(p, np.ndarray) else p
              for p in (stride, padding, output_padding, dilation, groups)]
    shapes = (tuple(input_shape), tuple(weight_shape),
              None if bias_shape is None else tuple(bias_shape))
    plain = all(type(d) is int for shape in shapes if shape is not None for d in shape)
    try:
        if not plain:
            key = None
        elif all(type(p) is int for p in params):  # the usual call, quickly
            key = (*shapes, *params)
        else:
            key = (*shapes, *map(_cache_key, params))
        cached = _PLANS.get(key)
    except TypeError:  # an unhashable parameter: validate it uncached
        key, cached = None, None
    if cached is not None:
        return cached
    geom = _plan(*shapes[:2], *params, shapes[2])
    if key is not None:
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = geom
    return geom


def _plan(input_shape, weight_shape, stride, padding, output_padding, dilation, groups,
          bias_shape) -> TransposedGeometry:
    batched = check_shapes(input_shape, weight_shape,
                           gettext("weight of a transposed convolution"),
                           "(C_in, C_out/groups, *kernel)")
    ndim = len(weight_shape) - 2
    n, c_in, *in_spatial = input_shape if batched else (1, *input_shape)
    w_in, c_out_group, *kernel = weight_shape

    groups_i = _int_param(groups, "groups")
    if groups_i < 1:
        raise ParameterError("groups", gettext("%(field)s must be positive, got %(value)s")
                             % {"field": "groups", "value": groups_i})
    if w_in != c_in:
        raise ShapeError(
            "weight",
            gettext("weight of a transposed convolution has one kernel per input channel "
                    "(its first dimension, %(w_in)s), input has %(c_in)s channels")
            % {"w_in": w_in, "c_in": c_in},
        )
    if c_in % groups_i:
        raise ParameterError(
            "groups", gettext("input channels (%(c_in)s) must be divisible by groups "
                              "(%(groups)s)") % {"c_in": c_in, "groups": groups_i}
        )
    c_out = c_out_group * groups_i
    if bias_shape is not None and bias_shape != (c_out,):
        raise ShapeError(
            "bias",
            gettext("bias must have shape [%(c_out)s] (one value per output channel: "
                    "weight's second dimension %(c_out_group)s x groups %(groups)s), got "
                    "shape %(shape)s")
            % {"c_out": c_out, "c_out_group": c_out_group, "groups": groups_i,
               "shape": list(bias_shape)},
        )

    stride_t = _per_axis(stride, ndim, "stride", 1)
    pad_t = _padding(padding, ndim)
    dilation_t = _per_axis(dilation, ndim, "dilation", 1)
    extra_t = _output_padding(output_padding, ndim, stride_t, dilation_t)

    out, reached = [], []
    for i, k, s, p, op, d in zip(in_spatial, kernel, stride_t, pad_t, extra_t, dilation_t,
                                 strict=True):
        full = (i - 1) * s + d * (k - 1) + 1
        out.append(full - 2 * p + op)
        reached.append(min(full - p, out[-1]))  # the last cell a stamp lands on, plus one
    if min(out) < 1:
        raise ShapeError(
            "padding",
            gettext("Output size is too small: input size %(size)s gives an output of "
                    "%(out)s (per axis (I - 1) x stride - 2 x padding + dilation x (K - 1) + "
                    "output_padding + 1); use less padding")
            % {"size": " x ".join(map(str, in_spatial)), "out": " x ".join(map(str, out))},
        )
    adjoint = None
    if min(reached) >= 1:
        adjoint = plan(
            (n, c_out, *reached), (c_in, c_out_group, *kernel), stride=stride_t,
            dilation=dilation_t, groups=groups_i,
            padding=[(p, p - min(op, p)) for p, op in zip(pad_t, extra_t, strict=True)],
        )
        assert adjoint.out_spatial == tuple(in_spatial), (adjoint, in_spatial)
    return TransposedGeometry(
        batched=batched, n=n, c_in=c_in, c_out=c_out, groups=groups_i,
        in_spatial=tuple(in_spatial), kernel=tuple(kernel), stride=stride_t, padding=pad_t,
        output_padding=extra_t, dilation=dilation_t, out_spatial=tuple(out),
        reached=tuple(reached), adjoint=adjoint,
    )


def conv_transpose_output_shape(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
) -> tuple[int, ...]:
    """Shape of ``conv_transpose(x, weight, ...)`` for ``x.shape == input_shape``.

    Per spatial axis ``O = (I - 1) * S - 2 * P + D * (K - 1) + output_padding + 1``; the
    result is unbatched, ``(C_out, *O)``, when the input shape is.
    """
    return plan_transposed(
        input_shape, weight_shape, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation, groups=groups,
    ).output_shape


def overlap_counts(geom: TransposedGeometry) -> np.ndarray:
    """How many stamps land on each output cell: the number of (input position, kernel tap)
    pairs with ``i * S + k * D - P == t``, shape ``out_spatial`` (int64). It is one count per
    pair of channels; a cell sums ``C_in / groups`` times as many products.

    Where the kernel size is not a multiple of the stride, neighbouring cells get different
    counts: the checkerboard of Odena et al. (2016).
    """
    counts = [axis_overlap(geom, a) for a in range(geom.ndim)]
    result = counts[0]
    for c in counts[1:]:
        result = np.multiply.outer(result, c)
    return result


def axis_overlap(geom: TransposedGeometry, axis: int) -> np.ndarray:
    """Along one spatial axis, how many (input position, tap) pairs reach each output cell."""
    t = np.arange(geom.out_spatial[axis])[:, None]
    k = np.arange(geom.kernel[axis])[None, :]
    shifted = t + geom.padding[axis] - k * geom.dilation[axis]  # i * S, if a stamp lands
    s = geom.stride[axis]
    lands = (shifted % s == 0) & (shifted >= 0) & (shifted < geom.in_spatial[axis] * s)
    return lands.sum(axis=1)


# ----------------------------------------------------------------------------- arguments


def _array(value: object, field: str) -> np.ndarray:
    if is_float_array(value) and all_finite(value):  # the usual call: nothing to convert
        return value  # type: ignore[return-value]
    return as_real_array(value, field)


def prepare_transposed(x, weight, bias, params: dict, grad_output=None):
    """Checked arrays (values first, then shapes, as :func:`~app.engine.arrays.prepare`)
    in their common dtype, ``x`` (and ``grad_output``) with a batch axis, and the geometry.

    Returns ``(x, weight, bias, geometry, grad_output)``; bias and grad_output may be None.
    """
    xa, wa = _array(x, "input"), _array(weight, "weight")
    ba = None if bias is None else _array(bias, "bias")
    dy = None if grad_output is None else _array(grad_output, "grad_output")
    geom = plan_transposed(xa.shape, wa.shape, **params,
                           bias_shape=None if ba is None else ba.shape)
    if dy is not None and dy.shape != geom.output_shape:
        raise ShapeError(
            "grad_output",
            gettext("grad_output must have the output's shape %(shape)s, got %(got)s")
            % {"shape": list(geom.output_shape), "got": list(dy.shape)},
        )
    dtype = common_dtype(xa, wa, ba, dy)
    xa, wa = xa.astype(dtype, copy=False), wa.astype(dtype, copy=False)
    if ba is not None:
        ba = ba.astype(dtype, copy=False)
    if dy is not None:
        dy = dy.astype(dtype, copy=False)
    if not geom.batched:
        xa = xa[None]
        dy = None if dy is None else dy[None]
    return xa, wa, ba, geom, dy


# ----------------------------------------------------------------------------- forward


def conv_transpose(
    x,
    weight,
    bias=None,
    *,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    groups=1,
) -> np.ndarray:
    """N-D transposed convolution with PyTorch's semantics
    (``torch.nn.functional.conv_transpose{1,2,3}d``).

    x : array_like, shape (N, C_in, *spatial) or unbatched (C_in, *spatial)
    weight : array_like, shape (C_in, C_out / groups, *kernel)
    bias : array_like, shape (C_out,), or None
    stride, padding, output_padding, dilation : int or one int per spatial dimension (a list
        of one: that value on every dimension); padding crops that many cells from both
        ends of every axis, output_padding gives back that many at the end and must be
        smaller than the stride or the dilation
    groups : divides C_in; C_out = weight's second dimension x groups

    Returns the output, shape (N, C_out, *out) or (C_out, *out) for an unbatched input, with
    ``out = (I - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1``.

    dtypes follow :func:`app.engine.forward`'s rule: float32 when x, weight and bias (if
    any) are all float32 ndarrays, else float64.
    """
    params = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "dilation": dilation, "groups": groups}
    x, w, b, geom, _ = prepare_transposed(x, weight, bias, params)
    y = stamp(x, w, geom)
    if b is not None:
        y += b.reshape(-1, *(1,) * geom.ndim)
    return y if geom.batched else y[0]


def stamp(x: np.ndarray, w: np.ndarray, geom: TransposedGeometry) -> np.ndarray:
    """Every input element's stamp, summed: the adjoint convolution's input gradient with
    ``x`` as its deltas, the padding cropped off (and zeros past what any stamp reaches).

    x : ndarray, shape (N, C_in, *spatial); w : ndarray, shape (C_in, C_out / groups, *K)
    Returns a new array, shape (N, C_out, *out).
    """
    shape = (geom.n, geom.c_out, *geom.out_spatial)
    conv = geom.adjoint
    if conv is None:
        return np.zeros(shape, dtype=x.dtype)
    y = unpad_grad(input_gradient(x, w, conv), conv)  # (N, C_out, *reached)
    if geom.reached != geom.out_spatial:
        full = np.zeros(shape, dtype=x.dtype)
        full[(Ellipsis, *(slice(0, r) for r in geom.reached))] = y
        return full
    return np.ascontiguousarray(y)


# ----------------------------------------------------------------------------- backward


def conv_transpose_backward(
    x,
    weight,
    grad_output,
    *,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    groups=1,
) -> Gradients:
    """Gradients of a loss L through ``y = conv_transpose(x, weight, bias, ...)``, given dL/dy.

    x : array_like, shape (N, C_in, *spatial) or unbatched (C_in, *spatial)
    weight : array_like, shape (C_in, C_out / groups, *kernel)
    grad_output : array_like, dL/dy, the output's shape

    Returns ``Gradients(grad_input, grad_weight, grad_bias)``:

    - grad_input: dL/dx, the deltas *convolved* with the kernel (a plain strided
      convolution: each input element's stamp, read back);
    - grad_weight: dL/dw, shape (C_in, C_out / groups, *kernel): each tap collects the
      deltas under it times the input element that stamped it;
    - grad_bias: dL/db, the deltas summed per output channel.

    The other parameters mean what they mean in :func:`conv_transpose`; dtypes follow
    :func:`app.engine.backward`'s rule (float32 when x, weight and grad_output are all
    float32 ndarrays).
    """
    params = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "dilation": dilation, "groups": groups}
    x, w, _, geom, dy = prepare_transposed(x, weight, None, params, grad_output)
    grad_b = np.add.reduce(dy, axis=(0, *range(2, 2 + geom.ndim)))
    conv = geom.adjoint
    if conv is None:  # no stamp reaches the output: nothing flows back
        grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
    else:
        reached = dy[(Ellipsis, *(slice(0, r) for r in geom.reached))]
        grad_x, grad_w = correlate_and_weight_gradient(pad(reached, conv), x, w, conv)
    return Gradients(grad_x if geom.batched else grad_x[0], grad_w, grad_b)


def correlate_and_weight_gradient(xp: np.ndarray, dy: np.ndarray, w: np.ndarray,
                                  geom: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """The convolution ``geom`` of padded ``xp`` and its weight gradient for deltas ``dy``,
    in one pass over the im2col blocks (each block is filled once and used twice).

    xp : ndarray, shape (N, C_in, *padded); dy : ndarray, shape (N, C_out, *out)
    w : ndarray, shape (C_out, C_in / groups, *kernel)
    Returns ``(y, grad_w)``: y shape (N, C_out, *out), grad_w the weight's shape.

    For a transposed convolution ``geom`` is its adjoint: ``xp`` holds dL/dy, ``dy`` the
    input, ``y`` is dL/dx and grad_w dL/dw.
    """
    sched = schedule(geom)
    wmat = w.reshape(sched.weight_matrix)
    y = np.empty(sched.output, dtype=xp.dtype)
    ymat = y.reshape(sched.output_matrix)
    dymat = np.ascontiguousarray(dy).reshape(sched.output_matrix)
    cols = windows(xp, geom, kernel_first=True)
    work = np.empty(sched.workspace, dtype=xp.dtype)
    grad_w_t = None  # (groups, taps, C_out_g)
    for block in sched.blocks:
        mat = fill(work, cols, block)
        np.matmul(wmat, mat, out=ymat[block.output])
        part = np.matmul(mat, dymat[block.output].swapaxes(2, 3))
        part = part[0] if part.shape[0] == 1 else part.sum(axis=0)
        if grad_w_t is None:
            grad_w_t = part
        else:
            grad_w_t += part
    if grad_w_t is None:  # an empty batch: nothing reached the weight
        return y, np.zeros(w.shape, dtype=xp.dtype)
    return y, np.ascontiguousarray(grad_w_t.swapaxes(1, 2)).reshape(w.shape)


def transposed_size_formulas(
    in_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
) -> list[str]:
    """The output-size formula of every spatial axis of a transposed convolution with its
    numbers filled in, ``O = (I − 1)·S − P_before − P_after + D·(K − 1) + output_padding + 1``
    (the padding crops ``P`` cells from both ends, so P_before = P_after = P), e.g.
    ``O_H = (2 − 1)×2 − 1 − 1 + 1×(3 − 1) + 1 + 1 = 4``.

    Parameters are checked as :func:`plan_transposed` checks them (a :class:`ParameterError`
    names the bad one), sizes are not: an axis left with no output says so instead.
    """
    ndim = len(kernel)
    stride_t = _per_axis(stride, ndim, "stride", 1)
    dilation_t = _per_axis(dilation, ndim, "dilation", 1)
    pad_t = _padding(padding, ndim)
    extra_t = _per_axis(output_padding, ndim, "output_padding", 0)
    lines = []
    for name, i, k, s, p, op, d in zip(axis_names(ndim), in_spatial, kernel, stride_t, pad_t,
                                       extra_t, dilation_t, strict=True):
        o = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
        result = str(o) if o >= 1 else f"{o}: no output, the padding crops every cell"
        lines.append(f"O_{name} = ({i} − 1)×{s} − {p} − {p} + {d}×({k} − 1) + {op} + 1 "
                     f"= {result}")
    return lines
