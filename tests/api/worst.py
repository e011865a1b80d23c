"""The costliest requests we know of: each row of the hardening issue's table (a few bytes
that used to buy seconds, gigabytes or a 500), and the worst request we could construct for
each code path under the default limits. ``tests/api/test_costs.py`` sends them to a real
server under an address-space cap; ``bench/costs.py`` times them and prints the figures."""

from __future__ import annotations

from typing import NamedTuple

import orjson


class Costly(NamedTuple):
    name: str
    method: str
    path: str
    body: bytes | None  # JSON
    statuses: tuple[int, ...]  # what a correct server may answer
    field: str | None = None  # the field an error must name, if one is expected


def _post(name: str, path: str, body: dict, *statuses: int, field: str | None = None) -> Costly:
    return Costly(name, "POST", f"/api/v1/{path}", orjson.dumps(body), statuses or (200,),
                  field)


def _ones(*shape: int) -> list:
    value: list | int = 1  # "1," is two bytes a value: 250,000 of them are 500 KB
    for size in reversed(shape):
        value = [value] * size
    return value  # type: ignore[return-value]


def _row_padding(width: int, extent: int) -> int:
    """Padding on each side that makes a row of ``width`` exactly ``extent`` wide."""
    return (extent - width) // 2


# Row by row, the issue's table.
ISSUE_ROWS = [
    _post("backward, stride 10^7 (67 bytes)", "backward",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 10_000_000, "loss": "sum"}),
    _post("backward, stride 2^31", "backward",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 2**31, "loss": "sum"},
          422, field="stride"),
    _post("backward, stride 10^9", "backward",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 10**9, "loss": "sum"}),
    _post("backward 2-D, stride 3000 x 3000", "backward",
          {"input": [[[0, 1], [2, 3]]], "weight": [[[[1]]]], "stride": [3000, 3000],
           "loss": "sum"}),
    _post("backward, input and kernel of 250,000 ones (1 MB)", "backward",
          {"input": _ones(1, 250_000), "weight": _ones(1, 1, 250_000),
           "grad_output": [[1]]}, 200, 413),
    _post("backward, two 1x300 kernels dilated 6680, padding to match (3 KB)", "backward",
          {"input": [[[1], [2]]], "weight": _ones(2, 1, 1, 300), "dilation": [1, 6680],
           "padding": [[0, 0], [_row_padding(1, 6680 * 299 + 1)] * 2], "loss": "sum"},
          200, 413),
    _post("backward, two 1x1000 kernels dilated 2000", "backward",
          {"input": [[[1], [2]]], "weight": _ones(2, 1, 1, 1000), "dilation": [1, 2000],
           "padding": [[0, 0], [_row_padding(1, 2000 * 999 + 1)] * 2], "loss": "sum"},
          200, 413),
    _post("backward, two 1x100000 kernels dilated 20", "backward",
          {"input": [[[1], [2]]], "weight": _ones(2, 1, 1, 100_000), "dilation": [1, 20],
           "padding": [[0, 0], [_row_padding(1, 20 * 99_999 + 1)] * 2], "loss": "sum"},
          200, 413),
    _post("forward, stride 2^63 - 1", "forward",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 2**63 - 1}, 422, field="stride"),
    _post("backward, stride 3 x 10^17", "backward",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 3 * 10**17, "loss": "sum"},
          422, field="stride"),
    _post("backward, stride 3e17 (a float)", "backward",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 3e17, "loss": "sum"},
          422, field="stride"),
    _post("trace, stride 2^64 - 1", "trace",
          {"input": [[0, 1, 2]], "weight": [[[1]]], "stride": 2**64 - 1}, 422,
          field="stride"),
    Costly("shape, padding 2^63 - 1", "GET",
           "/api/v1/shape?input_size=3&kernel_size=2&padding=9223372036854775807", None,
           (422,), "padding"),
    Costly("shape, padding of 190 nines", "GET",
           "/api/v1/shape?input_size=3&kernel_size=2&padding=" + "9" * 190, None, (422,),
           "padding"),
    _post("trace grad_bias, padding 1999999, dilation 3000000", "trace",
          {"input": [[1.0]], "weight": [[[1.0, 1.0]]], "padding": 1_999_999,
           "dilation": 3_000_000, "loss": "sum", "part": "grad_bias"}, 413),
    _post("trace grad_bias, padding 1999999, dilation 3800000", "trace",
          {"input": [[1.0]], "weight": [[[1.0, 1.0]]], "padding": 1_999_999,
           "dilation": 3_800_000, "loss": "sum", "part": "grad_bias"}),
    _post("trace grad_input, replicate padding 1999999, dilation 3000000", "trace",
          {"input": [[1.0]], "weight": [[[1.0, 1.0]]], "padding": 1_999_999,
           "dilation": 3_000_000, "padding_mode": "replicate", "loss": "sum",
           "part": "grad_input"}, 200, 413),
]

# The worst we could construct for each path under the default limits (Settings()).
WORST = [
    _post("forward: 30M MACs (500x500, 11x11)", "forward",
          {"input": _ones(1, 500, 500), "weight": _ones(1, 1, 11, 11)}),
    _post("forward: 1M outputs (500x500 -> 4 maps)", "forward",
          {"input": _ones(1, 500, 500), "weight": _ones(4, 1, 1, 1)}),
    _post("forward: 4M padded cells, reflect", "forward",
          {"input": _ones(1, 500, 500), "weight": _ones(1, 1, 1, 1), "padding": 499,
           "padding_mode": "reflect", "stride": 2}, 200, 413),
    _post("backward: 4M padded cells, stride 2, loss sum", "backward",
          {"input": _ones(1, 2, 2), "weight": _ones(1, 1, 1, 1), "padding": 999,
           "stride": 2, "loss": "sum"}),
    _post("backward: 4M padded replicate, 1M outputs", "backward",
          {"input": _ones(1, 500, 500), "weight": _ones(1, 1, 2, 2), "padding": 750,
           "padding_mode": "replicate", "stride": 2, "loss": "sum"}, 200, 413),
    _post("backward: mse with a 250,000-value target", "backward",
          {"input": _ones(1, 500, 500), "weight": _ones(1, 1, 1, 1), "loss": "mse",
           "target": _ones(1, 500, 500)}),
    _post("backward: 9.9M MACs x 3 (8 -> 8 channels, 64x64, 5x5)", "backward",
          {"input": _ones(8, 64, 64), "weight": _ones(8, 8, 5, 5), "padding": 2,
           "loss": "sum"}, 200, 413),
    _post("backward: strided, many channels (16 -> 16, 100x100, 3x3, stride 2)", "backward",
          {"input": _ones(16, 100, 100), "weight": _ones(16, 16, 3, 3), "stride": 2,
           "loss": "sum"}, 200, 413),
    _post("backward: 3-D 60^3, 3x3x3", "backward",
          {"input": _ones(1, 60, 60, 60), "weight": _ones(1, 1, 3, 3, 3), "padding": 1,
           "loss": "sum"}, 200, 413),
    _post("backward: groups 64, depthwise 1-D", "backward",
          {"input": _ones(64, 3900), "weight": _ones(64, 1, 9), "groups": 64, "padding": 4,
           "loss": "sum"}, 200, 413),
    _post("trace forward: 200,000 terms", "trace",
          {"input": _ones(1, 500, 500), "weight": _ones(1, 1, 11, 11), "part": "forward"}),
    _post("trace grad_weight: 240,000-term steps", "trace",
          {"input": _ones(1, 500, 500), "weight": _ones(1, 1, 11, 11), "part": "grad_weight",
           "loss": "sum"}, 200, 413),
    _post("trace grad_input: 5,000 steps, reflect 3-D", "trace",
          {"input": _ones(1, 20, 20, 20), "weight": _ones(4, 1, 3, 3, 3), "padding": 2,
           "padding_mode": "reflect", "part": "grad_input", "loss": "sum"}),
    _post("trace grad_input: kernel of 200,000 taps", "trace",
          {"input": _ones(1, 50_000), "weight": _ones(1, 1, 200_000), "padding": 100_000,
           "part": "grad_input", "loss": "sum"}, 200, 413),
    _post("pool forward max: 500x500, 3x3, stride 1, padding 1", "pool/forward",
          {"input": _ones(1, 500, 500), "kind": "max", "kernel_size": [3, 3], "stride": 1,
           "padding": 1}),
    _post("pool backward max: 500x500, 3x3, stride 1, loss sum", "pool/backward",
          {"input": _ones(1, 500, 500), "kind": "max", "kernel_size": [3, 3], "stride": 1,
           "padding": 1, "loss": "sum"}, 200, 413),
    _post("pool backward avg: 3-D 60^3, 3x3x3, stride 1, count_include_pad false",
          "pool/backward",
          {"input": _ones(1, 60, 60, 60), "kind": "avg", "kernel_size": [3, 3, 3],
           "stride": 1, "padding": 1, "count_include_pad": False, "loss": "sum"}, 200, 413),
    _post("pool backward max: a kernel of 10^9 taps over 3 cells", "pool/backward",
          {"input": [[1, 2, 3]], "kind": "max", "kernel_size": 10**9, "stride": 1,
           "padding": 5 * 10**8, "loss": "sum"}),
    _post("pool forward max: 250,000 cells, a window of 200,000", "pool/forward",
          {"input": _ones(1, 250_000), "kind": "max", "kernel_size": 200_000, "stride": 1},
          413),
    _post("pool forward avg: 250,000 cells, kernel 1000, stride 1000, ceil_mode", "pool/forward",
          {"input": _ones(1, 250_000), "kind": "avg", "kernel_size": 1000, "padding": 500,
           "ceil_mode": True}),
    _post("trace max_pool: steps of 40x40 windows", "trace",
          {"op": "max_pool", "input": _ones(1, 400, 400), "kernel_size": [40, 40],
           "stride": 1}),
    _post("trace avg_pool grad_input: a window of 100,000", "trace",
          {"op": "avg_pool", "input": _ones(1, 200_000), "kernel_size": 100_000,
           "stride": 1, "part": "grad_input", "loss": "sum"}, 200, 413),
]

# The worst we could construct for the transposed convolution (issue 16), its cost model
# sized against the default limits.
WORST_TRANSPOSED = [
    _post("transposed forward: 27M MACs (400x600, 10x11)", "transposed/forward",
          {"input": _ones(1, 400, 600), "weight": _ones(1, 1, 10, 11)}),
    _post("transposed backward: 8 -> 16 channels, 60x60, 4x4, stride 2, loss sum",
          "transposed/backward",
          {"input": _ones(8, 60, 60), "weight": _ones(8, 16, 4, 4), "stride": 2,
           "padding": 1, "loss": "sum"}),
    _post("transposed backward: 3-D 39^3 -> 986,078 outputs, stride 2, loss sum",
          "transposed/backward",
          {"input": _ones(1, 39, 39, 39), "weight": _ones(1, 2, 3, 3, 3), "stride": 2,
           "loss": "sum"}),
    _post("transposed backward: one cell of a 4M-cell uncropped output", "transposed/backward",
          {"input": [[1]], "weight": [[[1, 1]]], "dilation": 3_999_998, "padding": 1_999_999,
           "loss": "sum"}),
    _post("transposed backward: dilation 10^8 cropped to one cell", "transposed/backward",
          {"input": [[1]], "weight": [[[1, 1]]], "dilation": 10**8, "padding": 5 * 10**7,
           "loss": "sum"}, 413, field="padding"),
    _post("transposed backward: a kernel of 200,000 taps over 50,000 cells",
          "transposed/backward",
          {"input": _ones(1, 50_000), "weight": _ones(1, 1, 200_000), "loss": "sum"}, 413),
    _post("transposed trace scatter: 12,210-term steps (400x600, 10x11)", "trace",
          {"op": "transposed", "view": "scatter", "input": _ones(1, 400, 600),
           "weight": _ones(1, 1, 10, 11)}),
    _post("transposed trace gather: 50,000-term steps", "trace",
          {"op": "transposed", "view": "gather", "input": _ones(1, 50_000),
           "weight": _ones(1, 1, 200_000)}),
    _post("transposed trace scatter: 200,000 stamps a step", "trace",
          {"op": "transposed", "view": "scatter", "input": _ones(1, 50_000),
           "weight": _ones(1, 1, 200_000)}, 413, field="input"),
]
