"""ConvScope's convolution engine: pure NumPy, no web imports.

>>> from app.engine import forward, backward, output_shape
>>> forward([[[0, 1, 2], [3, 4, 5], [6, 7, 8]]], [[[[0, 1], [2, 3]]]]).tolist()
[[[19.0, 25.0], [37.0, 43.0]]]
"""

from .backward import backward
from .errors import ConvolutionError, ParameterError, ShapeError, ValueRangeError
from .forward import forward
from .geometry import MODES, PADDING_MODES, Geometry, output_shape, plan
from .types import Gradients

__all__ = [
    "MODES",
    "PADDING_MODES",
    "ConvolutionError",
    "Geometry",
    "Gradients",
    "ParameterError",
    "ShapeError",
    "ValueRangeError",
    "backward",
    "forward",
    "output_shape",
    "plan",
]
