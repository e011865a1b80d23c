"""``/api/v1/transposed``: the transposed convolution, forward and backward, over the engine.

Its trace is ``POST /api/v1/trace`` with ``op: "transposed"`` (:mod:`app.api.compute`).
"""

from __future__ import annotations

from fastapi import APIRouter

from ..config import SettingsDep
from ..engine import conv_transpose, conv_transpose_backward
from .compute import BODY_ERRORS, _arrays, _delta
from .limits import check_transposed_cost, finite_or_error, run_quietly
from .responses import FastJSONResponse
from .routing import StrictJSONRoute
from .schemas import (
    BackwardResponse,
    TransposedBackwardRequest,
    TransposedForwardRequest,
    TransposedForwardResponse,
)

# ``async def`` as in app/api/compute.py: StrictJSONRoute runs them in a worker thread.
router = APIRouter(prefix="/api/v1/transposed", tags=["transposed"],
                   route_class=StrictJSONRoute, default_response_class=FastJSONResponse)


@router.post("/forward", operation_id="transposed_forward", response_model=None,
             responses={200: {"model": TransposedForwardResponse}, **BODY_ERRORS})
async def transposed_forward(body: TransposedForwardRequest,
                             settings: SettingsDep) -> FastJSONResponse:
    """The transposed convolution: every input element stamps the kernel, scaled by its
    value, into the output, ``stride`` cells from its neighbours' stamps, as PyTorch's
    ``conv_transpose{1,2,3}d`` computes it."""
    params = body.engine_params()
    check_transposed_cost(body, params, settings, forward_pass=True, backward_pass=False)
    x, w, b = _arrays(body, settings)
    y = finite_or_error(run_quietly(conv_transpose, x, w, b, **params), "output")
    return FastJSONResponse({"output": y, "output_shape": y.shape})


@router.post("/backward", operation_id="transposed_backward", response_model=None,
             responses={200: {"model": BackwardResponse}, **BODY_ERRORS})
async def transposed_backward(body: TransposedBackwardRequest,
                              settings: SettingsDep) -> FastJSONResponse:
    """Its backward pass: dL/dx (the deltas convolved with the kernel), dL/dw and dL/db from
    dL/dy (given, or from a loss)."""
    params = body.engine_params()
    check_transposed_cost(body, params, settings, forward_pass=body.loss is not None,
                          backward_pass=True)
    x, w, b = _arrays(body, settings)
    dy, extra = _delta(body, settings, x, w, b, run=conv_transpose, params=params)
    grads = run_quietly(conv_transpose_backward, x, w, dy, **params)
    result = {name: finite_or_error(value, name) for name, value in grads._asdict().items()}
    if extra:
        result.update(extra, grad_output=dy)
    return FastJSONResponse(result)
