"""Hypothesis strategies shared by the engine tests.

Valid geometry is built directly (sizes are drawn large enough for the kernel, the padding
and the padding mode) rather than filtered, so almost no example is thrown away. Everything a
test needs to predict the result (the padding as ``(before, after)`` pairs, per-axis stride
and dilation, the output shape) is worked out here from the parameters, independently of
:mod:`app.engine.geometry`.

Shapes stay tiny: the naive oracle is plain Python loops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
MODES = ("cross-correlation", "convolution")
# "one-int" and "one-pair" are a list of one int or one (before, after) pair: that value on
# every spatial axis (PyTorch's reading of ``padding=(1,)``).
PADDING_FORMS = ("int", "per-dim", "pairs", "one-int", "one-pair", "valid", "same", "full")
# The same padding modes by numpy.pad's names: an oracle independent of the engine's.
NP_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                "circular": "wrap"}

# Upper bound on multiply-accumulates per example, which keeps the naive loops at a few ms.
MAX_MACS = 600

# One example budget for the whole engine suite: property tests that run the naive loops use
# ``SLOW``, the cheap vectorised-only ones ``FAST``.
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values away from the subnormal range, so relative errors mean something.
values = st.floats(-2, 2, allow_nan=False, allow_subnormal=False).map(
    lambda v: 0.0 if abs(v) < 1e-3 else v
)


def real_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with entries in [-2, 2]."""
    return hnp.arrays(np.float64, shape, elements=values)


@dataclass(frozen=True, eq=False)
class Case:
    """One valid convolution: arrays, the keyword arguments as passed, and the resolved
    geometry the test predicts from them.

    x : ndarray, shape (N, C_in, *spatial) or (C_in, *spatial)
    weight : ndarray, shape (C_out, C_in / groups, *kernel)
    bias : ndarray, shape (C_out,), or None
    """

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    kwargs: dict = field(hash=False)
    pairs: tuple[tuple[int, int], ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return self.weight.ndim - 2

    @property
    def batched(self) -> bool:
        return self.x.ndim == self.ndim + 2

    @property
    def out_spatial(self) -> tuple[int, ...]:
        """``floor((I + Pb + Pa - D * (K - 1) - 1) / S) + 1`` per axis."""
        _, *kernel = self.weight.shape[1:]
        spatial = self.x.shape[-self.ndim:]
        return tuple(
            (i + b + a - d * (k - 1) - 1) // s + 1
            for i, k, (b, a), s, d in zip(spatial, kernel, self.pairs, self.stride,
                                          self.dilation, strict=True)
        )

    @property
    def output_shape(self) -> tuple[int, ...]:
        lead = self.x.shape[:1] if self.batched else ()
        return (*lead, self.weight.shape[0], *self.out_spatial)

    @property
    def geometry_kwargs(self) -> dict:
        """The keyword arguments :func:`app.engine.output_shape` takes (no ``mode``)."""
        return {k: v for k, v in self.kwargs.items() if k != "mode"}


def _axis_param(draw, values_: tuple[int, ...]) -> object:
    """When every axis agrees, sometimes an int and sometimes a list or tuple of that one int
    (which PyTorch spreads over every axis); else a list or tuple of per-axis ints."""
    sequence = draw(st.sampled_from((list, tuple)))
    if len(set(values_)) == 1:
        form = draw(st.sampled_from(("int", "one", "per-axis")))
        if form == "int":
            return values_[0]
        if form == "one":
            return sequence(values_[:1])
    return sequence(values_)


def _padding(draw, form, ndim, kernel, dilation, max_pad):
    """``(padding argument, resolved (before, after) pairs)`` for one padding form."""
    pad = st.integers(0, max_pad)
    if form == "int":
        p = draw(pad)
        return p, ((p, p),) * ndim
    if form == "per-dim":
        ps = tuple(draw(pad) for _ in range(ndim))
        return draw(st.sampled_from((list, tuple)))(ps), tuple((p, p) for p in ps)
    if form == "pairs":
        pairs = tuple((draw(pad), draw(pad)) for _ in range(ndim))
        as_list = draw(st.booleans())
        return ([list(p) for p in pairs] if as_list else pairs), pairs
    if form == "one-int":
        p = draw(pad)
        return draw(st.sampled_from(([p], (p,)))), ((p, p),) * ndim
    if form == "one-pair":
        pair = (draw(pad), draw(pad))
        return draw(st.sampled_from(([list(pair)], (pair,)))), (pair,) * ndim
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    if form == "valid":
        return "valid", ((0, 0),) * ndim
    if form == "same":
        return "same", tuple((t // 2, t - t // 2) for t in totals)
    return "full", tuple((t, t) for t in totals)


@st.composite
def conv_cases(
    draw,
    *,
    ndims: tuple[int, ...] = (1, 2, 3),
    padding_forms: tuple[str, ...] = PADDING_FORMS,
    padding_modes: tuple[str, ...] = PADDING_MODES,
    modes: tuple[str, ...] = MODES,
    single_channel: bool = False,
    batched: bool | None = None,
    empty_batch: bool = True,
    with_bias: bool | None = None,
    odd_kernel: bool = False,
    max_stride: int = 3,
    max_dilation: int = 2,
) -> Case:
    """A valid convolution in 1, 2 or 3 spatial dimensions with every kind of parameter.

    ``single_channel`` fixes N = C_in = C_out = groups = 1 (for single-channel oracles);
    ``batched`` / ``with_bias`` fix those choices instead of drawing them. A batched input
    has N = 0 (an empty batch, which PyTorch accepts) a third of the time, unless
    ``empty_batch`` is False.
    """
    ndim = draw(st.sampled_from(ndims))
    max_k = (4, 3, 2)[ndim - 1]
    ks = st.integers(0, (max_k - 1) // 2).map(lambda h: 2 * h + 1) if odd_kernel else \
        st.integers(1, max_k)
    kernel = tuple(draw(ks) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(ndim))
    form = draw(st.sampled_from(padding_forms))
    stride = (1,) * ndim if form == "same" else \
        tuple(draw(st.integers(1, max_stride)) for _ in range(ndim))
    padding, pairs = _padding(draw, form, ndim, kernel, dilation, max_pad=2 if ndim < 3 else 1)
    padding_mode = draw(st.sampled_from(padding_modes))

    spatial = []
    for k, d, (b, a) in zip(kernel, dilation, pairs, strict=True):
        smallest = max(1, d * (k - 1) + 1 - b - a)
        if padding_mode == "reflect":
            smallest = max(smallest, max(b, a) + 1)
        elif padding_mode == "circular":
            smallest = max(smallest, b, a)
        spatial.append(smallest + draw(st.integers(0, 3 if ndim < 3 else 1)))

    if single_channel:
        groups, c_in_group, c_out_group, n = 1, 1, 1, 1
    else:
        groups = draw(st.integers(1, 3 if ndim < 3 else 2))
        c_in_group, c_out_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        n = draw(st.sampled_from((1, 2, 0) if empty_batch else (1, 2)))
    c_in, c_out = groups * c_in_group, groups * c_out_group
    is_batched = draw(st.booleans()) if batched is None else batched
    n = n if is_batched else 1

    out = [(i + b + a - d * (k - 1) - 1) // s + 1 for i, k, d, s, (b, a)
           in zip(spatial, kernel, dilation, stride, pairs, strict=True)]
    assume(n * c_out * c_in_group * math.prod(out) * math.prod(kernel) <= MAX_MACS)

    x_shape = (n, c_in, *spatial) if is_batched else (c_in, *spatial)
    x = draw(real_arrays(x_shape))
    weight = draw(real_arrays((c_out, c_in_group, *kernel)))
    has_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = draw(real_arrays((c_out,))) if has_bias else None

    kwargs = {
        "stride": _axis_param(draw, stride),
        "padding": padding,
        "dilation": _axis_param(draw, dilation),
        "groups": groups,
        "padding_mode": padding_mode,
        "mode": draw(st.sampled_from(modes)),
    }
    return Case(x, weight, bias, kwargs, pairs, stride, dilation)


@st.composite
def backward_cases(draw, **options) -> tuple[Case, np.ndarray]:
    """A :func:`conv_cases` case and an upstream gradient ``dL/dy`` of its output's shape."""
    case = draw(conv_cases(**options))
    return case, draw(real_arrays(case.output_shape))


# ----------------------------------------------------------------------------- transposed


@dataclass(frozen=True, eq=False)
class TransposedCase:
    """One valid transposed convolution, with the geometry a test predicts from its
    parameters (independently of :mod:`app.engine.transposed`).

    x : ndarray, shape (N, C_in, *spatial) or (C_in, *spatial)
    weight : ndarray, shape (C_in, C_out / groups, *kernel)
    bias : ndarray, shape (C_out,), or None
    """

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    kwargs: dict = field(hash=False)
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return self.weight.ndim - 2

    @property
    def batched(self) -> bool:
        return self.x.ndim == self.ndim + 2

    @property
    def out_spatial(self) -> tuple[int, ...]:
        """``(I - 1) * S - 2 * P + D * (K - 1) + output_padding + 1`` per axis."""
        return tuple(
            (i - 1) * s - 2 * p + d * (k - 1) + op + 1
            for i, k, s, p, op, d in zip(self.x.shape[-self.ndim:], self.weight.shape[2:],
                                         self.stride, self.padding, self.output_padding,
                                         self.dilation, strict=True)
        )

    @property
    def c_out(self) -> int:
        return self.weight.shape[1] * self.kwargs["groups"]

    @property
    def output_shape(self) -> tuple[int, ...]:
        lead = self.x.shape[:1] if self.batched else ()
        return (*lead, self.c_out, *self.out_spatial)


@st.composite
def transposed_cases(
    draw,
    *,
    ndims: tuple[int, ...] = (1, 2, 3),
    batched: bool | None = None,
    empty_batch: bool = True,
    with_bias: bool | None = None,
    max_stride: int = 3,
    max_dilation: int = 3,
    max_padding: int = 2,
) -> TransposedCase:
    """A valid transposed convolution in 1, 2 or 3 spatial dimensions with every parameter:
    stride, padding (cropping), output_padding (below the stride or the dilation, so also
    at or above the stride when the dilation is larger), dilation and groups, each drawn as
    an int, a list of one or one per axis."""
    ndim = draw(st.sampled_from(ndims))
    max_k = (4, 3, 2)[ndim - 1]
    kernel = tuple(draw(st.integers(1, max_k)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(ndim))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation,
                                                                      strict=True))
    padding = tuple(draw(st.integers(0, max_padding if ndim < 3 else 1)) for _ in range(ndim))
    spatial = tuple(draw(st.integers(1, 4 if ndim < 3 else 2)) for _ in range(ndim))
    out = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d
           in zip(spatial, kernel, stride, padding, extra, dilation, strict=True)]
    assume(min(out) >= 1)

    groups = draw(st.integers(1, 3 if ndim < 3 else 2))
    c_in_group, c_out_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.sampled_from((1, 2, 0) if empty_batch else (1, 2)))
    is_batched = draw(st.booleans()) if batched is None else batched
    n = n if is_batched else 1
    c_in = groups * c_in_group
    assume(n * c_in * math.prod(spatial) * c_out_group * math.prod(kernel) <= MAX_MACS)

    x = draw(real_arrays((n, c_in, *spatial) if is_batched else (c_in, *spatial)))
    weight = draw(real_arrays((c_in, c_out_group, *kernel)))
    has_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = draw(real_arrays((groups * c_out_group,))) if has_bias else None
    kwargs = {
        "stride": _axis_param(draw, stride),
        "padding": _axis_param(draw, padding),
        "output_padding": _axis_param(draw, extra),
        "dilation": _axis_param(draw, dilation),
        "groups": groups,
    }
    return TransposedCase(x, weight, bias, kwargs, stride, padding, extra, dilation)


@st.composite
def transposed_backward_cases(draw, **options) -> tuple[TransposedCase, np.ndarray]:
    """A :func:`transposed_cases` case and an upstream gradient of its output's shape."""
    case = draw(transposed_cases(**options))
    return case, draw(real_arrays(case.output_shape))


# ----------------------------------------------------------------------------- pooling

#: values of a pooling input with no two alike and none within 0.05 of another, so a
#: central difference (h = 1e-6) never moves a max from one cell to another
def distinct_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    size = math.prod(shape)
    return st.permutations(range(size)).map(
        lambda order: (np.asarray(order, dtype=np.float64).reshape(shape) - size / 2) * 0.05)


@dataclass(frozen=True, eq=False)
class PoolCase:
    """One valid pooling call: the input, ``kind``, the arguments as passed (``kwargs``,
    with ``kernel_size``), and the output shape predicted here from the parameters.

    x : ndarray, shape (N, C, *spatial) or (C, *spatial)
    """

    x: np.ndarray
    kind: str
    kwargs: dict = field(hash=False)
    output_shape: tuple[int, ...]

    @property
    def ndim(self) -> int:
        kernel = self.kwargs["kernel_size"]
        return len(kernel) if isinstance(kernel, list | tuple) else max(self.x.ndim - 2, 1)

    @property
    def options(self) -> dict:
        """The keyword arguments after ``kernel_size``."""
        return {k: v for k, v in self.kwargs.items() if k != "kernel_size"}


def pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Output size along one axis, as torch's pooling_output_shape works it out: the
    division rounded down, or up with ``ceil_mode``, and then a last window that would start
    in the right padding dropped."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else math.floor(span / s)) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


@st.composite
def pool_cases(draw, *, ndims: tuple[int, ...] = (1, 2, 3), kinds: tuple[str, ...] =
               ("max", "avg"), distinct: bool = False, empty_batch: bool = True) -> PoolCase:
    """A valid max or average pooling call in 1, 2 or 3 spatial dimensions with every kind
    of parameter: kernel sizes, a stride or None (= kernel_size), padding up to half the
    kernel, dilation (max), ceil_mode and count_include_pad (avg), batched or not, an empty
    batch a third of the time (unless ``empty_batch`` is False). ``distinct`` draws inputs
    without ties (see :func:`distinct_arrays`)."""
    ndim = draw(st.sampled_from(ndims))
    kind = draw(st.sampled_from(kinds))
    kernel = tuple(draw(st.integers(1, (4, 3, 2)[ndim - 1])) for _ in range(ndim))
    stride = draw(st.one_of(st.none(), st.tuples(*(st.integers(1, 3),) * ndim)))
    strides = kernel if stride is None else stride
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim)) if kind == "max" \
        else (1,) * ndim
    ceil_mode = draw(st.booleans())
    spatial, out = [], []
    for k, s, p, d in zip(kernel, strides, padding, dilation, strict=True):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        size = smallest + draw(st.integers(0, 4 if ndim < 3 else 2))
        spatial.append(size)
        out.append(pool_size(size, k, s, p, d, ceil_mode))
    assume(min(out) >= 1)
    batched = draw(st.booleans())
    n = draw(st.sampled_from((1, 2, 0) if empty_batch else (1, 2))) if batched else 1
    c = draw(st.integers(1, 3))
    shape = ((n,) if batched else ()) + (c, *spatial)
    x = draw(distinct_arrays(shape) if distinct else real_arrays(shape))
    # an int kernel_size pools every axis after (N, C): only for batched inputs or 1-D
    as_int = len(set(kernel)) == 1 and (batched or ndim == 1) and draw(st.booleans())
    kwargs: dict = {"kernel_size": kernel[0] if as_int else draw(st.sampled_from(
        (list, tuple)))(kernel)}
    if stride is not None:
        kwargs["stride"] = _axis_param(draw, stride)
    if any(padding) or draw(st.booleans()):
        kwargs["padding"] = _axis_param(draw, padding)
    if kind == "max" and (any(d > 1 for d in dilation) or draw(st.booleans())):
        kwargs["dilation"] = _axis_param(draw, dilation)
    kwargs["ceil_mode"] = ceil_mode
    if kind == "avg":
        kwargs["count_include_pad"] = draw(st.booleans())
    output_shape = ((n,) if batched else ()) + (c, *out)
    return PoolCase(x, kind, kwargs, output_shape)


@st.composite
def pool_backward_cases(draw, **options) -> tuple[PoolCase, np.ndarray]:
    """A :func:`pool_cases` case and an upstream gradient ``dL/dy`` of its output's shape."""
    case = draw(pool_cases(**options))
    return case, draw(real_arrays(case.output_shape))
