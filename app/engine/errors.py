"""The engine's errors: each one names the argument at fault and says what was expected."""

from __future__ import annotations


class ConvolutionError(ValueError):
    """Invalid arguments to a convolution.

    ``field`` names the argument at fault (``"input"``, ``"weight"``, ``"stride"``, ...), so
    callers such as the HTTP API can point at it without parsing the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ShapeError(ConvolutionError):
    """An array has the wrong rank or size, or the shapes do not fit together."""


class ParameterError(ConvolutionError):
    """A geometry parameter (stride, padding, dilation, groups, mode) is invalid."""


class ValueRangeError(ConvolutionError):
    """An array holds values the engine cannot use (NaN, infinity, non-numbers)."""
