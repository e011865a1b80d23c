"""ConvScope's engine: the convolution and the other layers of a small CNN (pooling here;
ReLU, linear and softmax cross-entropy in ``layers``, the network in ``network``), in pure
NumPy with no web imports.

>>> from app.engine import forward, backward, output_shape
>>> forward([[[0, 1, 2], [3, 4, 5], [6, 7, 8]]], [[[[0, 1], [2, 3]]]]).tolist()
[[[19.0, 25.0], [37.0, 43.0]]]
>>> from app.engine import conv_transpose
>>> conv_transpose([[1, 2]], [[[1, 10, 100]]], stride=2).tolist()  # overlapping stamps
[[1.0, 10.0, 102.0, 20.0, 200.0]]
>>> from app.engine import conv_matrix
>>> conv_matrix((1, 4), [[[1, 2, 3]]]).tolist()  # vec(y) = W @ vec(x)
[[1.0, 2.0, 3.0, 0.0], [0.0, 1.0, 2.0, 3.0]]
"""

from .backward import backward
from .errors import ConvolutionError, ParameterError, ShapeError, ValueRangeError
from .forward import forward
from .geometry import MODES, PADDING_MODES, Geometry, output_shape, plan
from .matrix import conv_matrix, im2col
from .pool import avg_pool, avg_pool_backward, max_pool, max_pool_backward
from .pool_geometry import POOL_KINDS, PoolGeometry, pool_output_shape, pool_plan
from .transposed import (
    TransposedGeometry,
    conv_transpose,
    conv_transpose_backward,
    conv_transpose_output_shape,
    overlap_counts,
    plan_transposed,
)
from .types import Gradients

__all__ = [
    "MODES",
    "PADDING_MODES",
    "POOL_KINDS",
    "ConvolutionError",
    "Geometry",
    "Gradients",
    "ParameterError",
    "PoolGeometry",
    "ShapeError",
    "TransposedGeometry",
    "ValueRangeError",
    "avg_pool",
    "avg_pool_backward",
    "backward",
    "conv_matrix",
    "conv_transpose",
    "conv_transpose_backward",
    "conv_transpose_output_shape",
    "forward",
    "im2col",
    "max_pool",
    "max_pool_backward",
    "output_shape",
    "overlap_counts",
    "plan",
    "plan_transposed",
    "pool_output_shape",
    "pool_plan",
]
