"""Every invalid argument to the transposed convolution is refused before any computing,
with a ValueError subclass that names the argument (``.field``) and says what was expected
and what arrived."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import (
    ConvolutionError,
    ParameterError,
    ShapeError,
    ValueRangeError,
    conv_transpose,
    conv_transpose_backward,
    conv_transpose_output_shape,
)
from app.engine.naive import conv_transpose_naive
from app.engine.transposed_trace import GatherTrace, ScatterTrace

X = np.ones((1, 2, 4, 4))  # N=1, C_in=2, 4 x 4
W = np.ones((2, 3, 3, 3))  # C_in=2, C_out=3, 3 x 3; output (1, 3, 6, 6)
DY = np.ones((1, 3, 6, 6))


def with_value(arr: np.ndarray, value: float) -> np.ndarray:
    out = arr.copy()
    out.flat[-1] = value
    return out


CASES = [
    # ranks and channels
    pytest.param(lambda: conv_transpose(np.ones((1, 2, 4, 4, 4)), W), ShapeError, "input",
                 r"expected input with 3 dimensions \(C_in, \*spatial\) or 4 dimensions "
                 r"\(N, C_in, \*spatial\) for a weight with 2 spatial dimensions, got 5 "
                 r"dimensions with shape \[1, 2, 4, 4, 4\]", id="input-rank-too-high"),
    pytest.param(lambda: conv_transpose(np.ones((4, 4)), W), ShapeError, "input",
                 r"expected input with 3 dimensions .* got 2 dimensions", id="input-rank-low"),
    pytest.param(lambda: conv_transpose(X, np.ones((2, 3))), ShapeError, "weight",
                 r"weight of a transposed convolution must have at least 3 dimensions "
                 r"\(C_in, C_out/groups, \*kernel\), got 2 dimensions with shape \[2, 3\]",
                 id="weight-rank-2"),
    pytest.param(lambda: conv_transpose(X, np.ones((3, 2, 3, 3))), ShapeError, "weight",
                 r"weight of a transposed convolution has one kernel per input channel \(its "
                 r"first dimension, 3\), input has 2 channels", id="weight-first-dim"),
    pytest.param(lambda: conv_transpose(np.ones((1, 0, 4)), np.ones((0, 1, 2))), ShapeError,
                 "input", r"input has an empty dimension: shape \[1, 0, 4\]; only the batch "
                 r"dimension N may be 0", id="empty-channels"),
    pytest.param(lambda: conv_transpose(np.ones((1, 1, 4)), np.ones((1, 0, 2))), ShapeError,
                 "weight", r"weight has an empty dimension: shape \[1, 0, 2\]",
                 id="empty-weight"),
    pytest.param(lambda: conv_transpose(X, W, np.ones(2)), ShapeError, "bias",
                 r"bias must have shape \[3\] \(one value per output channel: weight's second "
                 r"dimension 3 x groups 1\), got shape \[2\]", id="bias-shape"),
    pytest.param(lambda: conv_transpose(X, np.ones((2, 3, 3, 3)), np.ones(3), groups=2),
                 ShapeError, "bias", r"bias must have shape \[6\] .* dimension 3 x groups 2\), "
                 r"got shape \[3\]", id="bias-shape-groups"),
    # groups
    pytest.param(lambda: conv_transpose(np.ones((1, 3, 4)), np.ones((3, 1, 2)), groups=2),
                 ParameterError, "groups", r"input channels \(3\) must be divisible by groups "
                 r"\(2\)", id="groups-not-dividing"),
    pytest.param(lambda: conv_transpose(X, W, groups=0), ParameterError, "groups",
                 r"groups must be positive, got 0", id="groups-zero"),
    pytest.param(lambda: conv_transpose(X, W, groups=1.0), ParameterError, "groups",
                 r"groups must be an integer, got 1\.0", id="groups-float"),
    # stride, dilation, padding
    pytest.param(lambda: conv_transpose(X, W, stride=0), ParameterError, "stride",
                 r"stride must be positive, got 0", id="stride-zero"),
    pytest.param(lambda: conv_transpose(X, W, stride=True), ParameterError, "stride",
                 r"stride must be an integer, got True", id="stride-bool"),
    pytest.param(lambda: conv_transpose(X, W, stride=[1, 1, 1]), ParameterError, "stride",
                 r"stride must be an integer or a list of 1 or 2 integers \(one per spatial "
                 r"dimension, or one for all of them\), got 3 values: \[1, 1, 1\]",
                 id="stride-too-many"),
    pytest.param(lambda: conv_transpose(X, W, dilation=(1, 0)), ParameterError, "dilation",
                 r"dilation must be positive, got 0", id="dilation-zero"),
    pytest.param(lambda: conv_transpose(X, W, padding=-1), ParameterError, "padding",
                 r"padding must be non-negative, got -1", id="padding-negative"),
    pytest.param(lambda: conv_transpose(X, W, padding="same"), ParameterError, "padding",
                 r"padding of a transposed convolution must be an integer or a list of 1 or 2 "
                 r"integers \(cells cropped from both ends of each axis; PyTorch's "
                 r"conv_transpose takes no names or \(before, after\) pairs\), got 'same'",
                 id="padding-name"),
    pytest.param(lambda: conv_transpose(X, W, padding=[(1, 0), (0, 0)]), ParameterError,
                 "padding", r"takes no names or \(before, after\) pairs\), got \[\(1, 0\), "
                 r"\(0, 0\)\]", id="padding-pairs"),
    pytest.param(lambda: conv_transpose(X, W, padding=2.5), ParameterError, "padding",
                 r"padding must be an integer, got 2\.5", id="padding-float"),
    # output_padding
    pytest.param(lambda: conv_transpose(X, W, output_padding=-1), ParameterError,
                 "output_padding", r"output_padding must be non-negative, got -1",
                 id="output-padding-negative"),
    pytest.param(lambda: conv_transpose(X, W, output_padding=1), ParameterError,
                 "output_padding", r"output_padding must be smaller than either stride or "
                 r"dilation: spatial axis 0 has output_padding 1, stride 1, dilation 1",
                 id="output-padding-stride-1"),
    pytest.param(lambda: conv_transpose(X, W, stride=[2, 3], dilation=[1, 2],
                                        output_padding=[1, 3]), ParameterError,
                 "output_padding", r"spatial axis 1 has output_padding 3, stride 3, "
                 r"dilation 2", id="output-padding-second-axis"),
    pytest.param(lambda: conv_transpose(X, W, output_padding=[0, 0, 0]), ParameterError,
                 "output_padding", r"output_padding must be an integer or a list of 1 or 2 "
                 r"integers .* got 3 values", id="output-padding-too-many"),
    pytest.param(lambda: conv_transpose(X, W, output_padding="1"), ParameterError,
                 "output_padding", r"output_padding must be an integer, got '1'",
                 id="output-padding-string"),
    # the output's size
    pytest.param(lambda: conv_transpose(np.ones((1, 1, 2, 3)), np.ones((1, 1, 1, 1)),
                                        padding=[1, 0]), ShapeError, "padding",
                 r"Output size is too small: input size 2 x 3 gives an output of 0 x 3 \(per "
                 r"axis \(I - 1\) x stride - 2 x padding \+ dilation x \(K - 1\) \+ "
                 r"output_padding \+ 1\); use less padding", id="output-empty"),
    pytest.param(lambda: conv_transpose(np.ones((1, 1, 2)), np.ones((1, 1, 1)), padding=3),
                 ShapeError, "padding", r"input size 2 gives an output of -4",
                 id="output-negative"),
    # values
    pytest.param(lambda: conv_transpose(with_value(X, np.nan), W), ValueRangeError, "input",
                 r"input must hold finite numbers \(no NaN or infinity\)", id="input-nan"),
    pytest.param(lambda: conv_transpose(X, with_value(W, np.inf)), ValueRangeError, "weight",
                 r"weight must hold finite numbers", id="weight-inf"),
    pytest.param(lambda: conv_transpose(X, W, [1.0, 2.0, np.nan]), ValueRangeError, "bias",
                 r"bias must hold finite numbers", id="bias-nan"),
    pytest.param(lambda: conv_transpose(X.astype(complex), W), ValueRangeError, "input",
                 r"input must hold real numbers, got dtype complex128", id="input-complex"),
    pytest.param(lambda: conv_transpose([[1, 2], [3]], [[[1]]]), ValueRangeError, "input",
                 r"input must be a rectangular array of real numbers", id="input-ragged"),
    # backward
    pytest.param(lambda: conv_transpose_backward(X, W, np.ones((1, 3, 5, 5))), ShapeError,
                 "grad_output", r"grad_output must have the output's shape \[1, 3, 6, 6\], got "
                 r"\[1, 3, 5, 5\]", id="grad-output-shape"),
    pytest.param(lambda: conv_transpose_backward(X, W, with_value(DY, np.nan)),
                 ValueRangeError, "grad_output", r"grad_output must hold finite numbers",
                 id="grad-output-nan"),
    pytest.param(lambda: conv_transpose_backward(X, W, DY, stride=0), ParameterError,
                 "stride", r"stride must be positive, got 0", id="backward-stride"),
    # the other entry points share the checks
    pytest.param(lambda: conv_transpose_output_shape((1, 2, 4, 4), (2, 3, 3, 3),
                                                     output_padding=1), ParameterError,
                 "output_padding", r"smaller than either stride or dilation",
                 id="output-shape-helper"),
    pytest.param(lambda: conv_transpose_naive(X, W, padding="full"), ParameterError,
                 "padding", r"takes no names", id="naive"),
    pytest.param(lambda: ScatterTrace(X, W, groups=3), ParameterError, "groups",
                 r"input channels \(2\) must be divisible by groups \(3\)", id="scatter-trace"),
    pytest.param(lambda: GatherTrace(X, W, dilation=0), ParameterError, "dilation",
                 r"dilation must be positive, got 0", id="gather-trace"),
]


@pytest.mark.parametrize(("call", "error", "field", "message"), CASES)
def test_invalid_arguments_are_refused_by_name(call, error, field, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert isinstance(caught.value, ConvolutionError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field


def test_a_value_error_comes_before_a_shape_error():
    """As for the convolution: the arrays' values are checked first, then the shapes."""
    with pytest.raises(ValueRangeError):
        conv_transpose(with_value(X, np.nan), np.ones((3, 3, 3, 3)))


def test_output_padding_up_to_the_dilation_is_accepted_with_stride_1():
    y = conv_transpose(np.ones((1, 1, 3)), np.ones((1, 1, 2)), dilation=3, output_padding=2)
    assert y.shape == (1, 1, 8)
