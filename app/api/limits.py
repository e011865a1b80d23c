"""The compute limits, checked before anything is allocated, and array conversion."""

from __future__ import annotations

import math

import numpy as np

from ..config import Settings
from ..engine import Geometry, PoolGeometry, TransposedGeometry, plan, plan_transposed, pool_plan
from ..engine.cost import (
    Cost,
    backward_cost,
    forward_cost,
    pool_backward_cost,
    pool_forward_cost,
    transposed_backward_cost,
    transposed_cost,
)
from ..engine.errors import describe
from ..engine.loss import loss_and_delta
from ..engine.pool_geometry import empty_window
from ..i18n import gettext
from .errors import ApiError, LimitExceeded
from .schemas import (
    MAX_PARAMETER,
    ConvParams,
    NestedArray,
    PoolParams,
    TraceRequest,
    TransposedParams,
)

#: elements converted from nested lists in one NumPy call: the conversion holds the GIL, and
#: 250,000 values in one call held it for 7-33 ms (bench/costs.py); a piece takes ~2 ms
PIECE = 1 << 16


def to_array(array: NestedArray, field: str, settings: Settings) -> np.ndarray:
    """Convert a checked nested list to float64, after checking its size."""
    size = math.prod(array.shape)
    if size > settings.max_array_elements:
        raise LimitExceeded(gettext("%(field)s has %(size)s elements")
                            % {"field": field, "size": size}, field=field,
                            limit="max_array_elements", value=settings.max_array_elements)
    out = np.empty(array.shape, dtype=np.float64)
    _fill(out, array.value)
    return out


def _fill(out: np.ndarray, value: list) -> None:
    """Copy the nested list ``value`` into ``out`` (its shape) a piece at a time."""
    if out.size <= PIECE:
        out[...] = value
    elif out.ndim == 1:
        for i in range(0, len(out), PIECE):
            out[i:i + PIECE] = value[i:i + PIECE]
    else:
        rows = PIECE // (out.size // len(out))
        if rows < 2:
            for row, part in zip(out, value, strict=True):
                _fill(row, part)
        else:
            for i in range(0, len(out), rows):
                out[i:i + rows] = value[i:i + rows]


_PARAMETERS = ("kernel_size", "stride", "padding", "output_padding", "dilation", "groups",
               "start", "count")


def check_parameters(body: ConvParams | TransposedParams | PoolParams) -> None:
    """Every integer parameter at most :data:`MAX_PARAMETER` in size, before any of them
    reaches the engine or NumPy (a 422 naming the field)."""
    for field in _PARAMETERS:
        value = getattr(body, field, None)
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, int) and not isinstance(item, bool) and \
                    abs(item) > MAX_PARAMETER:
                raise ApiError(422, gettext("%(field)s must be at most %(most)s in size, got "
                                            "%(value)s")
                               % {"field": field, "most": f"{MAX_PARAMETER:,}",
                                  "value": describe(item)}, field=field)


def check_cost(body: ConvParams, settings: Settings, *, forward_pass: bool,
               backward_pass: bool) -> Geometry:
    """Plan the convolution (shapes only) and check what the request will really cost
    against every compute limit, before anything is allocated.

    ``forward_pass``: the request runs the forward pass (the forward endpoint, or a loss to
    derive dL/dy from); ``backward_pass``: it runs the whole backward pass. The cost is the
    engine's own count for the path it will take (:mod:`app.engine.cost`): arithmetic, the
    largest total it allocates at once, and its Python-level iterations. A trace's window
    is bounded apart (``max_trace_steps``, ``max_trace_terms``).
    """
    check_spatial_dims(body, settings)
    check_parameters(body)
    geom = plan(body.input.shape, body.weight.shape, **body.engine_params(),
                bias_shape=None if body.bias is None else body.bias.shape)
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    if output > settings.max_output_elements:
        raise LimitExceeded(gettext("the output would have %(size)s elements")
                            % {"size": output}, field="padding",
                            limit="max_output_elements", value=settings.max_output_elements)
    padded = geom.n * geom.c_in * math.prod(geom.padded)
    if padded > settings.max_padded_elements:
        raise LimitExceeded(gettext("the padded input would have %(size)s elements")
                            % {"size": padded}, field="padding",
                            limit="max_padded_elements", value=settings.max_padded_elements)
    cost = Cost(0, 0, 0, 0)
    if forward_pass:
        cost = cost + forward_cost(geom)
    if backward_pass:
        cost = cost + backward_cost(geom)
    check_compute(cost, settings)
    return geom


def check_spatial_dims(body: ConvParams | TransposedParams, settings: Settings) -> None:
    """At most ``max_spatial_dims`` kernel axes (a 422 naming the weight)."""
    if len(body.weight.shape) - 2 > settings.max_spatial_dims:
        raise ApiError(422, gettext("weight has %(ndim)s spatial dimensions; at most %(most)s "
                                    "are supported (limit max_spatial_dims=%(most)s)")
                       % {"ndim": len(body.weight.shape) - 2, "most": settings.max_spatial_dims},
                       field="weight", limit="max_spatial_dims",
                       limit_value=settings.max_spatial_dims)


def check_compute(cost: Cost, settings: Settings) -> None:
    """The arithmetic, memory and Python-level iterations of ``cost`` within the limits (a
    413 naming the limit)."""
    if cost.macs > settings.max_macs:
        raise LimitExceeded(gettext("this request needs %(macs)s multiply-accumulates")
                            % {"macs": cost.macs}, field=None, limit="max_macs",
                            value=settings.max_macs)
    if cost.peak_bytes > settings.max_work_bytes:
        raise LimitExceeded(gettext("this request would allocate %(bytes)s bytes of working "
                                    "memory") % {"bytes": cost.peak_bytes}, field=None,
                            limit="max_work_bytes", value=settings.max_work_bytes)
    if cost.loops > settings.max_loops:
        raise LimitExceeded(gettext("this request needs %(loops)s Python-level iterations")
                            % {"loops": cost.loops}, field=None, limit="max_loops",
                            value=settings.max_loops)


def check_transposed_cost(body: ConvParams | TransposedParams, params: dict, settings: Settings,
                          *, forward_pass: bool, backward_pass: bool) -> TransposedGeometry:
    """:func:`check_cost` for a transposed convolution with ``params`` (its keyword
    arguments): plan it, then check its output, its uncropped output (the stamps land
    there before the padding crops them, and the engine allocates it) and what the engine's
    cost model counts for the passes it will run, before anything is allocated."""
    check_spatial_dims(body, settings)
    check_parameters(body)
    geom = plan_transposed(body.input.shape, body.weight.shape, **params,
                           bias_shape=None if body.bias is None else body.bias.shape)
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    if output > settings.max_output_elements:
        raise LimitExceeded(gettext("the output would have %(size)s elements")
                            % {"size": output}, field=None,
                            limit="max_output_elements", value=settings.max_output_elements)
    uncropped = geom.n * geom.c_out * math.prod(geom.uncropped)
    if uncropped > settings.max_padded_elements:
        raise LimitExceeded(gettext("the output before the padding crops it would have "
                                    "%(size)s elements") % {"size": uncropped},
                            field="padding", limit="max_padded_elements",
                            value=settings.max_padded_elements)
    cost = Cost(0, 0, 0, 0)
    if forward_pass:
        cost = cost + transposed_cost(geom)
    if backward_pass:
        cost = cost + transposed_backward_cost(geom)
    check_compute(cost, settings)
    return geom


def check_pool_cost(body: PoolParams | TraceRequest, kind: str, settings: Settings, *,
                    forward_pass: bool, backward_pass: bool) -> PoolGeometry:
    """:func:`check_cost` for a pool: plan it (shapes only) and check its cost, as the engine
    counts it (``macs`` are the cells its windows read), against every compute limit."""
    kernel = body.kernel_size
    ndim = len(kernel) if isinstance(kernel, list) else max(len(body.input.shape) - 2, 1)
    if ndim > settings.max_spatial_dims:
        raise ApiError(422, gettext("the pool has %(ndim)s spatial dimensions; at most "
                                    "%(most)s are supported (limit max_spatial_dims=%(most)s)")
                       % {"ndim": ndim, "most": settings.max_spatial_dims},
                       field="kernel_size", limit="max_spatial_dims",
                       limit_value=settings.max_spatial_dims)
    check_parameters(body)
    geom = pool_plan(body.input.shape, kind, kernel, **body.pool_params())
    output = geom.planes * math.prod(geom.out_spatial)
    if output > settings.max_output_elements:
        raise LimitExceeded(gettext("the output would have %(size)s elements")
                            % {"size": output}, field="stride",
                            limit="max_output_elements", value=settings.max_output_elements)
    empty = empty_window(geom)
    if empty is not None:
        axis, position = empty
        raise ApiError(422, gettext("the window at output %(position)s of spatial axis "
                                    "%(axis)s covers only padding, no input cell: its max is "
                                    "-inf (as in PyTorch), which JSON cannot carry; use less "
                                    "padding or dilation")
                       % {"position": position, "axis": axis},
                       field="dilation")
    cost = Cost(0, 0, 0, 0)
    if forward_pass:
        cost = cost + pool_forward_cost(geom)
    if backward_pass:
        cost = cost + pool_backward_cost(geom)
    check_compute(cost, settings)
    return geom


def trace_window(total: int, terms_per_step: int, body: TraceRequest,
                 settings: Settings) -> tuple[int, int]:
    """The steps a trace request gets, ``(start, count)``: what it asked for, within
    ``max_trace_steps`` and ``max_trace_terms`` (a step of more terms than that is a 413)."""
    start = body.start
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < total:
        raise ApiError(422, gettext("start must be an integer from 0 to %(last)s (there are "
                                    "%(total)s steps)") % {"last": total - 1, "total": total},
                       field="start")
    count = body.count
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= MAX_PARAMETER):
        raise ApiError(422, gettext("count must be a positive integer, at most %(most)s")
                       % {"most": MAX_PARAMETER}, field="count")
    if terms_per_step > settings.max_trace_terms:
        raise LimitExceeded(gettext("one step has up to %(terms)s terms")
                            % {"terms": terms_per_step}, field="input",
                            limit="max_trace_terms", value=settings.max_trace_terms)
    wanted = total - start if count is None else min(count, total - start)
    return start, min(wanted, settings.max_trace_steps,
                      settings.max_trace_terms // max(terms_per_step, 1))


def run_quietly(function, *args, **kwargs):
    """Call the engine with overflow allowed to happen silently; the results are then
    checked by :func:`finite_or_error`, which turns it into a clear 422."""
    with np.errstate(over="ignore", invalid="ignore"):
        return function(*args, **kwargs)


def finite_or_error(result: np.ndarray | np.floating, field: str) -> np.ndarray:
    """Results that overflowed are an error, never serialised as NaN or null."""
    if not np.isfinite(result).all():
        raise ApiError(422, gettext("%(field)s overflowed (a value is too large to "
                                    "represent); scale the inputs down") % {"field": field},
                       field=field, code="overflow")
    return result


def grad_output(body, settings: Settings, output) -> tuple[np.ndarray, dict]:
    """dL/dy for a backward request: ``grad_output`` as given, or derived from ``loss``
    ('sum', or 'mse' against ``target``) on the forward output ``output()`` computes, which
    is then returned with the loss as ``{"loss": ..., "output": ...}``."""
    if (body.grad_output is None) == (body.loss is None):
        raise ApiError(422, gettext("give exactly one of grad_output (dL/dy) or loss ('sum' "
                                    "or 'mse')"), field="grad_output")
    if body.grad_output is not None:
        return to_array(body.grad_output, "grad_output", settings), {}
    y = finite_or_error(output(), "output")
    target = None
    if body.loss == "mse":
        if body.target is None:
            raise ApiError(422, gettext("loss 'mse' needs a target with the output's shape"),
                           field="target")
        target = to_array(body.target, "target", settings)
        if target.shape != y.shape:
            raise ApiError(422, gettext("target must have the output's shape %(shape)s, got "
                                        "%(got)s") % {"shape": list(y.shape),
                                                      "got": list(target.shape)},
                           field="target")
    loss, delta = loss_and_delta(y, body.loss, target)
    return finite_or_error(delta, "grad_output"), {"loss": finite_or_error(loss, "loss"),
                                                   "output": y}
