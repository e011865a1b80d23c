"""Request and response bodies of API v1, named and laid out as PyTorch names them.

Arrays travel as nested JSON lists. They are checked here for structure only (rectangular,
numbers only — no booleans, strings or nulls) without allocating anything; sizes are checked
against the limits, and values converted, in :mod:`app.api.limits`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..engine import MODES, PADDING_MODES

MAX_RANK = 6  # (N, C, *spatial) with at most 4 spatial dimensions; the limit is lower


class NestedArray:
    """A rectangular nested list of numbers and its shape, not yet converted."""

    __slots__ = ("shape", "value")

    def __init__(self, value: list, shape: tuple[int, ...]) -> None:
        self.value, self.shape = value, shape


def _fail(reason: str) -> PydanticCustomError:
    return PydanticCustomError("array", reason)


#: items whose types are checked in one C-level call: a call holds the GIL, and 250,000 at
#: once held it for 8 ms; other requests' threads and the event loop get it between pieces
PIECE = 1 << 15


def _check_rows(value: list, shape: tuple[int, ...], depth: int) -> None:
    if depth == len(shape) - 1:
        kinds = set(map(type, value)) if len(value) <= PIECE else set().union(
            *(set(map(type, value[i:i + PIECE])) for i in range(0, len(value), PIECE)))
        if not kinds <= {int, float}:
            bad = sorted(k.__name__ for k in kinds - {int, float})
            names = {"bool": "booleans", "str": "strings", "NoneType": "nulls",
                     "list": "lists nested deeper than their siblings", "dict": "objects"}
            raise _fail("must hold only numbers, found "
                        + ", ".join(names.get(b, b) for b in bad))
        return
    for row in value:
        if not isinstance(row, list) or len(row) != shape[depth + 1]:
            raise _fail(f"is ragged: every list at depth {depth + 1} must have "
                        f"{shape[depth + 1]} items (it must be rectangular)")
        _check_rows(row, shape, depth + 1)


def parse_nested(value: Any) -> NestedArray:
    """Check that ``value`` is a rectangular nested list of numbers; measure its shape."""
    if isinstance(value, NestedArray):
        return value
    shape: list[int] = []
    probe = value
    while isinstance(probe, list):
        shape.append(len(probe))
        if len(shape) > MAX_RANK:
            raise _fail(f"is nested too deeply (at most {MAX_RANK} levels)")
        if not probe:
            raise _fail("has an empty dimension")
        probe = probe[0]
    if not shape:
        raise _fail("must be an array (a nested list of numbers)")
    _check_rows(value, tuple(shape), 0)
    return NestedArray(value, tuple(shape))


def _array_schema(description: str) -> dict:
    # One level of items is described; deeper levels are arrays or numbers again.
    return {
        "type": "array", "minItems": 1, "description": description,
        "items": {"anyOf": [{"type": "number"}, {"type": "array", "minItems": 1}]},
    }


def Array(description: str) -> Any:  # reads as a type in the models below
    return Annotated[NestedArray, PlainValidator(parse_nested),
                     WithJsonSchema(_array_schema(description))]


IntOrPerAxis = Annotated[Any, WithJsonSchema({
    "anyOf": [{"type": "integer", "minimum": 1},
              {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}],
})]
PaddingSpec = Annotated[Any, WithJsonSchema({
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}},
        {"type": "array", "minItems": 1, "items": {
            "type": "array", "items": {"type": "integer", "minimum": 0},
            "minItems": 2, "maxItems": 2}},
        {"type": "string", "enum": ["valid", "same", "full"]},
    ],
    "description": "an int, one int per spatial dimension, one [before, after] pair per "
                   "dimension, or 'valid', 'same' (stride 1 only) or 'full'",
})]
GroupsSpec = Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1})]

LESSON_INPUT = [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]]
LESSON_KERNEL = [[[[0, 1], [2, 3]]]]


class ConvParams(BaseModel):
    """The arguments of ``torch.nn.functional.conv{1,2,3}d``, plus ``padding_mode`` and ``mode``."""

    model_config = ConfigDict(extra="forbid")

    input: Array("shape (N, C_in, *spatial) or unbatched (C_in, *spatial)")
    weight: Array("shape (C_out, C_in / groups, *kernel)")
    bias: Array("shape (C_out,)") | None = None
    stride: IntOrPerAxis = Field(1, description="an int or one per spatial dimension")
    padding: PaddingSpec = 0
    dilation: IntOrPerAxis = Field(1, description="an int or one per spatial dimension; "
                                                  "1 means no gaps")
    groups: GroupsSpec = Field(1, description="divides both channel counts; C_in for "
                                             "depthwise")
    padding_mode: Literal[PADDING_MODES] = "zeros"  # type: ignore[valid-type]
    mode: Literal[MODES] = Field(  # type: ignore[valid-type]
        "cross-correlation",
        description="'cross-correlation' (what CNNs compute) or 'convolution' (the kernel "
                    "flipped along every spatial axis)",
    )

    def engine_params(self) -> dict[str, Any]:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "groups": self.groups, "padding_mode": self.padding_mode, "mode": self.mode}


class ForwardRequest(ConvParams):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": LESSON_INPUT, "weight": LESSON_KERNEL}]})


class ForwardResponse(BaseModel):
    output: list = Field(description="nested list, shape output_shape",
                         examples=[[[[[19.0, 25.0], [37.0, 43.0]]]]])
    output_shape: list[int] = Field(examples=[[1, 1, 2, 2]])


class BackwardRequest(ConvParams):
    """Give ``grad_output`` (dL/dy, the output's shape), or a ``loss`` to derive it from."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": [[1, 2, 3, 4, 5]], "weight": [[[1, 0, -1]]],
         "grad_output": [[0.1, 0.2, 0.3]]},
        {"input": LESSON_INPUT, "weight": LESSON_KERNEL, "loss": "sum"},
    ]})

    grad_output: Array("dL/dy, the output's shape") | None = None
    loss: Literal["sum", "mse"] | None = Field(
        None, description="instead of grad_output: 'sum' (L = sum of outputs) or 'mse' "
                          "(L = mean((y - target)^2), needs target)")
    target: Array("with loss 'mse': the wanted output, the output's shape") | None = None


class BackwardResponse(BaseModel):
    grad_input: list = Field(description="dL/dx, the input's shape")
    grad_weight: list = Field(description="dL/dw, the weight's shape")
    grad_bias: list[float] = Field(description="dL/db, shape (C_out,)")
    grad_output: list | None = Field(None, description="with a loss: the delta it produced")
    output: list | None = Field(None, description="with a loss: the forward output")
    loss: float | None = Field(None, description="with a loss: its value")


TraceKind = Literal["forward", "grad_weight", "grad_input", "grad_bias"]


class TraceRequest(BackwardRequest):
    """A window of steps of one pass. Backward parts need ``grad_output`` or a ``loss``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": LESSON_INPUT, "weight": LESSON_KERNEL, "part": "forward", "start": 0,
         "count": 4},
        {"input": [[1, 2, 3, 4, 5]], "weight": [[[1, 0, -1]]], "grad_output": [[0.1, 0.2, 0.3]],
         "part": "grad_weight"},
    ]})

    part: TraceKind = Field("forward", description="which pass to trace")
    start: Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 0})] = 0
    count: Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1})] | None = Field(
        None, description="steps wanted (default: to the end); a response holds at most "
                          "the server's max_trace_steps, and next_start says where to go on")


class TraceResponse(BaseModel):
    """Column-oriented steps: ``steps[name][j]`` belongs to step ``start + j``.

    Step ``i`` computes element ``unravel_index(i, result_shape)`` of the result (C order).
    """

    part: TraceKind
    total_steps: int
    start: int
    count: int
    next_start: int | None = Field(description="where the next window starts, or null")
    result_shape: list[int]
    layout: dict[str, Any] = Field(description="what the step arrays' axes mean")
    shared: dict[str, Any] = Field(description="arrays that are the same for every step")
    steps: dict[str, list] = Field(description="one list per quantity, one item per step")


class ShapeResponse(BaseModel):
    valid: bool
    output_size: list[int] | None = Field(None, description="spatial output size")
    output_shape: list[int] | None = Field(None, description="(N, C_out, *output_size)")
    formulas: list[str] = Field(description="one line per spatial axis, numbers filled in")
    explanation: str | None = Field(None, description="why the geometry is invalid")


class PresetSummary(BaseModel):
    name: str
    title: str
    kind: str
    description: str


class Preset(PresetSummary):
    endpoint: str | None = Field(None, description="where to POST the body, if anywhere")
    body: dict[str, Any] | None = Field(None, description="a request body ready to POST")
    values: list | None = Field(None, description="the array, for kernels, images, signals")
