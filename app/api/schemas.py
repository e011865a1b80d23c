"""Request and response bodies of API v1, named and laid out as PyTorch names them.

Arrays travel as nested JSON lists. They are checked here for structure only (rectangular,
numbers only — no booleans, strings or nulls — and as many dimensions as their schema allows)
without allocating anything; sizes are checked against the limits, and values converted, in
:mod:`app.api.limits`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from ..engine import MODES, PADDING_MODES, POOL_KINDS
from ..engine.transposed_trace import VIEWS
from ..i18n import N_, gettext

MAX_RANK = 6  # (N, C, *spatial) with at most 4 spatial dimensions; the limit is lower
MAX_PARAMETER = 1_000_000_000  # kernel_size, stride, dilation, padding, groups, start, count:
# the server's cap


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
            names = {"bool": N_("booleans"), "str": N_("strings"), "NoneType": N_("nulls"),
                     "list": N_("lists nested deeper than their siblings"),
                     "dict": N_("objects")}
            raise _fail(gettext("must hold only numbers, found %(kinds)s") % {
                "kinds": ", ".join(gettext(names[b]) if b in names else b for b in bad)})
        return
    for row in value:
        if not isinstance(row, list) or len(row) != shape[depth + 1]:
            raise _fail(gettext("is ragged: every list at depth %(depth)s must have %(items)s "
                                "items (it must be rectangular)")
                        % {"depth": depth + 1, "items": shape[depth + 1]})
        _check_rows(row, shape, depth + 1)


def parse_nested(value: Any, min_ndim: int = 1, max_ndim: int = MAX_RANK) -> NestedArray:
    """Check that ``value`` is a rectangular nested list of numbers with ``min_ndim`` to
    ``max_ndim`` dimensions; measure its shape."""
    if isinstance(value, NestedArray):
        return value
    shape: list[int] = []
    probe = value
    while isinstance(probe, list):
        shape.append(len(probe))
        if len(shape) > max_ndim:
            raise _fail(gettext("has too many dimensions (at most %(most)s)")
                        % {"most": max_ndim})
        if not probe:  # [] says nothing of the sizes below it, so N = 0 cannot travel
            raise _fail(gettext("has an empty dimension: every list needs at least one item "
                                "(a nested list cannot carry the sizes inside an empty one, so "
                                "an empty batch, N = 0, cannot be sent)"))
        probe = probe[0]
    if not shape:
        raise _fail(gettext("must be an array (a nested list of numbers)"))
    if len(shape) < min_ndim:
        raise _fail(gettext("must have at least %(least)s dimensions, got %(ndim)s (shape "
                            "%(shape)s)") % {"least": min_ndim, "ndim": len(shape),
                                             "shape": shape})
    _check_rows(value, tuple(shape), 0)
    return NestedArray(value, tuple(shape))


# One named schema per number of dimensions, each a non-empty list of the one below it:
# Array1D is a list of numbers, Array2D a list of Array1D, ..., Array6D. A recursive schema
# (NestedNumbers = number | [NestedNumbers]) would be shorter, but openapi-python-client
# leaves out every endpoint that uses one ("recursive and circular references are not
# supported directly in an array schema's items"), and it would allow a number beside a
# list. What no JSON Schema can say is that the lists at one depth have one length.
ARRAY_SCHEMAS: dict[int, Any] = {}
for _ndim in range(1, MAX_RANK + 1):
    ARRAY_SCHEMAS[_ndim] = TypeAliasType(f"Array{_ndim}D", Annotated[
        list[float] if _ndim == 1 else list[ARRAY_SCHEMAS[_ndim - 1]],  # type: ignore[valid-type]
        Field(min_length=1, description="a non-empty list of numbers" if _ndim == 1 else
              f"a {_ndim}-D array: a non-empty list of Array{_ndim - 1}D, all of one shape"),
    ])


def arrays(min_ndim: int, max_ndim: int = MAX_RANK) -> Any:
    """The schema of an array with ``min_ndim`` to ``max_ndim`` dimensions."""
    return Union[tuple(ARRAY_SCHEMAS[n] for n in range(min_ndim, max_ndim + 1))]  # noqa: UP007


def Array(description: str, min_ndim: int, max_ndim: int = MAX_RANK) -> Any:
    """A request array (reads as a type in the models below), described as one of the named
    ``ArrayND`` schemas and checked here for just what they say, even where the array goes
    unused (a ``target`` without loss 'mse')."""
    def parse(value: Any) -> NestedArray:
        return parse_nested(value, min_ndim, max_ndim)

    return Annotated[NestedArray,
                     PlainValidator(parse, json_schema_input_type=arrays(min_ndim, max_ndim)),
                     Field(description=description)]


def ArrayOut(description: str, min_ndim: int, max_ndim: int = MAX_RANK) -> Any:
    """A response array, described as :func:`Array` describes a request's."""
    return Annotated[arrays(min_ndim, max_ndim), Field(description=description)]


def _integer(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": MAX_PARAMETER}


def _per_axis(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": item}


# Checked by the engine, not by pydantic, so that its messages say what was expected
IntOrPerAxis = Annotated[Any, WithJsonSchema({"anyOf": [_integer(1), _per_axis(_integer(1))]})]
PaddingSpec = Annotated[Any, WithJsonSchema({
    "anyOf": [
        _integer(0),
        _per_axis(_integer(0)),
        _per_axis({"type": "array", "items": _integer(0), "minItems": 2, "maxItems": 2}),
        {"type": "string", "enum": ["valid", "same", "full"]},
    ],
    "description": "an int, one int per spatial dimension, one [before, after] pair per "
                   "dimension, or 'valid', 'same' (stride 1 only) or 'full'; a list of one "
                   "int or one pair is that padding on every dimension",
})]
GroupsSpec = Annotated[Any, WithJsonSchema(_integer(1))]
NaturalOrPerAxis = Annotated[Any, WithJsonSchema({"anyOf": [_integer(0),
                                                            _per_axis(_integer(0))]})]
Flag = Annotated[Any, WithJsonSchema({"type": "boolean"})]

# The query strings of GET /api/v1/shape: 1 to 8 integers, separated by commas
_POSITIVE = f"(?:[1-9][0-9]{{0,8}}|{MAX_PARAMETER})"  # 1 to MAX_PARAMETER, no leading zeros
_NATURAL = f"(?:0|{_POSITIVE})"
POSITIVE_LIST = f"^{_POSITIVE}(?:,{_POSITIVE}){{0,7}}$"
PADDING_LIST = f"^(?:valid|same|full|{_NATURAL}(?:,{_NATURAL}){{0,7}})$"
PATTERN_WORDS = {  # what a string that fails the pattern should have been (%(most)s:
    # MAX_PARAMETER); translated where it is shown (app.api.errors)
    POSITIVE_LIST: N_("must be 1 to 8 integers from 1 to %(most)s, separated by commas "
                      "(e.g. 28,28)"),
    PADDING_LIST: N_("must be 1 to 8 integers from 0 to %(most)s, separated by commas "
                     "(e.g. 1,1), or 'valid', 'same' or 'full'"),
}

LESSON_INPUT = [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]]
LESSON_KERNEL = [[[[0, 1], [2, 3]]]]


# What the schema cannot say, the descriptions do: how the shapes must agree. A body the
# schema allows that breaks one of them gets a 422 naming the field.
class ConvParams(BaseModel):
    """The arguments of ``torch.nn.functional.conv{1,2,3}d``, plus ``padding_mode`` and ``mode``."""

    model_config = ConfigDict(extra="forbid")

    input: Array("shape (N, C_in, *spatial) or unbatched (C_in, *spatial); rectangular: the "
                 "lists at one depth all have one length. N is at least 1: the engine takes "
                 "an empty batch (N = 0), but a nested list cannot carry its other sizes", 2)
    weight: Array("shape (C_out, C_in / groups, *kernel): as many kernel axes as the input "
                  "has spatial ones, C_in / groups channels, and the (dilated) kernel no "
                  "larger than the padded input", 3)
    bias: Array("shape (C_out,): one value per output channel", 1, 1) | None = None
    stride: IntOrPerAxis = Field(1, description="an int, or one per spatial dimension; a list "
                                                "of one is that value for every dimension")
    padding: PaddingSpec = 0
    dilation: IntOrPerAxis = Field(1, description="an int, or one per spatial dimension (a "
                                                  "list of one: for every dimension); 1 "
                                                  "means no gaps")
    groups: GroupsSpec = Field(1, description="divides both channel counts, C_in and C_out; "
                                             "C_in for depthwise")
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
    output: ArrayOut("shape output_shape", 2) = Field(
        examples=[[[[[19.0, 25.0], [37.0, 43.0]]]]])
    output_shape: list[int] = Field(examples=[[1, 1, 2, 2]])


class Deltas(BaseModel):
    """The upstream gradient of a backward pass: ``grad_output``, or a ``loss`` to derive
    it from (a mixin: the models below put it after their operation's arguments)."""

    grad_output: Array("dL/dy, the output's shape; give it or a loss, not both", 2) | None = None
    loss: Literal["sum", "mse"] | None = Field(
        None, description="instead of grad_output: 'sum' (L = sum of outputs) or 'mse' "
                          "(L = mean((y - target)^2), needs target)")
    target: Array("with loss 'mse': the wanted output, the output's shape", 2) | None = None


class BackwardRequest(Deltas, ConvParams):
    """Give ``grad_output`` (dL/dy, the output's shape), or a ``loss`` to derive it from."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": [[1, 2, 3, 4, 5]], "weight": [[[1, 0, -1]]],
         "grad_output": [[0.1, 0.2, 0.3]]},
        {"input": LESSON_INPUT, "weight": LESSON_KERNEL, "loss": "sum"},
    ]})


class BackwardResponse(BaseModel):
    grad_input: ArrayOut("dL/dx, the input's shape", 2)
    grad_weight: ArrayOut("dL/dw, the weight's shape", 3)
    grad_bias: ArrayOut("dL/db, shape (C_out,)", 1, 1)
    grad_output: ArrayOut("with a loss: the delta it produced", 2) | None = None
    output: ArrayOut("with a loss: the forward output", 2) | None = None
    loss: float | None = Field(None, description="with a loss: its value")


POOL_INPUT = [[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 2], [6, 0, 3, 9]]]  # one 4 x 4 map (C, H, W)
POOL_INPUT = [POOL_INPUT]  # (N, C, H, W): an int kernel_size pools H and W


class PoolParams(BaseModel):
    """The arguments of ``torch.nn.functional.max_pool{1,2,3}d`` (``kind`` "max") and
    ``avg_pool{1,2,3}d`` (``kind`` "avg")."""

    model_config = ConfigDict(extra="forbid")

    input: Array("shape (N, C, *spatial) or unbatched (C, *spatial), as many spatial axes "
                 "as kernel_size says; rectangular. N is at least 1", 2)
    kind: Literal[POOL_KINDS] = Field(  # type: ignore[valid-type]
        description="'max' (the largest cell of each window; ties to the first, padding "
                    "-inf) or 'avg' (the mean; padding 0)")
    kernel_size: IntOrPerAxis = Field(
        description="the window: one int per spatial axis, or one int for every axis after "
                    "(N, C) (so a 3-D input with an int is batched 1-D)")
    stride: IntOrPerAxis | None = Field(None, description="an int or one per spatial "
                                                          "dimension; default kernel_size")
    padding: NaturalOrPerAxis = Field(0, description="an int or one per spatial dimension, "
                                                     "at most kernel_size // 2 (PyTorch's "
                                                     "rule)")
    dilation: IntOrPerAxis = Field(1, description="'max' only (1 for 'avg'): an int or one "
                                                  "per spatial dimension")
    ceil_mode: Flag = Field(False, description="round the output size up; the last window "
                                               "must start inside the input or left padding")
    count_include_pad: Flag = Field(True, description="'avg' only: divide by the window's "
                                                      "padding cells too (true) or only its "
                                                      "input cells (false)")

    def pool_params(self) -> dict[str, Any]:
        """What :func:`~app.engine.pool_plan` takes besides the shape, kind and kernel."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}


class PoolForwardRequest(PoolParams):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": POOL_INPUT, "kind": "max", "kernel_size": 2},
        {"input": [[0, 1, 2, 3, 4]], "kind": "avg", "kernel_size": 3, "stride": 2,
         "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ]})


class PoolForwardResponse(BaseModel):
    output: ArrayOut("shape output_shape", 2) = Field(examples=[[[[[5.0, 8.0], [6.0, 9.0]]]]])
    output_shape: list[int] = Field(examples=[[1, 1, 2, 2]])


class PoolBackwardRequest(PoolParams):
    """Give ``grad_output`` (dL/dy, the output's shape), or a ``loss`` to derive it from."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": POOL_INPUT, "kind": "max", "kernel_size": 2,
         "grad_output": [[[[10, 20], [30, 40]]]]},
        {"input": [[1, 3, 3, 2]], "kind": "max", "kernel_size": 3, "stride": 1,
         "loss": "sum"},
    ]})

    grad_output: Array("dL/dy, the output's shape; give it or a loss, not both", 2) | None = None
    loss: Literal["sum", "mse"] | None = Field(
        None, description="instead of grad_output: 'sum' (L = sum of outputs) or 'mse' "
                          "(L = mean((y - target)^2), needs target)")
    target: Array("with loss 'mse': the wanted output, the output's shape", 2) | None = None


class PoolBackwardResponse(BaseModel):
    grad_input: ArrayOut("dL/dx, the input's shape: each δ at its window's winner ('max') "
                         "or spread over its window ('avg')", 2)
    grad_output: ArrayOut("with a loss: the delta it produced", 2) | None = None
    output: ArrayOut("with a loss: the forward output", 2) | None = None
    loss: float | None = Field(None, description="with a loss: its value")


TraceKind = Literal["forward", "grad_weight", "grad_input", "grad_bias"]
#: the operations /api/v1/trace traces; one more is one more value here and one handler in
#: app/api/compute.py's TRACERS
TRACE_OPS = ("conv", "transposed", "max_pool", "avg_pool")
TraceOp = Literal[TRACE_OPS]  # type: ignore[valid-type]
TraceView = Literal[VIEWS]  # type: ignore[valid-type]
#: the fields of a trace request that only one kind of op reads
CONV_ONLY = ("weight", "bias", "groups", "padding_mode", "mode")
POOL_ONLY = ("kernel_size", "ceil_mode", "count_include_pad")


class TraceRequest(BackwardRequest):
    """A window of steps of one pass of one operation. Backward parts need ``grad_output``
    or a ``loss``.

    ``op`` says what is traced: a convolution (``weight``, and ``groups``, ``padding_mode``,
    ``mode`` as for /forward); a transposed convolution (``op: "transposed"``: the fields of
    ``POST /api/v1/transposed/forward``, weight ``(C_in, C_out / groups, *kernel)``, padding
    an int or one per axis, ``output_padding``, and ``view`` says how to step through it);
    or a pool (``kernel_size``, ``ceil_mode`` and, for ``avg_pool``, ``count_include_pad``,
    as for /pool/forward), whose parts are ``forward`` and ``grad_input``. A field of
    another op is refused with a 422 naming it.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": LESSON_INPUT, "weight": LESSON_KERNEL, "part": "forward", "start": 0,
         "count": 4},
        {"input": [[1, 2, 3, 4, 5]], "weight": [[[1, 0, -1]]], "grad_output": [[0.1, 0.2, 0.3]],
         "part": "grad_weight"},
        {"op": "max_pool", "input": POOL_INPUT, "kernel_size": 2, "part": "forward"},
        {"op": "avg_pool", "input": POOL_INPUT, "kernel_size": 2, "loss": "sum",
         "part": "grad_input"},
        {"op": "transposed", "view": "scatter", "input": [[1, 2]], "weight": [[[1, 10, 100]]],
         "stride": 2},
    ]})

    op: TraceOp = Field("conv", description="what to trace: 'conv' (the convolution, the "
                                            "default), 'transposed' (the transposed "
                                            "convolution), 'max_pool' or 'avg_pool'")
    weight: Array("op 'conv' and 'transposed' (required there): shape (C_out, C_in / groups, "
                  "*kernel) for 'conv', as for /forward, and (C_in, C_out / groups, *kernel) "
                  "for 'transposed'", 3) | None = None  # type: ignore[assignment]
    stride: IntOrPerAxis | None = Field(  # type: ignore[assignment]
        None, description="an int, or one per spatial dimension; default 1 for 'conv' and "
                          "'transposed', kernel_size for a pool")
    kernel_size: IntOrPerAxis | None = Field(
        None, description="a pool's window (required for 'max_pool' and 'avg_pool'): an int "
                          "for every axis after (N, C), or one per spatial axis")
    ceil_mode: Flag | None = Field(None, description="a pool's output size rounded up "
                                                     "(default false)")
    count_include_pad: Flag | None = Field(
        None, description="'avg_pool': divide by the padding cells too (default true)")
    part: TraceKind = Field("forward", description="which pass to trace; op 'transposed' "
                                                   "traces its forward pass")
    view: TraceView | None = Field(
        None, description="op 'transposed' only: 'scatter' (the default: one step per input "
                          "element, the kernel it stamps into the output and the running "
                          "sums) or 'gather' (one step per output element: the input "
                          "elements and taps that reach it)")
    output_padding: NaturalOrPerAxis | None = Field(
        None, description="op 'transposed' only: cells given back at the end of each axis, "
                          "an int or one per axis, below the stride or the dilation")
    start: Annotated[Any, WithJsonSchema(_integer(0))] = Field(
        0, description="the first step wanted; below total_steps")
    count: Annotated[Any, WithJsonSchema(_integer(1))] | None = Field(
        None, description="steps wanted (default: to the end); a response holds at most "
                          "the server's max_trace_steps, and next_start says where to go on")

    def engine_params(self) -> dict[str, Any]:
        params = super().engine_params()
        if self.stride is None:
            params["stride"] = 1
        return params

    def pool_params(self) -> dict[str, Any]:
        """What :func:`~app.engine.pool_plan` takes besides the shape, kind and kernel."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "ceil_mode": False if self.ceil_mode is None else self.ceil_mode,
                "count_include_pad": True if self.count_include_pad is None
                else self.count_include_pad}


class TraceResponse(BaseModel):
    """Column-oriented steps: ``steps[name][j]`` belongs to step ``start + j``.

    Step ``i`` computes element ``unravel_index(i, result_shape)`` of the result (C order);
    a scatter step stamps input element ``steps.index[j]`` instead.
    """

    op: TraceOp = "conv"
    part: TraceKind
    view: TraceView | None = Field(None, description="op 'transposed': the view traced")
    total_steps: int
    start: int
    count: int
    next_start: int | None = Field(description="where the next window starts, or null")
    result_shape: list[int]
    layout: dict[str, str] = Field(description="what the step arrays' axes mean")
    # lists of any depth, and empty where a step has no terms (an input cell a stride skips)
    shared: dict[str, list] = Field(description="arrays that are the same for every step")
    steps: dict[str, list] = Field(description="one list per quantity, one item per step")
    terms: dict[str, list] | None = Field(
        None, description="grad_input only: every step's terms, one list per quantity, step "
                          "j's at steps.offsets[j]:steps.offsets[j + 1]")


class TransposedParams(BaseModel):
    """The arguments of ``torch.nn.functional.conv_transpose{1,2,3}d``."""

    model_config = ConfigDict(extra="forbid")

    input: Array("shape (N, C_in, *spatial) or unbatched (C_in, *spatial); rectangular. N is "
                 "at least 1 (a nested list cannot carry the sizes of an empty batch)", 2)
    weight: Array("shape (C_in, C_out / groups, *kernel), as PyTorch lays out a transposed "
                  "convolution's weight: one set of C_out / groups kernels per input channel, "
                  "as many kernel axes as the input has spatial ones", 3)
    bias: Array("shape (C_out,): one value per output channel", 1, 1) | None = None
    stride: IntOrPerAxis = Field(1, description="an int, or one per spatial dimension (a list "
                                                "of one: for every dimension): the distance "
                                                "between neighbouring stamps")
    padding: NaturalOrPerAxis = Field(0, description="an int, or one per spatial dimension: "
                                                     "cells cropped from both ends of each "
                                                     "axis of the output")
    output_padding: NaturalOrPerAxis = Field(
        0, description="an int, or one per spatial dimension: cells given back at the end of "
                       "each axis; below the stride or the dilation, as PyTorch says")
    dilation: IntOrPerAxis = Field(1, description="an int, or one per spatial dimension; 1 "
                                                  "means no gaps between the kernel's taps")
    groups: GroupsSpec = Field(1, description="divides C_in; C_out is weight's second "
                                              "dimension times groups")

    def engine_params(self) -> dict[str, Any]:
        return {"stride": self.stride, "padding": self.padding,
                "output_padding": self.output_padding, "dilation": self.dilation,
                "groups": self.groups}


TRANSPOSED_INPUT = [[1, 2]]  # two cells whose stamps overlap at stride 2
TRANSPOSED_KERNEL = [[[1, 10, 100]]]


class TransposedForwardRequest(TransposedParams):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": TRANSPOSED_INPUT, "weight": TRANSPOSED_KERNEL, "stride": 2},
        {"input": [[[[1, 2], [3, 4]]]], "weight": [[[[1, 1], [1, 1]]]], "stride": 2,
         "padding": 1, "output_padding": 1},
    ]})


class TransposedForwardResponse(BaseModel):
    output: ArrayOut("shape output_shape: (N, C_out, *out), out = (I - 1) x stride - 2 x "
                     "padding + dilation x (K - 1) + output_padding + 1", 2) = Field(
        examples=[[[1.0, 10.0, 102.0, 20.0, 200.0]]])
    output_shape: list[int] = Field(examples=[[1, 5]])


class TransposedBackwardRequest(Deltas, TransposedParams):
    """Give ``grad_output`` (dL/dy, the output's shape), or a ``loss`` to derive it from."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"input": TRANSPOSED_INPUT, "weight": TRANSPOSED_KERNEL, "stride": 2,
         "grad_output": [[1, 0, 1, 0, 1]]},
        {"input": TRANSPOSED_INPUT, "weight": TRANSPOSED_KERNEL, "stride": 2, "loss": "sum"},
    ]})


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
    values: ArrayOut("the array, for kernels, images, signals", 1) | None = None
