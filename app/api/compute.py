"""``/api/v1``: forward, backward, traces and output shapes over the engine (the pools'
routes, and their traces, in :mod:`app.api.pool`)."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query

from ..config import Settings, SettingsDep
from ..engine import ConvolutionError, backward, forward, plan
from ..engine.cost import trace_terms_per_step
from ..engine.geometry import size_formulas
from ..engine.loss import loss_and_delta
from ..engine.trace import BackwardTrace, ForwardTrace, result_shape
from . import pool
from .errors import BODY_ERRORS, ApiError, ErrorBody
from .limits import check_cost, finite_or_error, run_quietly, to_array, trace_window
from .responses import FastJSONResponse
from .routing import StrictJSONRoute
from .schemas import (
    PADDING_LIST,
    POOL_ONLY,
    POSITIVE_LIST,
    BackwardRequest,
    BackwardResponse,
    ConvParams,
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


def _delta(body: BackwardRequest, settings: Settings, x: np.ndarray, w: np.ndarray,
           b: np.ndarray | None) -> tuple[np.ndarray, dict[str, Any]]:
    """grad_output as given, or derived from the loss (with the loss and the output)."""
    if (body.grad_output is None) == (body.loss is None):
        raise ApiError(422, "give exactly one of grad_output (dL/dy) or loss ('sum' or 'mse')",
                       field="grad_output")
    if body.grad_output is not None:
        return to_array(body.grad_output, "grad_output", settings), {}
    y = finite_or_error(run_quietly(forward, x, w, b, **body.engine_params()), "output")
    target = None
    if body.loss == "mse":
        if body.target is None:
            raise ApiError(422, "loss 'mse' needs a target with the output's shape",
                           field="target")
        target = to_array(body.target, "target", settings)
        if target.shape != y.shape:
            raise ApiError(422, f"target must have the output's shape {list(y.shape)}, got "
                                f"{list(target.shape)}", field="target")
    loss, delta = loss_and_delta(y, body.loss, target)
    return finite_or_error(delta, "grad_output"), {"loss": finite_or_error(loss, "loss"),
                                                   "output": y}


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
    """A window of steps of one pass: every step's terms, products, sum and result; of a
    convolution (op 'conv', the default) or a pool (op 'max_pool' or 'avg_pool')."""
    if body.op != "conv":
        return pool.trace(body, settings)
    for name in POOL_ONLY:
        if getattr(body, name) is not None:
            raise ApiError(422, f"{name} is for op 'max_pool' and 'avg_pool' only (a "
                                "convolution's kernel is its weight)", field=name)
    if body.weight is None:
        raise ApiError(422, "weight is required (for op 'conv')", field="weight")
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
    payload = {
        "part": body.part, "total_steps": len(trace), "start": start, "count": count,
        "next_start": stop if stop < len(trace) else None,
        "result_shape": trace.shape, **_serialise(body.part, trace, steps),
    }
    return FastJSONResponse(payload)


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
        raise ApiError(422, f"input_size has {len(size)} axes but kernel_size has "
                            f"{len(kernel)}", field="kernel_size")
    pad: Any = padding if padding in ("valid", "same", "full") else _scalar_or_list(
        _ints(padding))
    params = {"stride": _scalar_or_list(_ints(stride)), "padding": pad,
              "dilation": _scalar_or_list(_ints(dilation))}
    formulas: list[str] = []
    try:
        formulas = size_formulas(tuple(size), tuple(kernel), **params)
        if in_channels % groups:
            raise ApiError(422, f"in_channels ({in_channels}) must be divisible by groups "
                                f"({groups})")
        geom = plan((batch, in_channels, *size), (out_channels, in_channels // groups, *kernel),
                    groups=groups, padding_mode=padding_mode, **params)
    except (ConvolutionError, ApiError) as exc:
        return ShapeResponse(valid=False, formulas=formulas, explanation=exc.message)
    return ShapeResponse(valid=True, output_size=list(geom.out_spatial),
                         output_shape=list(geom.output_shape), formulas=formulas)
