"""No request the limits accept is expensive: every row of the hardening issue's table, the
worst request we could construct for each code path, and random geometry with parameters up
to 10^9 and past 2^63, sent to a real server (uvicorn as the Dockerfile starts it) whose
address space is capped, so a request that tried to allocate gigabytes would fail loudly.

For each request: a correct status (200, or the 4xx that names the field or the limit, never
a 500), at most 1 s of the server's CPU and 300 MB of resident memory above what it held
before, and an answer well inside the time a person waits. The CPU and memory figures are
the server process's own, from /proc, so a busy machine does not make them pass or fail.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.worst import ISSUE_ROWS, WORST, WORST_TRANSPOSED, Costly
from tests.deploy.servers import Uvicorn

ADDRESS_SPACE = 3 << 30  # bytes; the server starts in ~1.2 GB of address space
MAX_CPU = 1.0  # seconds of the server's CPU per request (the issue's bound)
MAX_MEMORY = 300 << 20  # bytes of resident memory above the server's before a request
MAX_WAIT = 10.0  # seconds: past this a request is a hang, whatever the machine is doing


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uvicorn]:
    log = Path(tmp_path_factory.mktemp("costs")) / "uvicorn.log"
    with Uvicorn(log, address_space=ADDRESS_SPACE) as running:
        yield running
        assert "Traceback" not in running.log_text()


@pytest.fixture(scope="module")
def http(server: Uvicorn) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=MAX_WAIT) as client:
        yield client


def measured(server: Uvicorn, http: httpx.Client, method: str, path: str,
             body: bytes | None) -> tuple[httpx.Response, float, int]:
    """The response, the server CPU seconds it took and the resident memory it added at
    its peak (bytes)."""
    server.reset_peak()
    before = server.usage()
    response = http.request(method, path, content=body,
                            headers={"content-type": "application/json"})
    after = server.usage()
    return response, after.cpu - before.cpu, after.peak - before.rss


def check(server: Uvicorn, http: httpx.Client, row: Costly) -> None:
    response, cpu, memory = measured(server, http, row.method, row.path, row.body)
    assert response.status_code in row.statuses, (row.name, response.text[:300])
    assert cpu <= MAX_CPU, (row.name, cpu)
    assert memory <= MAX_MEMORY, (row.name, memory)
    if response.status_code >= 400:
        error = response.json()
        assert error["code"] != "internal"
        if response.status_code == 413:
            assert error["limit"] in error["error"]  # names the limit it crossed
        if row.field is not None:
            assert error["field"] == row.field, error


@pytest.mark.parametrize("row", ISSUE_ROWS, ids=[row.name for row in ISSUE_ROWS])
def test_each_row_of_the_issue_is_cheap(server: Uvicorn, http: httpx.Client, row: Costly):
    check(server, http, row)


@pytest.mark.parametrize("row", WORST, ids=[row.name for row in WORST])
def test_the_worst_request_of_each_path_is_cheap(server: Uvicorn, http: httpx.Client,
                                                 row: Costly):
    check(server, http, row)


@pytest.mark.parametrize("row", WORST_TRANSPOSED, ids=[row.name for row in WORST_TRANSPOSED])
def test_the_worst_transposed_request_of_each_path_is_cheap(server: Uvicorn, http: httpx.Client,
                                                            row: Costly):
    check(server, http, row)


def test_what_the_server_keeps_does_not_grow_with_repeats(server: Uvicorn, http: httpx.Client):
    """After one pass over every costly request, a second and third leave the resident size
    where the first did: nothing derived from a request is kept (the stride layouts in an
    lru_cache kept 2.3 GB for 8 strides)."""
    def one_pass() -> int:
        for row in ISSUE_ROWS + WORST + WORST_TRANSPOSED:
            http.request(row.method, row.path, content=row.body,
                         headers={"content-type": "application/json"})
        return server.usage().rss
    first = one_pass()
    assert max(one_pass(), one_pass()) <= first + (48 << 20)


def test_the_answers_of_the_cheap_rows_are_right(http: httpx.Client):
    """The huge strides read one cell: the gradient is 1 there, 0 elsewhere."""
    reply = http.post("/api/v1/backward", content=ISSUE_ROWS[0].body,
                      headers={"content-type": "application/json"}).json()
    assert reply["grad_input"] == [[1.0, 0.0, 0.0]]
    assert reply["output"] == [[0.0]]
    two_d = next(row for row in ISSUE_ROWS if "3000 x 3000" in row.name)
    reply = http.post("/api/v1/backward", content=two_d.body,
                      headers={"content-type": "application/json"}).json()
    assert reply["grad_input"] == [[[1.0, 0.0], [0.0, 0.0]]]


# Random geometry: parameters from 1 to past 2^63, kernels up to the array limit.
HUGE = st.sampled_from([1, 2, 3, 7, 100, 3000, 10**6, 10**9, 10**9 + 1, 2**31, 2**63 - 1,
                        2**63, 2**64 + 5])
PARAM = st.one_of(st.integers(1, 6), HUGE)


@st.composite
def geometry_requests(draw) -> tuple[str, dict]:
    ndim = draw(st.integers(1, 3))
    kernel = [draw(st.sampled_from([1, 2, 3, 50, 300])) for _ in range(ndim)]
    taps = math.prod(kernel)
    if taps > 250_000:
        kernel = [1] * (ndim - 1) + [min(kernel[-1], 250_000)]
    size = [draw(st.sampled_from([1, 2, 5, 40, 500])) for _ in range(ndim)]
    while math.prod(size) > 250_000:
        size[size.index(max(size))] //= 10
    channels = draw(st.sampled_from([1, 2]))
    body: dict = {
        "input": _nested([channels, *size]),
        "weight": _nested([draw(st.sampled_from([1, 3])), channels, *kernel]),
        "stride": draw(st.one_of(PARAM, st.lists(PARAM, min_size=ndim, max_size=ndim))),
        "dilation": draw(st.one_of(PARAM, st.lists(PARAM, min_size=ndim, max_size=ndim))),
        "padding": draw(st.one_of(
            st.integers(0, 5), HUGE, st.sampled_from(["valid", "same", "full"]),
            st.lists(st.lists(st.one_of(st.integers(0, 3), HUGE), min_size=2, max_size=2),
                     min_size=ndim, max_size=ndim))),
        "padding_mode": draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])),
    }
    endpoint = draw(st.sampled_from(["forward", "backward", "trace"]))
    if endpoint != "forward":
        body["loss"] = "sum"
    if endpoint == "trace":
        body["part"] = draw(st.sampled_from(["forward", "grad_weight", "grad_input",
                                             "grad_bias"]))
    return endpoint, body


def _nested(shape: list[int]) -> list:
    value: list | int = 1
    for size in reversed(shape):
        value = [value] * size
    return value  # type: ignore[return-value]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=geometry_requests())
def test_random_geometry_never_costs_more_than_the_bounds(server: Uvicorn, http: httpx.Client,
                                                          request: tuple[str, dict]):
    endpoint, body = request
    # the stdlib writes integers of any size as their digits (orjson stops at 64 bits)
    response, cpu, memory = measured(server, http, "POST", f"/api/v1/{endpoint}",
                                     json.dumps(body).encode())
    assert response.status_code in (200, 413, 422), response.text[:300]
    assert cpu <= MAX_CPU
    assert memory <= MAX_MEMORY
    if response.status_code != 200:
        assert response.json()["field"] in (None, "input", "weight", "stride", "padding",
                                            "dilation", "padding_mode", "loss", "part")


@st.composite
def transposed_requests(draw) -> tuple[str, dict]:
    """The transposed convolution's endpoints with random geometry, as above."""
    ndim = draw(st.integers(1, 3))
    kernel = [draw(st.sampled_from([1, 2, 3, 50, 300])) for _ in range(ndim)]
    if math.prod(kernel) > 250_000:
        kernel = [1] * (ndim - 1) + [min(kernel[-1], 250_000)]
    size = [draw(st.sampled_from([1, 2, 5, 40, 500])) for _ in range(ndim)]
    while math.prod(size) > 250_000:
        size[size.index(max(size))] //= 10
    channels = draw(st.sampled_from([1, 2]))
    small = st.one_of(st.integers(0, 3), HUGE)
    body: dict = {
        "input": _nested([channels, *size]),
        "weight": _nested([channels, draw(st.sampled_from([1, 3])), *kernel]),
        "stride": draw(st.one_of(PARAM, st.lists(PARAM, min_size=ndim, max_size=ndim))),
        "dilation": draw(st.one_of(PARAM, st.lists(PARAM, min_size=ndim, max_size=ndim))),
        "padding": draw(st.one_of(small, st.lists(small, min_size=ndim, max_size=ndim))),
        "output_padding": draw(st.one_of(small, st.lists(small, min_size=ndim,
                                                          max_size=ndim))),
    }
    endpoint = draw(st.sampled_from(["transposed/forward", "transposed/backward", "trace"]))
    if endpoint == "transposed/backward":
        body["loss"] = "sum"
    if endpoint == "trace":
        body.update(op="transposed", view=draw(st.sampled_from(["scatter", "gather"])))
    return endpoint, body


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=transposed_requests())
def test_random_transposed_geometry_never_costs_more_than_the_bounds(
        server: Uvicorn, http: httpx.Client, request: tuple[str, dict]):
    endpoint, body = request
    response, cpu, memory = measured(server, http, "POST", f"/api/v1/{endpoint}",
                                     json.dumps(body).encode())
    assert response.status_code in (200, 413, 422), response.text[:300]
    assert cpu <= MAX_CPU
    assert memory <= MAX_MEMORY
    if response.status_code != 200:
        assert response.json()["field"] in (None, "input", "weight", "stride", "padding",
                                            "output_padding", "dilation")


@st.composite
def pool_requests(draw) -> tuple[str, dict]:
    ndim = draw(st.integers(1, 3))
    kernel = [draw(st.sampled_from([1, 2, 3, 50, 300, 10**6, 10**9])) for _ in range(ndim)]
    size = [draw(st.sampled_from([1, 2, 5, 40, 500])) for _ in range(ndim)]
    while math.prod(size) > 250_000:
        size[size.index(max(size))] //= 10
    body: dict = {
        "input": _nested([draw(st.sampled_from([1, 2])), *size]),
        "kind": draw(st.sampled_from(["max", "avg"])),
        "kernel_size": kernel,
        "stride": draw(st.one_of(st.none(), PARAM, st.lists(PARAM, min_size=ndim,
                                                             max_size=ndim))),
        "padding": draw(st.one_of(st.integers(0, 3), HUGE, st.lists(
            st.one_of(st.integers(0, 3), st.sampled_from([k // 2 for k in kernel])),
            min_size=ndim, max_size=ndim))),
        "ceil_mode": draw(st.booleans()),
    }
    if body["kind"] == "max":
        body["dilation"] = draw(st.one_of(PARAM, st.lists(PARAM, min_size=ndim,
                                                          max_size=ndim)))
    else:
        body["count_include_pad"] = draw(st.booleans())
    endpoint = draw(st.sampled_from(["pool/forward", "pool/backward", "trace"]))
    if endpoint != "pool/forward":
        body["loss"] = "sum"
    if endpoint == "trace":
        body["op"] = body.pop("kind") + "_pool"
        body["part"] = draw(st.sampled_from(["forward", "grad_input"]))
    return endpoint, body


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=pool_requests())
def test_random_pools_never_cost_more_than_the_bounds(server: Uvicorn, http: httpx.Client,
                                                      request: tuple[str, dict]):
    endpoint, body = request
    response, cpu, memory = measured(server, http, "POST", f"/api/v1/{endpoint}",
                                     json.dumps(body).encode())
    assert response.status_code in (200, 413, 422), response.text[:300]
    assert cpu <= MAX_CPU
    assert memory <= MAX_MEMORY
    if response.status_code != 200:
        assert response.json()["field"] in (None, "input", "kernel_size", "stride", "padding",
                                            "dilation")
