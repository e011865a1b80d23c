"""Every invalid argument is refused with a ValueError subclass that names the argument
(``.field``) and says what was expected and what arrived."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import (
    ConvolutionError,
    ParameterError,
    ShapeError,
    ValueRangeError,
    backward,
    forward,
    output_shape,
)

X = np.ones((1, 2, 5, 5))  # N=1, C_in=2, 5 x 5
W = np.ones((3, 2, 3, 3))  # C_out=3, 3 x 3 kernel; output (1, 3, 3, 3)
B = np.zeros(3)
DY = np.ones((1, 3, 3, 3))


def with_value(arr: np.ndarray, value: float) -> np.ndarray:
    out = arr.copy()
    out.flat[-1] = value
    return out


CASES = [
    # ranks
    pytest.param(lambda: forward(np.ones((1, 2, 5, 5, 5)), W), ShapeError, "input",
                 r"expected input with 3 dimensions \(C_in, \*spatial\) or 4 dimensions "
                 r"\(N, C_in, \*spatial\) .* got 5 dimensions with shape \[1, 2, 5, 5, 5\]",
                 id="input-rank-too-high"),
    pytest.param(lambda: forward(np.ones((5, 5)), W), ShapeError, "input",
                 r"expected input with 3 dimensions .* got 2 dimensions", id="input-rank-too-low"),
    pytest.param(lambda: forward(X, np.ones((3, 2))), ShapeError, "weight",
                 r"weight must have at least 3 dimensions \(C_out, C_in/groups, \*kernel\), "
                 r"got 2 dimensions", id="weight-rank-2"),
    pytest.param(lambda: forward(X, np.ones(3)), ShapeError, "weight",
                 r"at least 3 dimensions .* got 1 dimensions", id="weight-rank-1"),
    # channels and groups
    pytest.param(lambda: forward(np.ones((1, 4, 5, 5)), np.ones((2, 3, 2, 2))), ShapeError,
                 "weight", r"weight expects 3 input channels per group \(groups=1, so 3 in all\), "
                 r"input has 4", id="channel-mismatch"),
    pytest.param(lambda: forward(np.ones((1, 4, 5, 5)), np.ones((2, 1, 2, 2)), groups=2),
                 ShapeError, "weight",
                 r"weight expects 1 input channel per group \(groups=2, so 2 in all\), "
                 r"input has 4", id="channel-mismatch-groups"),
    pytest.param(lambda: forward(np.ones((1, 4, 5, 5)), np.ones((3, 1, 2, 2)), groups=3),
                 ParameterError, "groups",
                 r"input channels \(4\) must be divisible by groups \(3\)",
                 id="groups-not-dividing-c-in"),
    pytest.param(lambda: forward(np.ones((1, 4, 5, 5)), np.ones((3, 2, 2, 2)), groups=2),
                 ParameterError, "groups",
                 r"output channels \(weight's first dimension, 3\) must be divisible by "
                 r"groups \(2\)", id="groups-not-dividing-c-out"),
    pytest.param(lambda: forward(X, W, groups=0), ParameterError, "groups",
                 r"groups must be positive, got 0", id="groups-zero"),
    pytest.param(lambda: forward(X, W, groups=-2), ParameterError, "groups",
                 r"groups must be positive, got -2", id="groups-negative"),
    # stride, dilation, padding values
    pytest.param(lambda: forward(X, W, stride=0), ParameterError, "stride",
                 r"stride must be positive, got 0", id="stride-zero"),
    pytest.param(lambda: forward(X, W, stride=[1, -1]), ParameterError, "stride",
                 r"stride must be positive, got -1", id="stride-negative-per-dim"),
    pytest.param(lambda: forward(X, W, dilation=0), ParameterError, "dilation",
                 r"dilation must be positive, got 0", id="dilation-zero"),
    pytest.param(lambda: forward(X, W, dilation=(0, 1)), ParameterError, "dilation",
                 r"dilation must be positive, got 0", id="dilation-zero-per-dim"),
    pytest.param(lambda: forward(X, W, padding=-1), ParameterError, "padding",
                 r"padding must be non-negative, got -1", id="padding-negative"),
    pytest.param(lambda: forward(X, W, padding=[0, -1]), ParameterError, "padding",
                 r"padding must be non-negative, got -1", id="padding-negative-per-dim"),
    pytest.param(lambda: forward(X, W, padding=[(0, 1), (1, -1)]), ParameterError, "padding",
                 r"padding must be non-negative, got \[1, -1\]", id="padding-negative-pair"),
    # one value per spatial dimension, or one for all of them
    pytest.param(lambda: forward(X, W, stride=[1, 1, 1]), ParameterError, "stride",
                 r"stride must be an integer or a list of 1 or 2 integers \(one per spatial "
                 r"dimension, or one for all of them\), got 3 values: \[1, 1, 1\]",
                 id="stride-too-many"),
    pytest.param(lambda: forward(X, W, stride=[]), ParameterError, "stride",
                 r"stride must be an integer or a list of 1 or 2 integers .* got 0 values: \[\]",
                 id="stride-empty-list"),
    pytest.param(lambda: forward(np.ones((1, 2, 4, 4, 4)), np.ones((3, 2, 2, 2, 2)),
                                 dilation=(2, 1)), ParameterError, "dilation",
                 r"dilation must be an integer or a list of 1 or 3 integers .* got 2 values: "
                 r"\(2, 1\)", id="dilation-two-for-3d"),
    pytest.param(lambda: forward(np.ones((1, 1, 5)), np.ones((1, 1, 2)), stride=[1, 1]),
                 ParameterError, "stride", r"stride must be an integer or a list of 1 integer "
                 r"\(one per spatial dimension, or one for all of them\), got 2 values",
                 id="stride-two-for-1d"),
    pytest.param(lambda: forward(X, W, padding=[1, 1, 1]), ParameterError, "padding",
                 r"padding must be an integer or a list of 1 or 2 integers .* got 3 values",
                 id="padding-too-many"),
    pytest.param(lambda: forward(X, W, stride=[0]), ParameterError, "stride",
                 r"stride must be positive, got 0", id="stride-one-zero"),
    pytest.param(lambda: forward(X, W, stride=[2.0]), ParameterError, "stride",
                 r"stride must be an integer, got 2\.0", id="stride-one-float"),
    pytest.param(lambda: forward(X, W, dilation=[[2]]), ParameterError, "dilation",
                 r"dilation must be an integer, got \[2\]", id="dilation-one-list"),
    pytest.param(lambda: forward(np.ones((1, 2, 4, 4, 4)), np.ones((3, 2, 2, 2, 2)),
                                 padding=[(1, 1), (0, 0)]), ParameterError, "padding",
                 r"padding as pairs must be 1 or 3 \(before, after\) pairs \(one per spatial "
                 r"dimension, or one for all of them\), got \[\(1, 1\), \(0, 0\)\]",
                 id="pairs-two-for-3d"),
    pytest.param(lambda: forward(X, W, padding=[(1, 1, 1), (1, 1)]), ParameterError, "padding",
                 r"padding as pairs must be 1 or 2 \(before, after\) pairs", id="pair-of-three"),
    pytest.param(lambda: forward(X, W, padding=[(1, 1, 1)]), ParameterError, "padding",
                 r"padding as pairs must be 1 or 2 \(before, after\) pairs .* got "
                 r"\[\(1, 1, 1\)\]", id="one-pair-of-three"),
    pytest.param(lambda: forward(X, W, padding=[(1, 1), 2]), ParameterError, "padding",
                 r"padding as pairs must be 1 or 2 \(before, after\) pairs", id="pairs-mixed"),
    pytest.param(lambda: forward(X, W, padding=[(1, -1)]), ParameterError, "padding",
                 r"padding must be non-negative, got \[1, -1\]", id="one-pair-negative"),
    # padding names
    pytest.param(lambda: forward(X, W, padding="middle"), ParameterError, "padding",
                 r"padding must be a number, a list, or one of 'valid', 'same', 'full', "
                 r"got 'middle'", id="padding-unknown-name"),
    pytest.param(lambda: forward(X, W, padding="same", stride=2), ParameterError, "padding",
                 r"padding='same' is not supported for strided convolutions \(stride is "
                 r"\[2, 2\]\)", id="same-strided"),
    pytest.param(lambda: forward(X, W, padding="same", stride=(1, 3)), ParameterError,
                 "padding", r"padding='same' is not supported for strided convolutions "
                 r"\(stride is \[1, 3\]\)", id="same-strided-one-axis"),
    # padding modes
    pytest.param(lambda: forward(X, W, padding=5, padding_mode="reflect"), ParameterError,
                 "padding", r"reflect padding must be smaller than the input size: spatial axis 0 "
                 r"has size 5, padding \(5, 5\)", id="reflect-padding-equal-to-size"),
    pytest.param(lambda: forward(np.ones((1, 2, 5, 3)), W, padding=[(0, 0), (0, 4)],
                                 padding_mode="reflect"), ParameterError, "padding",
                 r"reflect padding must be smaller than the input size: spatial axis 1 has "
                 r"size 3, padding \(0, 4\)", id="reflect-padding-second-axis"),
    pytest.param(lambda: forward(X, W, padding=6, padding_mode="circular"), ParameterError,
                 "padding", r"circular padding can wrap around at most once: spatial axis 0 has "
                 r"size 5, padding \(6, 6\)", id="circular-padding-past-size"),
    pytest.param(lambda: forward(X, W, padding_mode="mirror"), ParameterError, "padding_mode",
                 r"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                 r"got 'mirror'", id="padding-mode-unknown"),
    pytest.param(lambda: forward(X, W, padding_mode=None), ParameterError, "padding_mode",
                 r"padding_mode must be one of .* got None", id="padding-mode-none"),
    pytest.param(lambda: forward(X, W, mode="convolve"), ParameterError, "mode",
                 r"mode must be one of 'cross-correlation', 'convolution', got 'convolve'",
                 id="mode-unknown"),
    # kernel against input
    pytest.param(lambda: forward(X, np.ones((3, 2, 6, 6))), ShapeError, "weight",
                 r"Kernel size can't be greater than actual input size: padded input size "
                 r"5 x 5, dilated kernel size 6 x 6", id="kernel-too-large"),
    pytest.param(lambda: forward(X, W, dilation=(1, 3)), ShapeError, "weight",
                 r"Kernel size can't be greater than actual input size: padded input size "
                 r"5 x 5, dilated kernel size 3 x 7", id="dilated-kernel-too-large"),
    pytest.param(lambda: forward(X, np.ones((3, 2, 8, 1)), padding=[(1, 1), (0, 0)]),
                 ShapeError, "weight", r"Kernel size can't be greater than actual input size: "
                 r"padded input size 7 x 5, dilated kernel size 8 x 1",
                 id="kernel-too-large-for-padded"),
    # empty dimensions: only the batch may be empty
    pytest.param(lambda: forward(np.ones((1, 0, 5, 5)), np.ones((3, 0, 3, 3))), ShapeError,
                 "input", r"input has an empty dimension: shape \[1, 0, 5, 5\]; only the batch "
                 r"dimension N may be 0", id="input-no-channels"),
    pytest.param(lambda: forward(np.ones((0, 5, 5)), W), ShapeError, "input",
                 r"input has an empty dimension: shape \[0, 5, 5\]; only the batch dimension N "
                 r"may be 0", id="unbatched-input-no-channels"),
    pytest.param(lambda: forward(np.ones((0, 0, 5, 5)), np.ones((3, 0, 3, 3))), ShapeError,
                 "input", r"input has an empty dimension: shape \[0, 0, 5, 5\]",
                 id="empty-batch-no-channels"),
    pytest.param(lambda: forward(np.ones((1, 2, 5, 0)), W), ShapeError, "input",
                 r"input has an empty dimension: shape \[1, 2, 5, 0\]; only the batch "
                 r"dimension N may be 0", id="input-empty-spatial"),
    pytest.param(lambda: forward(np.ones((0, 2, 0, 5)), W, padding=2), ShapeError, "input",
                 r"input has an empty dimension: shape \[0, 2, 0, 5\]",
                 id="empty-batch-empty-spatial"),
    pytest.param(lambda: forward(X, np.ones((0, 2, 3, 3))), ShapeError, "weight",
                 r"weight has an empty dimension: shape \[0, 2, 3, 3\]", id="weight-no-outputs"),
    pytest.param(lambda: forward(X[:0], np.ones((3, 2, 3, 0))), ShapeError, "weight",
                 r"weight has an empty dimension: shape \[3, 2, 3, 0\]", id="weight-empty-kernel"),
    pytest.param(lambda: backward(X[:0], W, DY), ShapeError, "grad_output",
                 r"grad_output must have the output's shape \[0, 3, 3, 3\], got \[1, 3, 3, 3\]",
                 id="grad-output-for-an-empty-batch"),
    pytest.param(lambda: forward(X[:0], W, np.zeros(0)), ShapeError, "bias",
                 r"bias must have shape \[3\] .* got shape \[0\]", id="empty-batch-empty-bias"),
    # bias and grad_output shapes
    pytest.param(lambda: forward(X, W, np.zeros(4)), ShapeError, "bias",
                 r"bias must have shape \[3\] \(one value per output channel\), got shape \[4\]",
                 id="bias-too-long"),
    pytest.param(lambda: forward(X, W, np.zeros((3, 1))), ShapeError, "bias",
                 r"bias must have shape \[3\] .* got shape \[3, 1\]", id="bias-2d"),
    pytest.param(lambda: forward(X, W, 0.5), ShapeError, "bias",
                 r"bias must have shape \[3\] .* got shape \[\]", id="bias-scalar"),
    pytest.param(lambda: backward(X, W, np.ones((1, 3, 4, 4))), ShapeError, "grad_output",
                 r"grad_output must have the output's shape \[1, 3, 3, 3\], got \[1, 3, 4, 4\]",
                 id="grad-output-wrong-size"),
    pytest.param(lambda: backward(X[0], W, DY), ShapeError, "grad_output",
                 r"grad_output must have the output's shape \[3, 3, 3\], got \[1, 3, 3, 3\]",
                 id="grad-output-batched-for-unbatched"),
    pytest.param(lambda: backward(X, W, DY, stride=2), ShapeError, "grad_output",
                 r"grad_output must have the output's shape \[1, 3, 2, 2\], got \[1, 3, 3, 3\]",
                 id="grad-output-ignores-stride"),
    # values that are not real numbers
    pytest.param(lambda: forward([[[1, 2], [3]]], W), ValueRangeError, "input",
                 r"input must be a rectangular array of real numbers", id="input-ragged"),
    pytest.param(lambda: forward(X, "abc"), ValueRangeError, "weight",
                 r"weight must be a rectangular array of real numbers", id="weight-string"),
    pytest.param(lambda: forward(X, W, ["a", "b", "c"]), ValueRangeError, "bias",
                 r"bias must be a rectangular array of real numbers", id="bias-strings"),
    pytest.param(lambda: backward(X, W, [[1, 2], [3]]), ValueRangeError, "grad_output",
                 r"grad_output must be a rectangular array of real numbers",
                 id="grad-output-ragged"),
    pytest.param(lambda: forward(np.full((1, 2, 5, 5), "x"), W), ValueRangeError, "input",
                 r"input must hold real numbers, got dtype <U1", id="input-str-array"),
    pytest.param(lambda: forward(X, W.astype(complex)), ValueRangeError, "weight",
                 r"weight must hold real numbers, got dtype complex128", id="weight-complex"),
    pytest.param(lambda: forward(X.astype(object), W), ValueRangeError, "input",
                 r"input must hold real numbers, got dtype object", id="input-object-array"),
    # the same checks through backward() and output_shape()
    pytest.param(lambda: backward(X, W, DY, dilation=0), ParameterError, "dilation",
                 r"dilation must be positive, got 0", id="backward-dilation-zero"),
    pytest.param(lambda: backward(X, np.ones((3, 2)), DY), ShapeError, "weight",
                 r"weight must have at least 3 dimensions", id="backward-weight-rank"),
    pytest.param(lambda: backward(X, W, DY, mode="conv"), ParameterError, "mode",
                 r"mode must be one of", id="backward-mode-unknown"),
    pytest.param(lambda: output_shape((1, 4, 5, 5), (2, 3, 2, 2)), ShapeError, "weight",
                 r"weight expects 3 input channels per group .* input has 4",
                 id="output-shape-channel-mismatch"),
    pytest.param(lambda: output_shape((1, 2, 5, 5), (3, 2, 3, 3), stride=[0, 1]),
                 ParameterError, "stride", r"stride must be positive, got 0",
                 id="output-shape-stride-zero"),
    pytest.param(lambda: output_shape((1, 2, 5, 5), (3, 2, 3, 3), padding=5,
                                      padding_mode="reflect"),
                 ParameterError, "padding", r"reflect padding must be smaller than the input",
                 id="output-shape-reflect"),
]


@pytest.mark.parametrize(("call", "error", "field", "message"), CASES)
def test_invalid_arguments_are_refused(call, error, field, message):
    with pytest.raises(error, match=message) as info:
        call()

    assert info.value.field == field
    assert isinstance(info.value, ConvolutionError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("input", lambda v: forward(with_value(X, v), W, B)),
        ("weight", lambda v: forward(X, with_value(W, v), B)),
        ("bias", lambda v: forward(X, W, with_value(B, v))),
        ("input", lambda v: backward(with_value(X, v), W, DY)),
        ("weight", lambda v: backward(X, with_value(W, v), DY)),
        ("grad_output", lambda v: backward(X, W, with_value(DY, v))),
        ("input", lambda v: forward(with_value(X, v).astype(np.float32), W.astype(np.float32))),
        ("weight", lambda v: forward(X.tolist(), with_value(W, v).tolist())),
    ],
    ids=["forward-input", "forward-weight", "forward-bias", "backward-input", "backward-weight",
         "backward-grad_output", "float32-input", "list-weight"],
)
def test_non_finite_values_are_refused(field, call, bad):
    with pytest.raises(ValueRangeError, match=rf"{field} must hold finite numbers \(no NaN or "
                                              r"infinity\)") as info:
        call(bad)

    assert info.value.field == field


# Geometry parameters must be Python or NumPy integers: not bools, floats or strings, even
# when they equal an integer. Each pair is (a valid value, an invalid one equal to it or not).
NON_INTEGERS = [
    pytest.param("stride", 1, True, id="stride-true"),
    pytest.param("stride", 1, 1.0, id="stride-float"),
    pytest.param("stride", 2, 2.0, id="stride-float-2"),
    pytest.param("stride", 1, "1", id="stride-str"),
    pytest.param("stride", 1, 1.5, id="stride-fraction"),
    pytest.param("stride", [1, 2], [1, 2.0], id="stride-float-per-dim"),
    pytest.param("dilation", 1, True, id="dilation-true"),
    pytest.param("dilation", 2, np.float64(2.0), id="dilation-numpy-float"),
    pytest.param("groups", 1, True, id="groups-true"),
    pytest.param("groups", 1, 1.0, id="groups-float"),
    pytest.param("groups", 1, "1", id="groups-str"),
    pytest.param("padding", 0, False, id="padding-false"),
    pytest.param("padding", 1, 1.0, id="padding-float"),
    pytest.param("padding", [1, 2], [1, 2.0], id="padding-float-per-dim"),
    pytest.param("padding", [(1, 0), (0, 1)], [(1, 0), (0, True)], id="padding-bool-in-pair"),
    pytest.param("padding", [(1, 0), (0, 1)], [(1.0, 0), (0, 1)], id="padding-float-in-pair"),
    pytest.param("padding", 1, None, id="padding-none"),
]

# Shapes no other test uses, so nothing has planned them yet.
COLD_X = np.ones((1, 1, 11, 13))
COLD_W = np.ones((1, 1, 1, 1))


@pytest.mark.parametrize(("field", "good", "bad"), NON_INTEGERS)
def test_non_integer_geometry_is_refused(field, good, bad):
    with pytest.raises(ParameterError, match=rf"{field} must be an integer, got ") as info:
        forward(COLD_X, COLD_W, **{field: bad})

    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        pytest.param("stride", 1, True, id="stride-true"),
        pytest.param("stride", 2, 2.0, id="stride-float"),
        pytest.param("dilation", 2, np.float64(2.0), id="dilation-numpy-float"),
        pytest.param("groups", 1, True, id="groups-true"),
        pytest.param("padding", 0, False, id="padding-false"),
        pytest.param("padding", [(1, 0), (0, 1)], [(1, 0), (0, True)], id="padding-bool-in-pair"),
    ],
)
def test_non_integer_geometry_is_refused_after_a_valid_call(field, good, bad):
    """A server plans the same shapes over and over: a valid call must not make the same
    shapes with an invalid (but equal-comparing) parameter acceptable afterwards."""
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))
    forward(x, w, **{field: good})

    with pytest.raises(ParameterError, match=rf"{field} must be an integer, got ") as info:
        forward(x, w, **{field: bad})
    assert info.value.field == field

    with pytest.raises(ParameterError, match=rf"{field} must be an integer, got "):
        output_shape(x.shape, w.shape, **{field: bad})


def test_error_hierarchy():
    for cls in (ShapeError, ParameterError, ValueRangeError):
        assert issubclass(cls, ConvolutionError)
    assert issubclass(ConvolutionError, ValueError)

    err = ShapeError("input", "input is wrong")
    assert (err.field, err.message, str(err)) == ("input", "input is wrong", "input is wrong")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"padding": 3, "padding_mode": "circular"},
                     [1, 2, 3, 1, 2, 3, 1, 2, 3], id="circular-padding-equal-to-size"),
        pytest.param({"padding": 2, "padding_mode": "reflect"},
                     [3, 2, 1, 2, 3, 2, 1], id="reflect-padding-one-less-than-size"),
        pytest.param({"padding": 9, "padding_mode": "replicate"}, [1] * 9 + [1, 2, 3] + [3] * 9,
                     id="replicate-padding-any-size"),
        pytest.param({"stride": np.int64(2), "padding": np.int32(1)}, [0, 2, 0], id="numpy-ints"),
    ],
)
def test_limits_that_are_accepted(kwargs, expected):
    y = forward([[[1.0, 2, 3]]], [[[1.0]]], **kwargs)

    assert y.tolist() == [[expected]]


def test_kernel_as_large_as_the_padded_input_is_accepted():
    y = forward(X, np.ones((3, 2, 7, 7)), padding=1)

    assert y.shape == (1, 3, 1, 1)
    np.testing.assert_array_equal(y, 50.0)  # 2 channels x 25 ones
