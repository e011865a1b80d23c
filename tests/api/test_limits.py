"""Every limit in Settings, exactly at it and one past it: at the limit the request is served;
one over, it is refused with a JSON error naming the limit, its value and the field at fault.

The server runs with small limits chosen so that each case reaches only the limit it is
about (the others stay below theirs)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer

TIGHT = Settings(max_body_bytes=1000, max_array_elements=24, max_spatial_dims=2,
                 max_output_elements=40, max_padded_elements=50, max_macs=48,
                 max_trace_steps=4, max_trace_terms=5)


@pytest.fixture(scope="module")
def tight() -> Iterator[httpx.Client]:
    with LiveServer(TIGHT) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def ones(n: int) -> list[list[int]]:
    """A one-channel 1D signal (unbatched, shape (1, n))."""
    return [[1] * n]


def kernel(k: int) -> list[list[list[int]]]:
    return [[[1] * k]]


# (limit, field, endpoint, body at the limit, body one past it). Sizes, with 1 channel:
# elements = n, output = n + padding - k + 1 (or by stride), MACs = output * k (x3 backward)
CASES = [
    ("max_array_elements", "input", "forward",
     {"input": ones(24), "weight": kernel(1)},
     {"input": ones(25), "weight": kernel(1)}),
    ("max_array_elements", "weight", "forward",  # weight (24 or 25, 1, 1)
     {"input": [[1]], "weight": [[[1]]] * 24},
     {"input": [[1]], "weight": [[[1]]] * 25}),
    ("max_output_elements", "padding", "forward",  # 2 + 19 + 19 = 40 outputs
     {"input": ones(2), "weight": kernel(1), "padding": [[19, 19]]},
     {"input": ones(2), "weight": kernel(1), "padding": [[19, 20]]}),
    ("max_padded_elements", "padding", "forward",  # 50 padded, stride 2 keeps 25 outputs
     {"input": ones(2), "weight": kernel(1), "padding": [[24, 24]], "stride": 2},
     {"input": ones(2), "weight": kernel(1), "padding": [[24, 25]], "stride": 2}),
    ("max_macs", None, "forward",  # 12 outputs x 4 taps = 48; 7 x 7 = 49
     {"input": ones(15), "weight": kernel(4)},
     {"input": ones(13), "weight": kernel(7)}),
    # backward with a loss: the forward pass for the loss (n outputs x 1 tap), the weight
    # gradient (n x 1) and the input gradient as a "full" correlation (n x 1): 3n
    ("max_macs", None, "backward",  # 3 x 16 = 48; 3 x 17 = 51
     {"input": ones(16), "weight": kernel(1), "loss": "sum"},
     {"input": ones(17), "weight": kernel(1), "loss": "sum"}),
    ("max_spatial_dims", "weight", "forward",  # 2D, then 3D
     {"input": [[[1]]], "weight": [[[[1]]]]},
     {"input": [[[[1]]]], "weight": [[[[[1]]]]]}),
    ("max_trace_terms", "input", "trace",  # one step of 5 terms, then of 6
     {"input": ones(5), "weight": kernel(5)},
     {"input": ones(6), "weight": kernel(6)}),
    # pools: macs are the cells the windows read; 16 windows of 3 cells, then 7 of 7
    ("max_macs", None, "pool/forward",
     {"input": ones(18), "kind": "avg", "kernel_size": 3, "stride": 1},
     {"input": ones(13), "kind": "max", "kernel_size": 7, "stride": 1}),
    # backward with a loss: the forward pass (16 cells), then the max again and the routing
    ("max_macs", None, "pool/backward",
     {"input": ones(16), "kind": "max", "kernel_size": 1, "loss": "sum"},
     {"input": ones(17), "kind": "max", "kernel_size": 1, "loss": "sum"}),
    ("max_array_elements", "input", "pool/forward",
     {"input": ones(24), "kind": "max", "kernel_size": 2},
     {"input": ones(25), "kind": "max", "kernel_size": 2}),
    ("max_spatial_dims", "kernel_size", "pool/forward",
     {"input": [[[1]]], "kind": "max", "kernel_size": [1, 1]},
     {"input": [[[[1]]]], "kind": "max", "kernel_size": [1, 1, 1]}),
    ("max_trace_terms", "input", "trace",
     {"input": ones(5), "op": "max_pool", "kernel_size": 5},
     {"input": ones(6), "op": "avg_pool", "kernel_size": 6}),
]


@pytest.mark.parametrize(("limit", "field", "endpoint", "at", "over"), CASES,
                         ids=[f"{case[0]}-{case[2]}-{case[1]}" for case in CASES])
def test_at_the_limit_is_served_and_one_over_is_refused_by_name(
        tight: httpx.Client, limit: str, field: str | None, endpoint: str, at: dict,
        over: dict) -> None:
    served = tight.post(f"/api/v1/{endpoint}", json=at)
    assert served.status_code == 200, served.text
    refused = tight.post(f"/api/v1/{endpoint}", json=over)
    assert refused.status_code == (422 if limit == "max_spatial_dims" else 413), refused.text
    error = refused.json()
    value = getattr(TIGHT, limit)
    assert (error["limit"], error["limit_value"], error["field"]) == (limit, value, field)
    assert f"{limit}={value}" in error["error"]


def _padded_to(size: int) -> bytes:
    body = b'{"input": [[1, 2, 3]], "weight": [[[1, 1]]]}'
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_exactly_max_body_bytes_is_served_and_one_more_byte_refused(
        tight: httpx.Client, streamed: bool) -> None:
    def send(body: bytes) -> httpx.Response:
        content = iter([body[:500], body[500:]]) if streamed else body
        return tight.post("/api/v1/forward", content=content,
                          headers={"content-type": "application/json"})

    served = send(_padded_to(TIGHT.max_body_bytes))
    assert served.request.headers.get("content-length") == (None if streamed else "1000")
    assert served.json() == {"output": [[3.0, 5.0]], "output_shape": [1, 2]}
    refused = send(_padded_to(TIGHT.max_body_bytes + 1))
    assert refused.status_code == 413
    error = refused.json()
    assert (error["limit"], error["limit_value"], error["field"]) == ("max_body_bytes", 1000,
                                                                      None)
    assert "max_body_bytes=1000" in error["error"]


def test_a_trace_window_holds_at_most_max_trace_steps(tight: httpx.Client) -> None:
    at = tight.post("/api/v1/trace", json={"input": ones(4), "weight": kernel(1)}).json()
    assert (at["total_steps"], at["count"], at["next_start"]) == (4, 4, None)
    over = tight.post("/api/v1/trace", json={"input": ones(5), "weight": kernel(1)}).json()
    assert (over["total_steps"], over["count"], over["next_start"]) == (5, 4, 4)
    assert over["steps"]["value"] == [1.0] * 4


def test_a_trace_window_holds_at_most_max_trace_terms(tight: httpx.Client) -> None:
    # 2 terms a step: 2 steps (4 terms) fit in 5, a third step (6 terms) would not
    window = tight.post("/api/v1/trace", json={"input": ones(5), "weight": kernel(2)}).json()
    assert (window["total_steps"], window["count"], window["next_start"]) == (4, 2, 2)
