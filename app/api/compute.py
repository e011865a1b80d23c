"""``/api/v1``: forward, backward, traces and output shapes over the engine (the pools'
routes, and their traces, in :mod:`app.api.pool`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query

from ..config import Settings, SettingsDep
from ..engine import ConvolutionError, backward, forward, plan
from ..engine.cost import trace_terms_per_step, transposed_trace_terms_per_step
from ..engine.geometry import size_formulas
from ..engine.trace import BackwardTrace, ForwardTrace, result_shape
from ..engine.transposed_trace import GatherTrace, ScatterTrace
from ..i18n import gettext
from . import pool
from .errors import BODY_ERRORS, ApiError, ErrorBody
from .limits import (
    check_cost,
    check_transposed_cost,
    finite_or_error,
    grad_output,
    run_quietly,
    to_array,
    trace_window,
)
from .responses import FastJSONResponse
from .routing import StrictJSONRoute
from .schemas import (
    PADDING_LIST,
    POOL_ONLY,
    POSITIVE_LIST,
    BackwardRequest,
    BackwardResponse,
    ConvParams,
    Deltas,
    ForwardRequest,
    ForwardResponse,
    ShapeResponse,
    TraceRequest,
    TraceResponse,
)

QUERY_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "A query parameter is invalid; `field` names it."},
}

# The POST endpoints are ``async def`` although they compute: StrictJSONRoute runs each of
# them, body parsing included, in a worker thread (app/api/routing.py), where a plain ``def``
# would only add a hop to another thread.
router = APIRouter(prefix="/api/v1", tags=["convolution"], route_class=StrictJSONRoute,
                   default_response_class=FastJSONResponse)


def _arrays(body: ConvParams, settings: Settings) -> tuple[np.ndarray, np.ndarray,
                                                           np.ndarray | None]:
    x = to_array(body.input, "input", settings)
    w = to_array(body.weight, "weight", settings)
    b = None if body.bias is None else to_array(body.bias, "bias", settings)
    return x, w, b


def _delta(body: Deltas, settings: Settings, x: np.ndarray, w: np.ndarray,
           b: np.ndarray | None, run: Callable[..., np.ndarray] = forward,
           params: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """grad_output as given, or derived from the loss (with the loss and the output); the
    output is ``run(x, w, b, **params)``, the body's own parameters unless given."""
    params = body.engine_params() if params is None else params  # type: ignore[attr-defined]
    return grad_output(body, settings, lambda: run_quietly(run, x, w, b, **params))


@router.post("/forward", operation_id="forward", response_model=None,
             responses={200: {"model": ForwardResponse}, **BODY_ERRORS})
async def forward_endpoint(body: ForwardRequest, settings: SettingsDep) -> FastJSONResponse:
    """The forward pass: ``output = conv(input, weight) + bias``, as PyTorch computes it."""
    check_cost(body, settings, forward_pass=True, backward_pass=False)
    x, w, b = _arrays(body, settings)
    y = finite_or_error(run_quietly(forward, x, w, b, **body.engine_params()), "output")
    return FastJSONResponse({"output": y, "output_shape": y.shape})


@router.post("/backward", operation_id="backward", response_model=None,
             responses={200: {"model": BackwardResponse}, **BODY_ERRORS})
async def backward_endpoint(body: BackwardRequest, settings: SettingsDep) -> FastJSONResponse:
    """The backward pass: dL/dx, dL/dw and dL/db from dL/dy (given, or from a loss)."""
    check_cost(body, settings, forward_pass=body.loss is not None, backward_pass=True)
    x, w, b = _arrays(body, settings)
    dy, extra = _delta(body, settings, x, w, b)
    grads = run_quietly(backward, x, w, dy, **body.engine_params())
    result = {name: finite_or_error(value, name) for name, value in grads._asdict().items()}
    if extra:
        result.update(extra, grad_output=dy)
    return FastJSONResponse(result)


@router.post("/trace", operation_id="trace", response_model=None,
             responses={200: {"model": TraceResponse}, **BODY_ERRORS})
async def trace_endpoint(body: TraceRequest, settings: SettingsDep) -> FastJSONResponse:
    """A window of steps of one pass of one operation (``op``): every step's terms,
    products, sum and result; of a convolution (op 'conv', the default), a transposed
    convolution (op 'transposed') or a pool (op 'max_pool' or 'avg_pool')."""
    return FastJSONResponse(TRACERS[body.op](body, settings))


def _only_for(op: str, body: TraceRequest, fields: dict[str, object]) -> None:
    """Fields that belong to another operation are refused unless left at their default."""
    for field, default in fields.items():
        if field in body.model_fields_set and getattr(body, field) != default:
            raise ApiError(422, gettext("%(field)s applies to op '%(op)s' only, not to op "
                                        "'%(given)s'") % {"field": field, "op": op,
                                                          "given": body.op}, field=field)


def _with_weight(body: TraceRequest) -> None:
    """A convolution's trace (either kind) has a weight, and no pool's fields."""
    for name in POOL_ONLY:
        if getattr(body, name) is not None:
            raise ApiError(422, gettext("%(field)s is for op 'max_pool' and 'avg_pool' only "
                                        "(a convolution's kernel is its weight)")
                           % {"field": name}, field=name)
    if body.weight is None:
        raise ApiError(422, gettext("weight is required (for op '%(op)s')") % {"op": body.op},
                       field="weight")


def _conv_trace(body: TraceRequest, settings: Settings) -> dict[str, Any]:
    """The convolution's trace: one part of the forward or backward pass."""
    _only_for("transposed", body, {"view": None, "output_padding": None})
    _with_weight(body)
    part = body.part.removeprefix("grad_")
    geom = check_cost(body, settings, forward_pass=part != "forward" and body.loss is not None,
                      backward_pass=False)
    total = math.prod(result_shape(geom, part))
    start, count = trace_window(total, trace_terms_per_step(geom, part), body, settings)
    x, w, b = _arrays(body, settings)
    params = body.engine_params()
    if part == "forward":
        trace: ForwardTrace | BackwardTrace = ForwardTrace(x, w, b, **params)
    else:
        dy, _ = _delta(body, settings, x, w, b)
        trace = BackwardTrace(x, w, dy, part, **params)
    steps = run_quietly(trace.steps, start, count)
    for name in ("total", "value"):  # a product that overflowed makes its total non-finite
        finite_or_error(getattr(steps, name), name)
    stop = start + count
    return {
        "op": "conv", "part": body.part, "total_steps": len(trace), "start": start,
        "count": count, "next_start": stop if stop < len(trace) else None,
        "result_shape": trace.shape, **_serialise(body.part, trace, steps),
    }


def _transposed_trace(body: TraceRequest, settings: Settings) -> dict[str, Any]:
    """The transposed convolution's forward pass, in the scatter or the gather view."""
    _only_for("conv", body, {"padding_mode": "zeros", "mode": "cross-correlation"})
    _with_weight(body)
    if body.part != "forward":
        raise ApiError(422, gettext("op 'transposed' traces its forward pass (part 'forward', "
                                    "view 'scatter' or 'gather'), got part '%(part)s'")
                       % {"part": body.part}, field="part")
    view = body.view or "scatter"
    params = {"stride": 1 if body.stride is None else body.stride, "padding": body.padding,
              "output_padding": 0 if body.output_padding is None else body.output_padding,
              "dilation": body.dilation, "groups": body.groups}
    geom = check_transposed_cost(body, params, settings, forward_pass=False,
                                 backward_pass=False)
    total = geom.n * (geom.c_in * math.prod(geom.in_spatial) if view == "scatter" else
                      geom.c_out * math.prod(geom.out_spatial))
    start, count = trace_window(total, transposed_trace_terms_per_step(geom, view), body,
                                settings)
    x, w, b = _arrays(body, settings)
    trace = (ScatterTrace if view == "scatter" else GatherTrace)(x, w, b, **params)
    steps = run_quietly(trace.steps, start, count)
    for name in ("products", "after") if view == "scatter" else ("total", "value"):
        finite_or_error(getattr(steps, name), name)
    stop = start + count
    return {
        "op": "transposed", "part": "forward", "view": view, "total_steps": total,
        "start": start, "count": count, "next_start": stop if stop < total else None,
        "result_shape": trace.result_shape, **_serialise_transposed(view, trace, steps),
    }


#: the trace of each operation (schemas.TRACE_OPS lists them)
TRACERS: dict[str, Callable[[TraceRequest, Settings], dict[str, Any]]] = {
    "conv": _conv_trace, "transposed": _transposed_trace,
    "max_pool": pool.trace, "avg_pool": pool.trace}


def _serialise_transposed(view: str, trace: Any, steps: Any) -> dict[str, Any]:
    """Column-oriented arrays of a transposed-convolution trace, as :func:`_serialise`."""
    bias = trace.bias if trace.bias is not None else np.zeros(trace.result_shape[1])
    if view == "scatter":
        return {
            "layout": {"step": "step i stamps input element steps.index[j] = "
                               "unravel_index(i, (N, C_in, *spatial)), C order: (n, c_in, *i)",
                       "term": "C order over (output channel within the group, *kernel): "
                               "shared.channel_in_group and shared.kernel_index",
                       "position": "per term, the output cell the stamp lands on, i x stride "
                                   "+ k x dilation - padding; outside [0, out) where the "
                                   "padding crops it (inside is false)",
                       "before": "per term, the cell's running sum before this stamp (the "
                                 "steps before this one; no bias), after: with it",
                       "overlap": "per term, how many stamps land on that cell, per pair of "
                                  "channels",
                       "result": "output = every inside stamp's products summed + shared.bias"},
            "shared": {"channel_in_group": trace.tap_channel,
                       "kernel_index": trace.tap_kernel_index, "bias": bias},
            "steps": {"index": steps.index, "value": steps.value,
                      "out_channel": steps.out_channel, "position": steps.position,
                      "inside": steps.inside, "weights": steps.weights,
                      "products": steps.products, "before": steps.before,
                      "after": steps.after, "overlap": steps.overlap},
        }
    return {
        "layout": {"step": "step i computes output element steps.index[j] = unravel_index(i, "
                           "result_shape), C order: (n, c_out, *t)",
                   "terms": "ragged: step j's terms are offsets[j]:offsets[j + 1] of every "
                            "array in terms; each is one input element (in_channel, "
                            "in_position) whose stamp's tap kernel_index lands here",
                   "overlap": "per step, how many stamps land on the cell, per pair of "
                              "channels"},
        "shared": {"bias": bias},
        "steps": {"index": steps.index, "offsets": steps.offsets, "total": steps.total,
                  "bias": steps.bias, "value": steps.value, "overlap": steps.overlap},
        "terms": {"in_channel": steps.in_channel, "in_position": steps.in_position,
                  "kernel_index": steps.kernel_index, "inputs": steps.inputs,
                  "weights": steps.weights, "products": steps.products},
    }


def _serialise(part: str, trace: Any, steps: Any) -> dict[str, Any]:
    """Column-oriented arrays: a quantity per key, a step per item; shared ones once."""
    step_axis = "step i computes result element unravel_index(i, result_shape), C order"
    if part == "forward":
        return {
            "layout": {"step": step_axis + ": (n, c_out, *o)",
                       "term": "C order over (input channel within the group, *kernel)",
                       "position": "per term, the input cell read, counted from the first "
                                   "real element (padding is < 0 or >= size)",
                       "source": "per term, the input cell whose value it holds; -1 for "
                                 "zero padding"},
            "shared": {"channel_in_group": trace.tap_channel,
                       "kernel_index": trace.tap_kernel_index},
            "steps": {"position": steps.position, "source": steps.source,
                      "inputs": steps.inputs, "weights": steps.weights,
                      "products": steps.products, "total": steps.total, "bias": steps.bias,
                      "value": steps.value},
        }
    if part == "grad_input":
        return {
            "layout": {"step": step_axis + ": (n, c_in, *i)",
                       "terms": "ragged: step j's terms are offsets[j]:offsets[j + 1] of "
                                "every array in terms",
                       "via": "the position the gradient arrives at: the element itself, or "
                              "a padding cell that copies it"},
            "shared": {},
            "steps": {"offsets": steps.offsets, "total": steps.total, "value": steps.value},
            "terms": {"out_channel": steps.out_channel, "out_position": steps.out_position,
                      "kernel_index": steps.kernel_index, "via": steps.via,
                      "deltas": steps.deltas, "weights": steps.weights,
                      "products": steps.products},
        }
    columns = {"deltas": steps.deltas, "total": steps.total, "value": steps.value}
    if part == "grad_weight":
        columns.update(channel=steps.channel, position=steps.position, source=steps.source,
                       inputs=steps.inputs, products=steps.products)
    return {
        "layout": {"step": step_axis + (": (c_out, c_in_in_group, *k)" if part == "grad_weight"
                                        else ": (c_out,)"),
                   "term": "C order over (n, *o), the output positions in shared.out_index"},
        "shared": {"out_index": trace.out_index},
        "steps": columns,
    }


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]  # the query's pattern was matched


def _scalar_or_list(values: list[int]) -> int | list[int]:
    return values[0] if len(values) == 1 else values


@router.get("/shape", operation_id="shape", response_model=ShapeResponse,
            responses=QUERY_ERRORS)
def shape_endpoint(
    input_size: Annotated[str, Query(description="spatial size, e.g. 28,28; as many axes as "
                                     "kernel_size", pattern=POSITIVE_LIST, examples=["3,3"])],
    kernel_size: Annotated[str, Query(description="e.g. 2,2", pattern=POSITIVE_LIST,
                                      examples=["2,2"])],
    stride: Annotated[str, Query(pattern=POSITIVE_LIST, description="an int or one per "
                                 "axis")] = "1",
    padding: Annotated[str, Query(pattern=PADDING_LIST, description="an int, one per axis, "
                                  "or valid/same/full")] = "0",
    dilation: Annotated[str, Query(pattern=POSITIVE_LIST, description="an int or one per "
                                   "axis; 1 means no gaps")] = "1",
    in_channels: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    out_channels: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    groups: Annotated[int, Query(ge=1, le=1_000_000, description="when it does not divide "
                                 "both channel counts, valid is false")] = 1,
    batch: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    padding_mode: Annotated[str, Query(max_length=20)] = "zeros",
) -> ShapeResponse:
    """Output size for given sizes, with the formula filled in per axis; when the geometry
    is impossible, ``valid`` is false and ``explanation`` says why in words."""
    size, kernel = _ints(input_size), _ints(kernel_size)
    if len(size) != len(kernel):
        raise ApiError(422, gettext("input_size has %(size)s axes but kernel_size has "
                                    "%(kernel)s") % {"size": len(size), "kernel": len(kernel)},
                       field="kernel_size")
    pad: Any = padding if padding in ("valid", "same", "full") else _scalar_or_list(
        _ints(padding))
    params = {"stride": _scalar_or_list(_ints(stride)), "padding": pad,
              "dilation": _scalar_or_list(_ints(dilation))}
    formulas: list[str] = []
    try:
        formulas = size_formulas(tuple(size), tuple(kernel), **params)
        if in_channels % groups:
            raise ApiError(422, gettext("in_channels (%(c_in)s) must be divisible by groups "
                                        "(%(groups)s)") % {"c_in": in_channels, "groups": groups})
        geom = plan((batch, in_channels, *size), (out_channels, in_channels // groups, *kernel),
                    groups=groups, padding_mode=padding_mode, **params)
    except (ConvolutionError, ApiError) as exc:
        return ShapeResponse(valid=False, formulas=formulas, explanation=exc.message)
    return ShapeResponse(valid=True, output_size=list(geom.out_spatial),
                         output_shape=list(geom.output_shape), formulas=formulas)
