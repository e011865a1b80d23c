"""Geometry of an N-D convolution: per-axis stride, padding and dilation, output sizes, validation.

Conventions are PyTorch's (``torch.nn.functional.conv1d/2d/3d``), for any number of spatial
dimensions ``d >= 1``:

- input ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``; the batch may be empty
  (``N = 0``, an empty output), no other dimension may;
- weight ``(C_out, C_in / groups, *kernel)``; bias ``(C_out,)``;
- ``dilation=1`` means no gaps; the output size rounds down:
  ``O = floor((I + P_before + P_after - D * (K - 1) - 1) / S) + 1``.

Everything here works on shapes only; no array data is touched.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..i18n import N_, gettext, ngettext
from .errors import ParameterError, ShapeError, describe

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_NAMES = ("valid", "same", "full")
MODES = ("cross-correlation", "convolution")


def _hash_once(self) -> None:
    object.__setattr__(self, "hash_value", hash(tuple(
        getattr(self, f.name) for f in dataclasses.fields(self) if f.compare)))


def _stored_hash(self) -> int:
    return self.hash_value


def geometry_class(cls: type) -> type:
    """A frozen, slotted dataclass whose hash is worked out once, at construction: a geometry
    keys several caches in every engine call, and the generated ``__hash__`` would hash every
    field each time. Adds the field ``hash_value``."""
    cls.__annotations__["hash_value"] = "int"
    cls.hash_value = dataclasses.field(init=False, repr=False, compare=False)
    cls.__post_init__ = _hash_once
    cls.__hash__ = _stored_hash  # defined on the class, so the dataclass keeps it
    return dataclass(frozen=True, slots=True)(cls)


class Spatial:
    """What every geometry of the engine has: ``kernel``, one size per spatial axis."""

    __slots__ = ()

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.kernel)


class Grouped(Spatial):
    """The shapes of a convolution or a transposed one: ``n``, ``c_in``, ``c_out`` and
    ``groups``, the spatial sizes ``in_spatial`` and ``out_spatial``, ``batched``."""

    __slots__ = ()

    @property
    def c_in_group(self) -> int:
        return self.c_in // self.groups

    @property
    def c_out_group(self) -> int:
        return self.c_out // self.groups

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.n, self.c_in, *self.in_spatial)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The output's shape, unbatched when the input was."""
        shape = (self.n, self.c_out, *self.out_spatial)
        return shape if self.batched else shape[1:]


@geometry_class
class Geometry(Grouped):
    """Everything about one convolution that follows from shapes and parameters alone.

    ``padding`` holds one ``(before, after)`` pair per spatial axis. ``padded`` is the size of
    each spatial axis after padding, ``out_spatial`` the output's spatial size.
    """

    batched: bool
    n: int
    c_in: int
    c_out: int
    groups: int
    in_spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    padding_mode: str
    mode: str
    out_spatial: tuple[int, ...]
    #: the stride the computation steps by: the stride, except 1 on an axis with a single
    #: output position, where the stride never moves the kernel (so a stride of 10^7 over
    #: three cells costs what stride 1 costs, not a layout sized by the stride)
    work_stride: tuple[int, ...]
    #: each spatial axis's size after padding (follows from in_spatial and padding; kept
    #: because every engine call reads it several times)
    padded: tuple[int, ...] = dataclasses.field(compare=False)

    @property
    def flip(self) -> bool:
        """True convolution flips the kernel along every spatial axis."""
        return self.mode == "convolution"

    @property
    def extent(self) -> tuple[int, ...]:
        """Size of the dilated kernel footprint per axis: ``D * (K - 1) + 1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation, strict=True))

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.c_out, self.c_in_group, *self.kernel)

    @property
    def zero_padding(self) -> bool:
        """True when no padded cell needs a value other than zero."""
        return self.padding_mode == "zeros" or not any(b or a for b, a in self.padding)

    @property
    def macs(self) -> int:
        """Multiply-accumulate count of the forward pass."""
        return (
            self.n * self.c_out * math.prod(self.out_spatial)
            * self.c_in_group * math.prod(self.kernel)
        )


def _int_param(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(field, gettext("%(field)s must be an integer, got %(value)s")
                             % {"field": field, "value": describe(value)})
    return int(value)


def _per_axis(value: object, ndim: int, field: str, minimum: int) -> tuple[int, ...]:
    """An int or one int per spatial axis, each at least ``minimum``. A list of one int is
    that int on every axis, as PyTorch reads ``stride=(2,)`` for a 2-D convolution."""
    if isinstance(value, tuple | list):
        if len(value) not in (1, ndim):
            raise ParameterError(
                field,
                gettext("%(field)s must be an integer or a list of %(count)s (one per spatial "
                        "dimension, or one for all of them), got %(got)s values: %(value)s")
                % {"field": field, "count": _one_or(ndim, *INTEGERS), "got": len(value),
                   "value": describe(value)},
            )
        values = tuple(_int_param(v, field) for v in value)
        values = values * ndim if len(values) == 1 else values
    else:
        values = (_int_param(value, field),) * ndim
    for v in values:
        if v < minimum:
            message = (gettext("%(field)s must be positive, got %(value)s") if minimum == 1
                       else gettext("%(field)s must be non-negative, got %(value)s"))
            raise ParameterError(field, message % {"field": field, "value": v})
    return values


#: how a per-axis list's length is said (:func:`_one_or`)
INTEGERS = (N_("1 integer"), N_("1 or %(ndim)s integers"))
PAIRS = (N_("1 (before, after) pair"), N_("1 or %(ndim)s (before, after) pairs"))


def _one_or(ndim: int, one: str, many: str) -> str:
    """How many items a per-axis list may have: ``"1 or 3 integers"``, or ``"1 integer"``
    (``one`` and ``many`` are a pair such as :data:`INTEGERS`, in the request's language)."""
    return gettext(one) if ndim == 1 else gettext(many) % {"ndim": ndim}


def _padding_pairs(
    padding: object,
    ndim: int,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """Normalise every accepted form of ``padding`` to one ``(before, after)`` pair per axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ParameterError(
                    "padding",
                    gettext("padding='same' is not supported for strided convolutions "
                            "(stride is %(stride)s); use stride 1 or a number")
                    % {"stride": list(stride)},
                )
            pairs = []
            for k, d in zip(kernel, dilation, strict=True):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))  # the odd one goes after
            return tuple(pairs)
        if padding == "full":
            return tuple((d * (k - 1),) * 2 for k, d in zip(kernel, dilation, strict=True))
        raise ParameterError(
            "padding",
            gettext("padding must be a number, a list, or one of 'valid', 'same', 'full', "
                    "got %(value)s") % {"value": describe(padding)},
        )
    if isinstance(padding, tuple | list) and any(isinstance(p, tuple | list) for p in padding):
        # One pair is that pair on every axis, as one int in a list is that int on every
        # axis (PyTorch has no pairs; this is the same rule one level down).
        if len(padding) not in (1, ndim) or not all(
            isinstance(p, tuple | list) and len(p) == 2 for p in padding
        ):
            raise ParameterError(
                "padding",
                gettext("padding as pairs must be %(count)s (one per spatial dimension, or "
                        "one for all of them), got %(value)s")
                % {"count": _one_or(ndim, *PAIRS), "value": describe(padding)},
            )
        pairs = tuple(
            (_int_param(b, "padding"), _int_param(a, "padding")) for b, a in padding
        )
        pairs = pairs * ndim if len(pairs) == 1 else pairs
        for pair in pairs:
            if min(pair) < 0:
                raise ParameterError("padding", gettext(
                    "%(field)s must be non-negative, got %(value)s")
                    % {"field": "padding", "value": list(pair)})
        return pairs
    return tuple((p, p) for p in _per_axis(padding, ndim, "padding", 0))


def _cache_key(value: object) -> object:
    """A hashable key that tells ``2`` from ``2.0`` and ``True`` (equal as dict keys), so a
    cached plan is never reused for a parameter that validation would refuse."""
    if isinstance(value, list | tuple):
        return (list, tuple(_cache_key(v) for v in value))
    return (type(value), value)


_PLANS: dict[tuple, Geometry] = {}
_PLANS_MAX = 512
_GEOMETRIES: dict[Geometry, Geometry] = {}


def plan(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    mode: str = "cross-correlation",
    bias_shape: tuple[int, ...] | None = None,
) -> Geometry:
    """Validate shapes and parameters and work out the geometry (cached for repeated calls).

    Raises a :class:`~app.engine.errors.ConvolutionError` subclass naming the argument at
    fault and what was expected.
    """
    params = [p.tolist() if isinstance(p, np.ndarray) else p
              for p in (stride, padding, dilation, groups)]
    shapes = (tuple(input_shape), tuple(weight_shape),
              None if bias_shape is None else tuple(bias_shape))
    plain = all(type(d) is int for shape in shapes if shape is not None for d in shape)
    try:
        if not plain:
            key = None
        elif all(type(p) is int or type(p) is str for p in params):  # the usual call, quickly
            key = (*shapes, *params, padding_mode, mode)
        else:
            key = (*shapes, *map(_cache_key, params), padding_mode, mode)
        cached = _PLANS.get(key)
    except TypeError:  # an unhashable parameter (a dict, say): validate it uncached
        key, cached = None, None
    if cached is not None:
        return cached
    geom = _plan(shapes[0], shapes[1], *params, padding_mode, mode, shapes[2])
    if key is not None:
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
            _GEOMETRIES.clear()
        # One object per geometry, however it was asked for (with a bias or without, as
        # "same" or as numbers): the caches keyed by it then hit by identity, not by
        # comparing fourteen fields (~2.5 us a lookup, four lookups in a backward call).
        geom = _PLANS[key] = _GEOMETRIES.setdefault(geom, geom)
    return geom


def check_shapes(input_shape: tuple[int, ...], weight_shape: tuple[int, ...], weight: str,
                 layout: str) -> bool:
    """Refuse shapes no convolution (or transposed one) takes, and say whether the input is
    batched: non-negative integer sizes, a weight of at least 3 dimensions (``weight`` begins
    the message, ``layout`` names its axes), an input with one or two more dimensions than
    the weight has spatial ones, and no empty axis but the batch.

    An empty batch is a valid call with an empty output, as in PyTorch. An empty spatial axis
    is refused, as PyTorch refuses it ("Only zero batch or zero channel inputs are
    supported"); so is an empty channel axis, which PyTorch's message names but which would
    make a sum over no channels, and an empty weight.
    """
    for field, shape in (("input", input_shape), ("weight", weight_shape)):
        if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0
                   for d in shape):
            raise ShapeError(field, gettext("%(field)s shape must be non-negative integers, "
                                            "got %(value)s")
                             % {"field": field, "value": describe(list(shape))})
    if len(weight_shape) < 3:
        raise ShapeError(
            "weight",
            gettext("%(weight)s must have at least 3 dimensions %(layout)s, got %(ndim)s "
                    "dimensions with shape %(shape)s")
            % {"weight": weight, "layout": layout, "ndim": len(weight_shape),
               "shape": list(weight_shape)},
        )
    ndim = len(weight_shape) - 2
    if len(input_shape) not in (ndim + 1, ndim + 2):
        raise ShapeError(
            "input",
            gettext("expected input with %(unbatched)s dimensions (C_in, *spatial) or "
                    "%(batched)s dimensions (N, C_in, *spatial) for a weight with %(ndim)s "
                    "spatial dimensions, got %(got)s dimensions with shape %(shape)s")
            % {"unbatched": ndim + 1, "batched": ndim + 2, "ndim": ndim,
               "got": len(input_shape), "shape": list(input_shape)},
        )
    batched = len(input_shape) == ndim + 2
    if 0 in input_shape[batched:]:
        raise ShapeError("input", gettext("input has an empty dimension: shape %(shape)s; "
                                          "only the batch dimension N may be 0")
                         % {"shape": list(input_shape)})
    if 0 in weight_shape:
        raise ShapeError("weight", gettext("weight has an empty dimension: shape %(shape)s")
                         % {"shape": list(weight_shape)})
    return batched


def _plan(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    padding_mode: object,
    mode: object,
    bias_shape: tuple[int, ...] | None,
) -> Geometry:
    batched = check_shapes(input_shape, weight_shape, "weight",
                           "(C_out, C_in/groups, *kernel)")
    ndim = len(weight_shape) - 2
    if padding_mode not in PADDING_MODES:
        raise ParameterError(
            "padding_mode",
            gettext("padding_mode must be one of %(choices)s, got %(value)s")
            % {"choices": ", ".join(map(repr, PADDING_MODES)), "value": describe(padding_mode)},
        )
    if mode not in MODES:
        raise ParameterError(
            "mode", gettext("mode must be one of %(choices)s, got %(value)s")
            % {"choices": ", ".join(map(repr, MODES)), "value": describe(mode)}
        )

    n, c_in, *in_spatial = input_shape if batched else (1, *input_shape)
    c_out, c_in_group, *kernel = weight_shape
    kernel_t, in_t = tuple(kernel), tuple(in_spatial)

    groups_i = _int_param(groups, "groups")
    if groups_i < 1:
        raise ParameterError("groups", gettext("%(field)s must be positive, got %(value)s")
                             % {"field": "groups", "value": groups_i})
    if c_in % groups_i:
        raise ParameterError("groups", gettext(
            "input channels (%(c_in)s) must be divisible by groups (%(groups)s)")
            % {"c_in": c_in, "groups": groups_i})
    if c_out % groups_i:
        raise ParameterError(
            "groups",
            gettext("output channels (weight's first dimension, %(c_out)s) must be divisible "
                    "by groups (%(groups)s)") % {"c_out": c_out, "groups": groups_i},
        )
    if c_in_group * groups_i != c_in:
        raise ShapeError(
            "weight",
            ngettext("weight expects %(num)s input channel per group (groups=%(groups)s, so "
                     "%(total)s in all), input has %(c_in)s",
                     "weight expects %(num)s input channels per group (groups=%(groups)s, so "
                     "%(total)s in all), input has %(c_in)s", c_in_group)
            % {"num": c_in_group, "groups": groups_i, "total": c_in_group * groups_i,
               "c_in": c_in},
        )
    if bias_shape is not None and bias_shape != (c_out,):
        raise ShapeError(
            "bias",
            gettext("bias must have shape [%(c_out)s] (one value per output channel), got "
                    "shape %(shape)s") % {"c_out": c_out, "shape": list(bias_shape)},
        )

    stride_t = _per_axis(stride, ndim, "stride", 1)
    dilation_t = _per_axis(dilation, ndim, "dilation", 1)
    pads = _padding_pairs(padding, ndim, kernel_t, stride_t, dilation_t)

    for axis, (size, (before, after)) in enumerate(zip(in_t, pads, strict=True)):
        if padding_mode == "reflect" and max(before, after) >= size:
            raise ParameterError(
                "padding",
                gettext("reflect padding must be smaller than the input size: spatial axis "
                        "%(axis)s has size %(size)s, padding (%(before)s, %(after)s)")
                % {"axis": axis, "size": size, "before": before, "after": after},
            )
        if padding_mode == "circular" and max(before, after) > size:
            raise ParameterError(
                "padding",
                gettext("circular padding can wrap around at most once: spatial axis "
                        "%(axis)s has size %(size)s, padding (%(before)s, %(after)s)")
                % {"axis": axis, "size": size, "before": before, "after": after},
            )

    out = []
    for size, k, s, d, (before, after) in zip(in_t, kernel_t, stride_t, dilation_t, pads,
                                               strict=True):
        span = size + before + after - d * (k - 1)
        if span < 1:
            padded = [i + b + a for i, (b, a) in zip(in_t, pads, strict=True)]
            extent = [dd * (kk - 1) + 1 for kk, dd in zip(kernel_t, dilation_t, strict=True)]
            raise ShapeError(
                "weight",
                gettext("Kernel size can't be greater than actual input size: padded input "
                        "size %(padded)s, dilated kernel size %(extent)s")
                % {"padded": " x ".join(map(str, padded)), "extent": " x ".join(map(str, extent))},
            )
        out.append((span - 1) // s + 1)

    return Geometry(
        batched=batched, n=n, c_in=c_in, c_out=c_out, groups=groups_i, in_spatial=in_t,
        kernel=kernel_t, stride=stride_t, dilation=dilation_t, padding=pads,
        padding_mode=padding_mode, mode=mode, out_spatial=tuple(out),
        work_stride=tuple(1 if o == 1 else s for o, s in zip(out, stride_t, strict=True)),
        padded=tuple(i + b + a for i, (b, a) in zip(in_t, pads, strict=True)),
    )


def output_shape(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
) -> tuple[int, ...]:
    """Shape of ``forward(x, weight, ...)`` for ``x.shape == input_shape``.

    Per spatial axis ``O = floor((I + P_before + P_after - D * (K - 1) - 1) / S) + 1``; the
    result is unbatched, ``(C_out, *O)``, when the input shape is.
    """
    return plan(
        input_shape, weight_shape, stride=stride, padding=padding, dilation=dilation,
        groups=groups, padding_mode=padding_mode,
    ).output_shape


def source_index(position: np.ndarray | int, size: int, padding_mode: str) -> np.ndarray:
    """Where the value of a (possibly padded) position along one axis comes from.

    ``position`` counts from the first real element (padding before it is negative). The
    result is the index of the input element whose value the position holds, or ``-1`` for a
    zero-padding cell. Positions inside ``[0, size)`` map to themselves.
    """
    p = np.asarray(position)
    if padding_mode == "zeros":
        return np.where((p >= 0) & (p < size), p, -1)
    if padding_mode == "replicate":
        return np.clip(p, 0, size - 1)
    if padding_mode == "circular":
        return np.mod(p, size)
    # reflect, mirroring about the edge element without repeating it (padding < size)
    src = np.where(p < 0, -p, p)
    return np.where(src >= size, 2 * (size - 1) - src, src)


def positions_holding(index: np.ndarray, size: int, before: int, after: int,
                      padding_mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse of :func:`source_index`: the positions of a padded axis that hold each of
    the input elements ``index`` (a 1-D int array), as runs ``[start, stop)``.

    Returns ``(owner, start, stop)``: run ``r`` belongs to ``index[owner[r]]``; an element's
    runs are consecutive and increasing — the element itself, and the padding cells that copy
    it (at most three runs; a replicated edge element's one run covers the padding beside
    it). Worked out per element in O(1), however wide the padding.
    """
    i = np.asarray(index, dtype=np.int64)
    lo, hi = -before, size + after  # the padded axis, as positions
    owner = np.arange(len(i))
    if padding_mode == "zeros":
        return owner, i, i + 1
    if padding_mode == "replicate":
        return owner, np.where(i == 0, lo, i), np.where(i == size - 1, hi, i + 1)
    if padding_mode == "circular":
        candidates = np.stack([i - size, i, i + size], -1)
    else:  # reflect: mirrored about the edge element, which is not repeated
        candidates = np.stack([np.where(i > 0, -i, lo - 1), i,
                               np.where(i < size - 1, 2 * (size - 1) - i, hi)], -1)
    keep = (candidates >= lo) & (candidates < hi)
    starts = candidates[keep]
    return np.repeat(owner, keep.sum(axis=1)), starts, starts + 1


def padded_sources(size: int, before: int, after: int, padding_mode: str) -> np.ndarray:
    """``source_index`` of every position of a padded axis, first padded cell first."""
    return source_index(np.arange(-before, size + after), size, padding_mode)



def axis_names(ndim: int) -> tuple[str, ...]:
    """Names of the spatial axes as the lesson writes them: L; H, W; D, H, W."""
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(
        ndim, tuple(str(a + 1) for a in range(ndim))
    )


def size_formulas(
    in_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
) -> list[str]:
    """The output-size formula of every spatial axis with the numbers filled in, e.g.
    ``O_H = ⌊(3 + 2×0 − 1×(2 − 1) − 1) / 1⌋ + 1 = 2``.

    Parameters are checked (a :class:`ParameterError` names the bad one), sizes are not: an
    axis whose dilated kernel is larger than its padded input says so instead of a number.
    """
    ndim = len(kernel)
    stride_t = _per_axis(stride, ndim, "stride", 1)
    dilation_t = _per_axis(dilation, ndim, "dilation", 1)
    pads = _padding_pairs(padding, ndim, tuple(kernel), stride_t, dilation_t)
    lines = []
    for name, i, k, s, d, (b, a) in zip(axis_names(ndim), in_spatial, kernel, stride_t,
                                         dilation_t, pads, strict=True):
        pad = f"2×{b}" if b == a else f"{b} + {a}"
        span = i + b + a - d * (k - 1) - 1
        result = str(span // s + 1) if span >= 0 else (
            gettext("%(size)s: no output, the kernel spans %(extent)s cells but the padded "
                    "input has only %(padded)s")
            % {"size": span // s + 1, "extent": d * (k - 1) + 1, "padded": i + b + a})
        lines.append(f"O_{name} = ⌊({i} + {pad} − {d}×({k} − 1) − 1) / {s}⌋ + 1 = {result}")
    return lines
