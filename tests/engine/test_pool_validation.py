"""Every invalid pooling argument is refused with a ValueError subclass that names the
argument (``.field``) and says what was expected and what arrived."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import (
    ConvolutionError,
    ParameterError,
    ShapeError,
    ValueRangeError,
    avg_pool,
    avg_pool_backward,
    max_pool,
    max_pool_backward,
    pool_output_shape,
    pool_plan,
)
from app.engine.pool_trace import PoolBackwardTrace, PoolTrace

X = np.ones((1, 2, 4, 4))  # N=1, C=2, 4 x 4
DY = np.ones((1, 2, 2, 2))  # the output of a 2 x 2 pool


def with_value(arr: np.ndarray, value: float) -> np.ndarray:
    out = arr.copy()
    out.flat[-1] = value
    return out


CASES = [
    # kind (the API's field; the functions choose it by name)
    pytest.param(lambda: pool_plan(X.shape, "min", 2), ParameterError, "kind",
                 r"kind must be one of 'max', 'avg', got 'min'", id="kind-unknown"),
    pytest.param(lambda: PoolTrace(X, "mean", 2), ParameterError, "kind",
                 r"kind must be one of 'max', 'avg', got 'mean'", id="trace-kind-unknown"),
    # shapes, ranks and empty dimensions
    pytest.param(lambda: pool_output_shape((1, -2, 4), 2), ShapeError, "input",
                 r"input shape must be non-negative integers, got \[1, -2, 4\]",
                 id="shape-negative"),
    pytest.param(lambda: max_pool(np.ones(4), 2), ShapeError, "input",
                 r"input must have at least 2 dimensions \(C, \*spatial\), got 1 dimensions "
                 r"with shape \[4\]", id="input-rank-1"),
    pytest.param(lambda: max_pool(np.ones((4, 4)), [2, 2]), ShapeError, "input",
                 r"expected input with 3 dimensions \(C, \*spatial\) or 4 dimensions "
                 r"\(N, C, \*spatial\) for a kernel_size of 2 spatial dimensions, got 2 "
                 r"dimensions with shape \[4, 4\]", id="input-rank-too-low"),
    pytest.param(lambda: avg_pool(np.ones((1, 1, 1, 4, 4)), [2, 2]), ShapeError, "input",
                 r"expected input with 3 dimensions .* got 5 dimensions with shape "
                 r"\[1, 1, 1, 4, 4\]", id="input-rank-too-high"),
    pytest.param(lambda: max_pool(np.ones((1, 2, 3)), [2, 2, 2]), ShapeError, "input",
                 r"for a kernel_size of 3 spatial dimensions, got 3 dimensions",
                 id="input-rank-for-3d-kernel"),
    pytest.param(lambda: max_pool(np.ones((1, 0, 4)), 2), ShapeError, "input",
                 r"input has an empty dimension: shape \[1, 0, 4\]; only the batch dimension N "
                 r"may be 0", id="no-channels"),
    pytest.param(lambda: avg_pool(np.ones((0, 4)), 2), ShapeError, "input",
                 r"input has an empty dimension: shape \[0, 4\]", id="unbatched-no-channels"),
    pytest.param(lambda: max_pool(np.ones((2, 1, 0)), 2), ShapeError, "input",
                 r"input has an empty dimension: shape \[2, 1, 0\]", id="empty-spatial"),
    # kernel_size
    pytest.param(lambda: max_pool(X, 0), ParameterError, "kernel_size",
                 r"kernel_size must be positive, got 0", id="kernel-zero"),
    pytest.param(lambda: avg_pool(X, [2, -1]), ParameterError, "kernel_size",
                 r"kernel_size must be positive, got -1", id="kernel-negative"),
    pytest.param(lambda: max_pool(X, []), ParameterError, "kernel_size",
                 r"kernel_size must be an integer or a list of one integer per spatial "
                 r"dimension, got \[\]", id="kernel-empty-list"),
    pytest.param(lambda: max_pool(X, 2.0), ParameterError, "kernel_size",
                 r"kernel_size must be an integer, got 2\.0", id="kernel-float"),
    pytest.param(lambda: max_pool(X, True), ParameterError, "kernel_size",
                 r"kernel_size must be an integer, got True", id="kernel-bool"),
    pytest.param(lambda: avg_pool(X, [2, "2"]), ParameterError, "kernel_size",
                 r"kernel_size must be an integer, got '2'", id="kernel-string-in-list"),
    # stride
    pytest.param(lambda: max_pool(X, 2, stride=0), ParameterError, "stride",
                 r"stride must be positive, got 0", id="stride-zero"),
    pytest.param(lambda: avg_pool(X, 2, stride=[1, 1, 1]), ParameterError, "stride",
                 r"stride must be an integer or a list of 1 or 2 integers \(one per spatial "
                 r"dimension, or one for all of them\), got 3 values: \[1, 1, 1\]",
                 id="stride-too-many"),
    pytest.param(lambda: max_pool(X, 2, stride=1.5), ParameterError, "stride",
                 r"stride must be an integer, got 1\.5", id="stride-fraction"),
    # padding: an int or one per axis, at most half the kernel
    pytest.param(lambda: max_pool(X, 2, padding=-1), ParameterError, "padding",
                 r"padding must be non-negative, got -1", id="padding-negative"),
    pytest.param(lambda: max_pool(X, 2, padding=2), ParameterError, "padding",
                 r"padding must be at most half of kernel_size \(padding <= kernel_size // 2, "
                 r"as PyTorch requires\): spatial axis 0 has kernel_size 2 and padding 2",
                 id="padding-over-half"),
    pytest.param(lambda: avg_pool(X, [3, 3], padding=[1, 2]), ParameterError, "padding",
                 r"spatial axis 1 has kernel_size 3 and padding 2", id="padding-over-half-axis-1"),
    pytest.param(lambda: max_pool(X, 1, padding=1), ParameterError, "padding",
                 r"spatial axis 0 has kernel_size 1 and padding 1", id="padding-kernel-1"),
    pytest.param(lambda: max_pool(X, 2, padding=[(1, 1)]), ParameterError, "padding",
                 r"padding must be an integer, got \(1, 1\)", id="padding-pair"),
    pytest.param(lambda: avg_pool(X, 2, padding="same"), ParameterError, "padding",
                 r"padding must be an integer, got 'same'", id="padding-name"),
    # dilation (max only), ceil_mode, count_include_pad (avg only)
    pytest.param(lambda: max_pool(X, 2, dilation=0), ParameterError, "dilation",
                 r"dilation must be positive, got 0", id="dilation-zero"),
    pytest.param(lambda: max_pool(X, 2, dilation=[1, 2, 1]), ParameterError, "dilation",
                 r"dilation must be an integer or a list of 1 or 2 integers", id="dilation-3"),
    pytest.param(lambda: pool_plan(X.shape, "avg", 2, dilation=2), ParameterError, "dilation",
                 r"average pooling has no dilation \(it must be 1\), got 2",
                 id="avg-dilation"),
    pytest.param(lambda: max_pool(X, 2, ceil_mode=1), ParameterError, "ceil_mode",
                 r"ceil_mode must be true or false, got 1", id="ceil-mode-int"),
    pytest.param(lambda: avg_pool(X, 2, ceil_mode="yes"), ParameterError, "ceil_mode",
                 r"ceil_mode must be true or false, got 'yes'", id="ceil-mode-string"),
    pytest.param(lambda: avg_pool(X, 2, count_include_pad=None), ParameterError,
                 "count_include_pad", r"count_include_pad must be true or false, got None",
                 id="count-include-pad-none"),
    pytest.param(lambda: pool_plan(X.shape, "max", 2, count_include_pad=False),
                 ParameterError, "count_include_pad",
                 r"count_include_pad is for average pooling only: a max counts no cells",
                 id="max-count-include-pad"),
    # the window against the input
    pytest.param(lambda: max_pool(np.ones((1, 1, 3)), 4), ShapeError, "kernel_size",
                 r"Output size is too small: the \(dilated\) window spans 4 cells but the "
                 r"padded input has only 3 \(output size 0\)", id="window-too-large"),
    pytest.param(lambda: avg_pool(X, [5, 2]), ShapeError, "kernel_size",
                 r"the \(dilated\) window spans 5 x 2 cells but the padded input has only "
                 r"4 x 4 \(output size 0 x 2\)", id="window-too-large-2d"),
    pytest.param(lambda: max_pool(X, 2, dilation=4), ShapeError, "kernel_size",
                 r"window spans 5 x 5 cells but the padded input has only 4 x 4",
                 id="dilated-window-too-large"),
    pytest.param(lambda: pool_output_shape((1, 1, 3), 4, stride=1, ceil_mode=True),
                 ShapeError, "kernel_size", r"Output size is too small",
                 id="output-shape-too-small"),
    # grad_output
    pytest.param(lambda: max_pool_backward(X, np.ones((1, 2, 3, 3)), 2), ShapeError,
                 "grad_output", r"grad_output must have the output's shape \[1, 2, 2, 2\], "
                 r"got \[1, 2, 3, 3\]", id="grad-output-wrong-shape"),
    pytest.param(lambda: avg_pool_backward(X[0], DY, [2, 2]), ShapeError, "grad_output",
                 r"grad_output must have the output's shape \[2, 2, 2\], got \[1, 2, 2, 2\]",
                 id="grad-output-batched-for-unbatched"),
    pytest.param(lambda: PoolBackwardTrace(X, DY[..., :1], "max", 2), ShapeError,
                 "grad_output", r"grad_output must have the output's shape", id="trace-dy"),
    # values
    pytest.param(lambda: max_pool([[1, 2], [3]], 1), ValueRangeError, "input",
                 r"input must be a rectangular array of real numbers", id="input-ragged"),
    pytest.param(lambda: avg_pool(X.astype(complex), 2), ValueRangeError, "input",
                 r"input must hold real numbers, got dtype complex128", id="input-complex"),
    pytest.param(lambda: max_pool_backward(X, "abc", 2), ValueRangeError, "grad_output",
                 r"grad_output must be a rectangular array of real numbers",
                 id="grad-output-string"),
    # trace windows
    pytest.param(lambda: PoolTrace(X, "max", 2).steps(-1), ParameterError, "start",
                 r"start must be a non-negative integer, got -1", id="trace-start-negative"),
    pytest.param(lambda: PoolTrace(X, "avg", 2).steps(8), ParameterError, "start",
                 r"start must be below the number of steps \(8\), got 8", id="trace-start-end"),
    pytest.param(lambda: PoolBackwardTrace(X, DY, "max", 2).steps(0, 0), ParameterError,
                 "count", r"count must be a positive integer, got 0", id="trace-count-zero"),
    pytest.param(lambda: PoolTrace(X[:0], "max", 2).step(0), ParameterError, "start",
                 r"there is no step 0: this trace has no steps", id="trace-empty-batch"),
]


@pytest.mark.parametrize(("call", "error", "field", "message"), CASES)
def test_invalid_pooling_arguments_are_refused(call, error, field, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert info.value.field == field
    assert isinstance(info.value, ConvolutionError)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(("field", "call"), [
    ("input", lambda v: max_pool(with_value(X, v), 2)),
    ("input", lambda v: avg_pool(with_value(X, v).astype(np.float32), 2)),
    ("input", lambda v: max_pool_backward(with_value(X, v), DY, 2)),
    ("grad_output", lambda v: avg_pool_backward(X, with_value(DY, v), 2)),
    ("grad_output", lambda v: PoolBackwardTrace(X, with_value(DY, v), "max", 2)),
], ids=["max", "avg-float32", "max-backward", "avg-backward-delta", "trace-delta"])
def test_non_finite_values_are_refused(field, call, bad):
    with pytest.raises(ValueRangeError, match=rf"{field} must hold finite numbers \(no NaN or "
                                              r"infinity\)") as info:
        call(bad)
    assert info.value.field == field


def test_an_invalid_parameter_after_a_valid_call_is_still_refused():
    """Plans are cached by their parameters: 2.0 and True compare equal to 2 and 1."""
    max_pool(X, 2, stride=1)
    with pytest.raises(ParameterError, match=r"stride must be an integer, got 1\.0"):
        max_pool(X, 2, stride=1.0)
    max_pool(X, 2, ceil_mode=True)
    with pytest.raises(ParameterError, match="ceil_mode must be true or false, got 1"):
        max_pool(X, 2, ceil_mode=1)
