"""The layers of a small CNN besides convolution and pooling: ReLU, a linear (fully
connected) layer and the softmax cross-entropy loss, forward and backward, with PyTorch's
names and layouts (``torch.nn.functional.relu``, ``linear``, ``cross_entropy``).

Each validates first, with the engine's errors (a ``.field`` naming the argument, a
message saying what arrived), then computes; float32 stays float32 when every array given
is float32, else float64 (the engine's one dtype rule). The definitions as plain loops are
in :mod:`app.engine.naive`.
"""

from __future__ import annotations

import numpy as np

from ..i18n import N_, gettext
from .arrays import as_real_array, common_dtype
from .errors import ShapeError, ValueRangeError, describe
from .forward import all_finite, is_float_array
from .types import Gradients


def _real(value: object, field: str) -> np.ndarray:
    if is_float_array(value) and all_finite(value):
        return value  # type: ignore[return-value]
    return as_real_array(value, field)


_SAME_SHAPE = {"input": N_("grad_output must have the input's shape %(shape)s, got %(got)s"),
               "output": N_("grad_output must have the output's shape %(shape)s, got %(got)s")}


def _same_shape(dy: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if dy.shape != shape:
        raise ShapeError("grad_output", gettext(_SAME_SHAPE[what])
                         % {"shape": list(shape), "got": list(dy.shape)})


# ----------------------------------------------------------------------------- ReLU


def relu(x) -> np.ndarray:
    """``max(x, 0)`` element by element. x : array_like, any shape; returns its shape."""
    xa = _real(x, "input")
    return np.maximum(xa, xa.dtype.type(0))


def relu_backward(x, grad_output) -> np.ndarray:
    """dL/dx through ``relu``: δ where ``x > 0``, else 0 (0 at ``x == 0`` too, as PyTorch).

    x : array_like, any shape; grad_output : array_like, x's shape
    """
    xa, dy = _real(x, "input"), _real(grad_output, "grad_output")
    _same_shape(dy, xa.shape, "input")
    dtype = common_dtype(xa, dy)
    return np.where(xa > 0, dy, 0).astype(dtype, copy=False)


# ----------------------------------------------------------------------------- linear


def _linear_arguments(x, weight, bias, extra_field: str | None = None, extra=None):
    xa, wa = _real(x, "input"), _real(weight, "weight")
    ba = None if bias is None else _real(bias, "bias")
    if wa.ndim != 2:
        raise ShapeError("weight", gettext("weight must have 2 dimensions (F_out, F_in), got "
                                           "%(ndim)s dimensions with shape %(shape)s")
                         % {"ndim": wa.ndim, "shape": list(wa.shape)})
    if xa.ndim not in (1, 2):
        raise ShapeError("input", gettext("expected input with 2 dimensions (N, F_in) or 1 "
                                          "(F_in,), got %(ndim)s dimensions with shape "
                                          "%(shape)s") % {"ndim": xa.ndim, "shape": list(xa.shape)})
    f_out, f_in = wa.shape
    if xa.shape[-1] != f_in:
        raise ShapeError("input", gettext("input has %(got)s features (its last dimension) "
                                          "but weight expects %(f_in)s (weight is [%(f_out)s, "
                                          "%(f_in)s]: F_out, F_in)")
                         % {"got": xa.shape[-1], "f_in": f_in, "f_out": f_out})
    if ba is not None and ba.shape != (f_out,):
        raise ShapeError("bias", gettext("bias must have shape [%(f_out)s] (one value per "
                                         "output feature), got shape %(shape)s")
                         % {"f_out": f_out, "shape": list(ba.shape)})
    if 0 in wa.shape:
        raise ShapeError("weight", gettext("weight has an empty dimension: shape %(shape)s")
                         % {"shape": list(wa.shape)})
    return xa, wa, ba


def linear(x, weight, bias=None) -> np.ndarray:
    """``y = x W^T + b``, as ``torch.nn.functional.linear``.

    x : array_like, shape (N, F_in) or unbatched (F_in,)
    weight : array_like, shape (F_out, F_in); bias : array_like, shape (F_out,), or None
    Returns shape (N, F_out), or (F_out,).
    """
    xa, wa, ba = _linear_arguments(x, weight, bias)
    dtype = common_dtype(xa, wa, ba)
    y = xa.astype(dtype, copy=False) @ wa.astype(dtype, copy=False).T
    if ba is not None:
        y += ba.astype(dtype, copy=False)
    return y


def linear_backward(x, weight, grad_output) -> Gradients:
    """Gradients through ``y = linear(x, weight, bias)``, given dL/dy:
    ``grad_input = δ W``, ``grad_weight = δ^T x``, ``grad_bias = Σ_n δ``.

    x : array_like, shape (N, F_in) or (F_in,); weight : shape (F_out, F_in)
    grad_output : array_like, shape (N, F_out) or (F_out,), the output's
    """
    xa, wa, _ = _linear_arguments(x, weight, None)
    dy = _real(grad_output, "grad_output")
    _same_shape(dy, (*xa.shape[:-1], wa.shape[0]), "output")
    dtype = common_dtype(xa, wa, dy)
    xa, wa, dy = (a.astype(dtype, copy=False) for a in (xa, wa, dy))
    x2, dy2 = xa.reshape(-1, wa.shape[1]), dy.reshape(-1, wa.shape[0])
    return Gradients(dy @ wa, dy2.T @ x2, dy2.sum(axis=0))


# ----------------------------------------------------------------------------- the loss


def _labels(labels: object, n: int, classes: int) -> np.ndarray:
    try:
        arr = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
    except (ValueError, TypeError, OverflowError):
        raise ValueRangeError("labels", gettext("labels must be a list of integers (class "
                                                "indices), got %(value)s")
                              % {"value": describe(labels)}) from None
    if arr.dtype.kind not in "iu":  # bool is its own kind, and refused
        raise ValueRangeError("labels", gettext("labels must be integers (class indices), got "
                                                "dtype %(dtype)s") % {"dtype": arr.dtype})
    if arr.shape != (n,):
        raise ShapeError("labels", gettext("labels must have shape [%(n)s] (one class per "
                                           "sample), got shape %(shape)s")
                         % {"n": n, "shape": list(arr.shape)})
    bad = (arr < 0) | (arr >= classes)
    if bad.any():
        raise ValueRangeError("labels", gettext("labels must be classes from 0 to %(last)s, "
                                                "got %(value)s")
                              % {"last": classes - 1, "value": describe(arr[bad][0].item())})
    return arr.astype(np.intp)


def softmax_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """The mean cross-entropy of ``softmax(logits)`` against ``labels``, and its gradient,
    as ``torch.nn.functional.cross_entropy`` (reduction "mean").

    logits : array_like, shape (N, K), N >= 1; labels : array_like of ints, shape (N,),
    each from 0 to K - 1.

    ``L = mean_n(logsumexp(z_n) - z_n[y_n])`` and ``∂L/∂z = (softmax(z) - onehot(y)) / N``.
    Stable for any finite logits: each row is shifted by its max before ``exp``, so the
    largest term is ``exp(0) = 1`` and nothing overflows (a logit of 1000 is fine).
    """
    z = _real(logits, "logits")
    if z.ndim != 2:
        raise ShapeError("logits", gettext("logits must have 2 dimensions (N, K): a score per "
                                           "sample and class, got %(ndim)s dimensions with "
                                           "shape %(shape)s")
                         % {"ndim": z.ndim, "shape": list(z.shape)})
    n, classes = z.shape
    if n == 0 or classes == 0:
        raise ShapeError("logits", gettext("logits has an empty dimension: shape %(shape)s; a "
                                           "mean loss needs at least one sample and one class")
                         % {"shape": list(z.shape)})
    y = _labels(labels, n, classes)
    shifted = z - z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
    grad = exp / total
    grad[rows, y] -= 1
    grad /= n
    return loss, grad


def softmax(logits) -> np.ndarray:
    """The class probabilities ``exp(z) / Σ exp(z)`` of each row, as
    ``torch.softmax(logits, dim=1)``; each row shifted by its max first, as
    :func:`softmax_cross_entropy` does. logits : array_like, shape (N, K); returns its shape."""
    z = _real(logits, "logits")
    if z.ndim != 2:
        raise ShapeError("logits", gettext("logits must have 2 dimensions (N, K): a score per "
                                           "sample and class, got %(ndim)s dimensions with "
                                           "shape %(shape)s")
                         % {"ndim": z.ndim, "shape": list(z.shape)})
    exp = np.exp(z - z.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
