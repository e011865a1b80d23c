"""The transposed convolution over real HTTP: forward, backward and both trace views, checked
against numbers worked by hand and against the engine; bad input gets a 4xx naming the field;
every limit is checked before anything is allocated."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from app.config import Settings
from app.engine import conv_transpose, conv_transpose_backward
from tests.conftest import LiveServer

OVERLAP = {"input": [[1, 2]], "weight": [[[1, 10, 100]]], "stride": 2}  # 1, 10, 102, 20, 200


def test_forward_stamps_and_overlaps(client: httpx.Client) -> None:
    response = client.post("/api/v1/transposed/forward", json=OVERLAP)
    assert response.status_code == 200
    assert response.json() == {"output": [[1, 10, 102, 20, 200]], "output_shape": [1, 5]}
    cropped = client.post("/api/v1/transposed/forward",
                          json={**OVERLAP, "padding": 1, "output_padding": 1}).json()
    assert cropped["output"] == [[10, 102, 20, 200]]


def test_forward_with_every_parameter_matches_the_engine(client: httpx.Client) -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 4, 5, 4)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=6)
    params = {"stride": [2, 3], "padding": [1, 0], "output_padding": [1, 2],
              "dilation": [1, 2], "groups": 2}
    response = client.post("/api/v1/transposed/forward", json={
        "input": x.tolist(), "weight": w.tolist(), "bias": b.tolist(), **params})
    assert response.status_code == 200, response.text
    expected = conv_transpose(x, w, b, **params)
    assert response.json()["output_shape"] == list(expected.shape) == [2, 6, 10, 14]
    np.testing.assert_allclose(response.json()["output"], expected, rtol=1e-12)


def test_backward_reads_each_stamp_back(client: httpx.Client) -> None:
    body = client.post("/api/v1/transposed/backward",
                       json={**OVERLAP, "grad_output": [[1, 0, 1, 0, 1]]}).json()
    assert body["grad_input"] == [[1 * 1 + 100 * 1, 1 * 1 + 100 * 1]]
    assert body["grad_weight"] == [[[1 + 2, 0, 1 + 2]]]
    assert body["grad_bias"] == [3]


@pytest.mark.parametrize("loss", ["sum", "mse"])
def test_backward_from_a_loss_matches_the_engine(client: httpx.Client, loss: str) -> None:
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(1, 2, 3, 3)), rng.normal(size=(2, 2, 2, 2))
    params = {"stride": 2, "padding": 1, "output_padding": 1}
    y = conv_transpose(x, w, **params)
    target = rng.normal(size=y.shape)
    extra = {"target": target.tolist()} if loss == "mse" else {}
    body = client.post("/api/v1/transposed/backward", json={
        "input": x.tolist(), "weight": w.tolist(), "loss": loss, **extra, **params}).json()
    dy = np.ones_like(y) if loss == "sum" else 2 * (y - target) / y.size
    np.testing.assert_allclose(body["output"], y, rtol=1e-12)
    np.testing.assert_allclose(body["grad_output"], dy, rtol=1e-12)
    for name, value in conv_transpose_backward(x, w, dy, **params)._asdict().items():
        np.testing.assert_allclose(body[name], value, rtol=1e-12, atol=1e-14)


def test_the_scatter_trace_shows_the_stamps_and_their_running_sums(client: httpx.Client) -> None:
    body = client.post("/api/v1/trace", json={**OVERLAP, "op": "transposed"}).json()
    assert (body["op"], body["part"], body["view"]) == ("transposed", "forward", "scatter")
    assert (body["total_steps"], body["result_shape"]) == (2, [1, 1, 5])
    steps = body["steps"]
    assert steps["index"] == [[0, 0, 0], [0, 0, 1]] and steps["value"] == [1, 2]
    assert steps["position"][1] == [[2], [3], [4]]
    assert steps["before"][1] == [100, 0, 0] and steps["after"][1] == [102, 20, 200]
    assert steps["overlap"][1] == [2, 1, 1]


def test_the_gather_trace_pages_through_the_output(client: httpx.Client) -> None:
    first = client.post("/api/v1/trace", json={**OVERLAP, "op": "transposed",
                                               "view": "gather", "count": 3}).json()
    assert (first["total_steps"], first["count"], first["next_start"]) == (5, 3, 3)
    assert first["steps"]["value"] == [1, 10, 102]
    assert first["steps"]["offsets"] == [0, 1, 2, 4]
    assert first["terms"]["products"] == [1, 10, 100, 2]
    rest = client.post("/api/v1/trace", json={**OVERLAP, "op": "transposed", "view": "gather",
                                              "start": first["next_start"]}).json()
    assert rest["steps"]["value"] == [20, 200] and rest["next_start"] is None


def test_the_convolutions_trace_is_unchanged_and_says_its_op(client: httpx.Client) -> None:
    body = client.post("/api/v1/trace", json={"input": [[1, 2, 3]], "weight": [[[1, 1]]]}).json()
    assert (body["op"], body["part"], body["steps"]["value"]) == ("conv", "forward", [3, 5])


BAD = [
    # (why, endpoint, body, status, field, words in the message)
    ("output_padding not below stride or dilation", "transposed/forward",
     {**OVERLAP, "output_padding": 2}, 422, "output_padding",
     "smaller than either stride or dilation: spatial axis 0 has output_padding 2, stride 2"),
    ("weight's first dimension", "transposed/forward",
     {"input": [[1, 2], [3, 4]], "weight": [[[1, 1]]]}, 422, "weight",
     r"one kernel per input channel \(its first dimension, 1\), input has 2 channels"),
    ("empty output", "transposed/forward", {**OVERLAP, "padding": 3}, 422, "padding",
     "Output size is too small"),
    ("padding pairs", "transposed/forward", {**OVERLAP, "padding": [[1, 0]]}, 422, "padding",
     r"no names or \(before, after\) pairs"),
    ("a conv-only field", "transposed/forward", {**OVERLAP, "mode": "convolution"}, 422,
     "mode", "not a known field"),
    ("bias shape", "transposed/forward", {**OVERLAP, "bias": [1, 2]}, 422, "bias",
     r"bias must have shape \[1\]"),
    ("both deltas", "transposed/backward", {**OVERLAP, "loss": "sum",
                                            "grad_output": [[1, 1, 1, 1, 1]]},
     422, "grad_output", "exactly one of grad_output"),
    ("grad_output shape", "transposed/backward", {**OVERLAP, "grad_output": [[1, 1, 1]]}, 422,
     "grad_output", r"the output's shape \[1, 5\], got \[1, 3\]"),
    ("mse without target", "transposed/backward", {**OVERLAP, "loss": "mse"}, 422, "target",
     "needs a target"),
    ("overflow", "transposed/forward", {"input": [[1e308, 1e308]], "weight": [[[10, 10]]]},
     422, "output", "overflowed"),
    ("stride above the cap", "transposed/forward", {**OVERLAP, "stride": 2**63}, 422, "stride",
     "at most 1,000,000,000"),
    ("a huge uncropped output", "transposed/backward",
     {"input": [[1]], "weight": [[[1, 1]]], "dilation": 10**8, "padding": 5 * 10**7,
      "loss": "sum"}, 413, "padding", "max_padded_elements"),
    ("a huge output", "transposed/forward", {"input": [[1, 1]], "weight": [[[1]]],
                                             "stride": 10**8}, 413, None,
     "output would have 100000001 elements"),
    ("trace: transposed backward part", "trace", {**OVERLAP, "op": "transposed",
                                                  "part": "grad_input"}, 422, "part",
     "op 'transposed' traces its forward pass"),
    ("trace: padding_mode with transposed", "trace",
     {**OVERLAP, "op": "transposed", "padding_mode": "circular"}, 422, "padding_mode",
     "padding_mode applies to op 'conv' only"),
    ("trace: view with conv", "trace", {**OVERLAP, "view": "gather"}, 422, "view",
     "view applies to op 'transposed' only"),
    ("trace: output_padding with conv", "trace", {"input": [[1, 2]], "weight": [[[1]]],
                                                  "output_padding": 0}, 422,
     "output_padding", "output_padding applies to op 'transposed' only"),
    ("trace: start past the end", "trace", {**OVERLAP, "op": "transposed", "view": "gather",
                                            "start": 5}, 422, "start", "there are 5 steps"),
]


@pytest.mark.parametrize(("why", "endpoint", "body", "status", "field", "words"), BAD,
                         ids=[case[0] for case in BAD])
def test_bad_input_is_explained(client: httpx.Client, why: str, endpoint: str, body: dict,
                                status: int, field: str | None, words: str) -> None:
    response = client.post(f"/api/v1/{endpoint}", json=body)
    assert response.status_code == status, response.text
    assert len(response.content) < 1_000
    error = response.json()
    assert error["field"] == field
    assert re.search(words, error["error"]), error["error"]


TIGHT = Settings(max_array_elements=24, max_output_elements=40, max_padded_elements=50,
                 max_macs=48, max_trace_steps=4, max_trace_terms=20)


@pytest.fixture(scope="module")
def tight() -> Iterator[httpx.Client]:
    with LiveServer(TIGHT) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def ones(n: int) -> list[list[int]]:
    return [[1] * n]


def kernel(k: int) -> list[list[list[int]]]:
    return [[[1] * k]]


# (limit, field, endpoint, body at the limit, body one past it). One channel: output
# (I - 1) x S - 2P + K + output_padding; the uncropped output (I - 1) x S + K; MACs I x K.
LIMITS = [
    ("max_output_elements", None, "transposed/forward",  # 39 + 1 = 40, then 41
     {"input": ones(2), "weight": kernel(1), "stride": 39},
     {"input": ones(2), "weight": kernel(1), "stride": 40}),
    ("max_padded_elements", "padding", "transposed/forward",  # uncropped 50, then 51
     {"input": ones(2), "weight": kernel(1), "stride": 49, "padding": 20},
     {"input": ones(2), "weight": kernel(1), "stride": 50, "padding": 20}),
    # strided, the engine stamps tap by tap: 12 x 4 = 48, then 7 x 7 = 49 (at stride 1 it
    # takes a "full" correlation, which counts the products with its zero border too)
    ("max_macs", None, "transposed/forward",
     {"input": ones(12), "weight": kernel(4), "stride": 2},
     {"input": ones(7), "weight": kernel(7), "stride": 2}),
    ("max_macs", None, "transposed/backward",  # the input gradient and the weight's: 2 x 24
     {"input": ones(24), "weight": kernel(1), "grad_output": ones(24)},
     {"input": ones(24), "weight": kernel(1), "loss": "sum"}),  # + the forward pass: 72
    # a scatter step: 3 stamps, each cell gathering 1 pair at stride 3: 3 x (1 + 1) = 6;
    # at stride 1 a cell gathers up to 3: 3 x 4 = 12; 5 taps: 5 x 6 = 30
    ("max_trace_terms", "input", "trace",
     {"op": "transposed", "input": ones(3), "weight": kernel(3)},
     {"op": "transposed", "input": ones(5), "weight": kernel(5)}),
]


@pytest.mark.parametrize(("limit", "field", "endpoint", "at", "over"), LIMITS,
                         ids=[f"{case[0]}-{case[2]}" for case in LIMITS])
def test_at_the_limit_is_served_and_one_over_is_refused_by_name(
        tight: httpx.Client, limit: str, field: str | None, endpoint: str, at: dict,
        over: dict) -> None:
    served = tight.post(f"/api/v1/{endpoint}", json=at)
    assert served.status_code == 200, served.text
    refused = tight.post(f"/api/v1/{endpoint}", json=over)
    assert refused.status_code == 413, refused.text
    error = refused.json()
    value = getattr(TIGHT, limit)
    assert (error["limit"], error["limit_value"], error["field"]) == (limit, value, field)
    assert f"{limit}={value}" in error["error"]


def test_a_trace_window_of_the_transposed_convolution_holds_what_the_limits_allow(
        tight: httpx.Client) -> None:
    # gather steps of one term each at stride 3: 4 steps (max_trace_steps) of 7 cells
    gather = tight.post("/api/v1/trace", json={"op": "transposed", "view": "gather",
                                               "input": ones(3), "weight": kernel(1),
                                               "stride": 3}).json()
    assert (gather["total_steps"], gather["count"], gather["next_start"]) == (7, 4, 4)
    # scatter steps of 3 stamps, each cell gathering up to 3 pairs: 12 terms, one step fits
    scatter = tight.post("/api/v1/trace", json={"op": "transposed", "input": ones(3),
                                                "weight": kernel(3)}).json()
    assert (scatter["total_steps"], scatter["count"], scatter["next_start"]) == (3, 1, 1)
