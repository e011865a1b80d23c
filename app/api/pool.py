"""``/api/v1/pool``: max and average pooling, forward and backward, and the pools' traces
(``POST /api/v1/trace`` with op ``max_pool`` or ``avg_pool`` comes here)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import APIRouter

from ..config import Settings, SettingsDep
from ..engine import avg_pool, avg_pool_backward, max_pool, max_pool_backward
from ..engine.cost import pool_trace_terms_per_step
from ..engine.pool_trace import PoolBackwardTrace, PoolTrace
from ..i18n import gettext
from .errors import BODY_ERRORS, ApiError
from .limits import (
    check_pool_cost,
    finite_or_error,
    grad_output,
    run_quietly,
    to_array,
    trace_window,
)
from .responses import FastJSONResponse
from .routing import StrictJSONRoute
from .schemas import (
    CONV_ONLY,
    PoolBackwardRequest,
    PoolBackwardResponse,
    PoolForwardRequest,
    PoolForwardResponse,
    TraceRequest,
)

router = APIRouter(prefix="/api/v1/pool", tags=["pooling"], route_class=StrictJSONRoute,
                   default_response_class=FastJSONResponse)


def _pool(x: np.ndarray, kind: str, kernel_size: Any, params: dict[str, Any]) -> np.ndarray:
    if kind == "max":
        params = {k: v for k, v in params.items() if k != "count_include_pad"}
        return run_quietly(max_pool, x, kernel_size, **params)
    params = {k: v for k, v in params.items() if k != "dilation"}
    return run_quietly(avg_pool, x, kernel_size, **params)


def _pool_backward(x: np.ndarray, dy: np.ndarray, kind: str, kernel_size: Any,
                   params: dict[str, Any]) -> np.ndarray:
    if kind == "max":
        params = {k: v for k, v in params.items() if k != "count_include_pad"}
        return run_quietly(max_pool_backward, x, dy, kernel_size, **params)
    params = {k: v for k, v in params.items() if k != "dilation"}
    return run_quietly(avg_pool_backward, x, dy, kernel_size, **params)


def _delta(body: PoolBackwardRequest | TraceRequest, kind: str, x: np.ndarray,
           params: dict[str, Any], settings: Settings) -> tuple[np.ndarray, dict[str, Any]]:
    """grad_output as given, or derived from the loss (with the loss and the output)."""
    return grad_output(body, settings, lambda: _pool(x, kind, body.kernel_size, params))


@router.post("/forward", operation_id="pool_forward", response_model=None,
             responses={200: {"model": PoolForwardResponse}, **BODY_ERRORS})
async def pool_forward(body: PoolForwardRequest, settings: SettingsDep) -> FastJSONResponse:
    """Max or average pooling (``kind``), as ``torch.nn.functional.max_pool2d`` and
    ``avg_pool2d`` compute it, in 1, 2 or 3 spatial dimensions."""
    check_pool_cost(body, body.kind, settings, forward_pass=True, backward_pass=False)
    x = to_array(body.input, "input", settings)
    y = finite_or_error(_pool(x, body.kind, body.kernel_size, body.pool_params()), "output")
    return FastJSONResponse({"output": y, "output_shape": y.shape})


@router.post("/backward", operation_id="pool_backward", response_model=None,
             responses={200: {"model": PoolBackwardResponse}, **BODY_ERRORS})
async def pool_backward(body: PoolBackwardRequest, settings: SettingsDep) -> FastJSONResponse:
    """dL/dx from dL/dy (given, or from a loss): each window's δ to its winner ('max') or
    spread evenly over it ('avg')."""
    check_pool_cost(body, body.kind, settings, forward_pass=body.loss is not None,
                    backward_pass=True)
    x = to_array(body.input, "input", settings)
    params = body.pool_params()
    dy, extra = _delta(body, body.kind, x, params, settings)
    grad = finite_or_error(_pool_backward(x, dy, body.kind, body.kernel_size, params),
                           "grad_input")
    result: dict[str, Any] = {"grad_input": grad}
    if extra:
        result.update(extra, grad_output=dy)
    return FastJSONResponse(result)


# ----------------------------------------------------------------------------- traces


def _refuse_conv_fields(body: TraceRequest) -> None:
    """A convolution's field with other than its default is an error in a pool's trace (a
    generated client sends every default, so a default is no error)."""
    for name in CONV_ONLY:
        value, default = getattr(body, name), TraceRequest.model_fields[name].default
        if value is not default and (type(value) is not type(default) or value != default):
            raise ApiError(422, gettext("%(field)s is for op 'conv' only: a pool has no "
                                        "%(what)s")
                           % {"field": name,
                              "what": "weight" if name in ("weight", "bias") else name},
                           field=name)
    for name in ("view", "output_padding"):
        if getattr(body, name) is not None:
            raise ApiError(422, gettext("%(field)s is for op 'transposed' only, not for op "
                                        "'%(op)s'") % {"field": name, "op": body.op},
                           field=name)


def trace(body: TraceRequest, settings: Settings) -> dict[str, Any]:
    """``POST /api/v1/trace`` for op 'max_pool' or 'avg_pool': a window of steps, one per
    output element: forward, the window and its max or mean; grad_input, where each δ
    goes."""
    kind = body.op.removesuffix("_pool")
    _refuse_conv_fields(body)
    if body.part not in ("forward", "grad_input"):
        raise ApiError(422, gettext("part must be 'forward' or 'grad_input' for op %(op)s (a "
                                    "pool has no weight or bias), got %(part)s")
                       % {"op": repr(body.op), "part": repr(body.part)}, field="part")
    if body.kernel_size is None:
        raise ApiError(422, gettext("kernel_size is required for op %(op)s")
                       % {"op": repr(body.op)}, field="kernel_size")
    if kind == "max" and body.count_include_pad is not None:
        raise ApiError(422, gettext("count_include_pad is for op 'avg_pool' only: a max counts "
                                    "no cells"), field="count_include_pad")
    backward = body.part == "grad_input"
    geom = check_pool_cost(body, kind, settings, forward_pass=backward and body.loss is not None,
                           backward_pass=False)
    total = geom.planes * math.prod(geom.out_spatial)
    start, count = trace_window(total, pool_trace_terms_per_step(geom), body, settings)
    x = to_array(body.input, "input", settings)
    params = body.pool_params()
    if kind == "max":
        params.pop("count_include_pad")
    else:
        params.pop("dilation")
    if backward:
        dy, _ = _delta(body, kind, x, body.pool_params(), settings)
        traced: PoolTrace | PoolBackwardTrace = PoolBackwardTrace(x, dy, kind, body.kernel_size,
                                                                  **params)
    else:
        traced = PoolTrace(x, kind, body.kernel_size, **params)
    steps = run_quietly(traced.steps, start, count)
    stop = start + count
    return {
        "op": body.op, "part": body.part, "total_steps": total, "start": start, "count": count,
        "next_start": stop if stop < total else None,
        "result_shape": geom.input_shape if backward else (geom.n, geom.c, *geom.out_spatial),
        **_serialise(kind, backward, traced, steps),
    }


_TERM = "the window's cells in window order: C order over the kernel taps (*k)"
_POSITION = ("per term, the cell under the tap, counted from the first input cell (padding "
             "is < 0 or >= size)")
_WHERE = ("padding: the cell is padding; outside: past the padding, where a ceil_mode "
          "window reaches")


def _serialise(kind: str, backward: bool, traced: PoolTrace | PoolBackwardTrace,
               steps: Any) -> dict[str, Any]:
    """Column-oriented arrays, a step per item, as the convolution's trace."""
    geom = traced.geometry
    shared: dict[str, Any] = {"kernel_index": traced.taps}
    if backward:
        layout = {
            "step": "step i is the δ of output element unravel_index(i, shared.output_shape), "
                    "C order: (n, c, *o); result_shape is dL/dx's (the input's)",
            "term": _TERM, "position": _POSITION, "where": _WHERE,
            "shares": "what each cell receives: all of δ at the winner ('max'; winner is the "
                      "term, -1 for none), δ / divisor at every counted cell ('avg')",
            "reaches": "the share lands on an input cell (a padding cell's is lost)",
        }
        columns = {"delta": steps.delta, "position": steps.position, "padding": steps.padding,
                   "outside": steps.outside, "shares": steps.shares, "reaches": steps.reaches}
        if kind == "max":
            columns["winner"] = steps.winner
        shared["output_shape"] = [geom.n, geom.c, *geom.out_spatial]
        return {"layout": layout, "shared": shared, "steps": columns}
    layout = {
        "step": "step i computes output element unravel_index(i, result_shape), C order: "
                "(n, c, *o)",
        "term": _TERM, "position": _POSITION, "where": _WHERE,
        "inputs": "the window's values; padding and outside cells are null for 'max' (their "
                  "-inf, which JSON cannot carry) and 0 for 'avg'",
    }
    columns = {"position": steps.position, "padding": steps.padding, "outside": steps.outside,
               "inputs": steps.inputs, "total": steps.total, "value": steps.value}
    if kind == "max":
        layout["winner"] = "the term whose cell won the max: the first maximum in window order"
        columns["winner"] = steps.winner
    else:
        layout["counted"] = "the cells the mean divides by (count_include_pad: the padding too)"
        columns.update(counted=steps.counted, divisor=steps.divisor)
    return {"layout": layout, "shared": shared, "steps": columns}

