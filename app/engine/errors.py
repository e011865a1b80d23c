"""The engine's errors: each one names the argument at fault and says what was expected."""

from __future__ import annotations

import reprlib

from ..i18n import gettext


class ConvolutionError(ValueError):
    """Invalid arguments to a convolution.

    ``field`` names the argument at fault (``"input"``, ``"weight"``, ``"stride"``, ...), so
    callers such as the HTTP API can point at it without parsing the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple:
        # pickled whole, so an error raised in the compute process (app.workers) reaches the
        # caller as itself (the default pickles only the message, and then cannot rebuild it)
        return type(self), (self.field, self.message)


class ShapeError(ConvolutionError):
    """An array has the wrong rank or size, or the shapes do not fit together."""


class ParameterError(ConvolutionError):
    """A geometry parameter (stride, padding, dilation, groups, mode) is invalid."""


class ValueRangeError(ConvolutionError):
    """An array holds values the engine cannot use (NaN, infinity, non-numbers)."""


_SHORT = reprlib.Repr()  # Python 3.11's takes no arguments
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 36
_SHORT.maxlist = _SHORT.maxtuple = 6
_SHORT.maxdict, _SHORT.maxlevel = 4, 3


def describe(value: object, limit: int = 40) -> str:
    """``value`` as an error message quotes it: its repr, never longer than ``limit``
    characters, worked out without writing the whole of a long value first (a 5,000-digit
    integer cannot even be written: Python refuses past 4,300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        digits = int(abs(value).bit_length() * 0.30103) + 1
        about = (gettext("a negative integer of about %(digits)s digits") if value < 0
                 else gettext("an integer of about %(digits)s digits"))
        return about % {"digits": digits}
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
