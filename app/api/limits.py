"""The compute limits, checked before anything is allocated, and array conversion."""

from __future__ import annotations

import math

import numpy as np

from ..config import Settings
from ..engine import Geometry, plan
from .errors import ApiError, LimitExceeded
from .schemas import MAX_PARAMETER, ConvParams, NestedArray


def to_array(array: NestedArray, field: str, settings: Settings) -> np.ndarray:
    """Convert a checked nested list to float64, after checking its size."""
    size = math.prod(array.shape)
    if size > settings.max_array_elements:
        raise LimitExceeded(f"{field} has {size} elements", field=field,
                            limit="max_array_elements", value=settings.max_array_elements)
    return np.array(array.value, dtype=np.float64)


def _integers(value: object) -> list[int]:
    if isinstance(value, list):
        return [n for item in value for n in _integers(item)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def check_parameters(body: ConvParams) -> None:
    """No integer in stride, padding, dilation or groups is above MAX_PARAMETER, as the
    schema says; the engine checks everything else about them."""
    for name in ("stride", "padding", "dilation", "groups"):
        if any(n > MAX_PARAMETER for n in _integers(getattr(body, name))):
            raise ApiError(422, f"{name} must be at most {MAX_PARAMETER}", field=name)


def check_geometry(body: ConvParams, settings: Settings, *, backward: bool = False) -> Geometry:
    """Plan the convolution (shapes only) and check it against every compute limit."""
    check_parameters(body)
    if len(body.weight.shape) - 2 > settings.max_spatial_dims:
        raise ApiError(422, f"weight has {len(body.weight.shape) - 2} spatial dimensions; at "
                            f"most {settings.max_spatial_dims} are supported (limit "
                            f"max_spatial_dims={settings.max_spatial_dims})", field="weight",
                       limit="max_spatial_dims", limit_value=settings.max_spatial_dims)
    geom = plan(body.input.shape, body.weight.shape, **body.engine_params(),
                bias_shape=None if body.bias is None else body.bias.shape)
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    if output > settings.max_output_elements:
        raise LimitExceeded(f"the output would have {output} elements", field="padding",
                            limit="max_output_elements", value=settings.max_output_elements)
    padded = geom.n * geom.c_in * math.prod(geom.padded)
    if padded > settings.max_padded_elements:
        raise LimitExceeded(f"the padded input would have {padded} elements", field="padding",
                            limit="max_padded_elements", value=settings.max_padded_elements)
    macs = geom.macs * (3 if backward else 1)
    if macs > settings.max_macs:
        raise LimitExceeded(f"this request needs {macs} multiply-accumulates", field=None,
                            limit="max_macs", value=settings.max_macs)
    return geom


def run_quietly(function, *args, **kwargs):
    """Call the engine with overflow allowed to happen silently; the results are then
    checked by :func:`finite_or_error`, which turns it into a clear 422."""
    with np.errstate(over="ignore", invalid="ignore"):
        return function(*args, **kwargs)


def finite_or_error(result: np.ndarray | np.floating, field: str) -> np.ndarray:
    """Results that overflowed are an error, never serialised as NaN or null."""
    if not np.isfinite(result).all():
        raise ApiError(422, f"{field} overflowed (a value is too large to represent); "
                            "scale the inputs down", field=field, code="overflow")
    return result
