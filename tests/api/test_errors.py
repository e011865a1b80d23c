"""Bad input gets a clear 4xx naming the field and the reason, a small body, and changes
nothing: the server keeps serving."""

from __future__ import annotations

import re

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer

OK = '"weight": [[[1, 1]]]'


def post_raw(client: httpx.Client, body: bytes | str, **headers: str) -> httpx.Response:
    return client.post("/api/v1/forward", content=body,
                       headers={"content-type": "application/json", **headers})


BAD_BODIES = [
    # (why, body, status, field, words in the message)
    ("NaN", '{"input": [[1, NaN]], ' + OK + "}", 422, "input", "finite"),
    ("Infinity", '{"input": [[1, 2]], "weight": [[[Infinity, 1]]]}', 422, "weight", "finite"),
    ("-Infinity", '{"input": [[1, 2]], "weight": [[[-Infinity, 1]]]}', 422, "weight",
     "finite"),
    ("overflow", '{"input": [[1, 1e400]], ' + OK + "}", 422, "input", "finite"),
    ("5000 digits", '{"input": [[1, ' + "9" * 5000 + "]], " + OK + "}", 422, "input",
     "finite"),
    ("bool as number", '{"input": [[1, true]], ' + OK + "}", 422, "input", "booleans"),
    ("string as number", '{"input": [[1, "2"]], ' + OK + "}", 422, "input", "strings"),
    ("null as number", '{"input": [[1, null]], ' + OK + "}", 422, "input", "nulls"),
    ("ragged", '{"input": [[1, 2], [3]], ' + OK + "}", 422, "input", "ragged"),
    ("empty", '{"input": [[]], ' + OK + "}", 422, "input", "empty"),
    ("wrong rank", '{"input": [1, 2, 3], ' + OK + "}", 422, "input", "dimensions"),
    ("channel mismatch", '{"input": [[1, 2], [3, 4]], ' + OK + "}", 422, "weight",
     "expects 1 input channel per group.*input has 2"),
    ("stride 0", '{"input": [[1, 2]], ' + OK + ', "stride": 0}', 422, "stride", "positive"),
    ("stride true", '{"input": [[1, 2]], ' + OK + ', "stride": true}', 422, "stride",
     "integer"),
    ("stride \"2\"", '{"input": [[1, 2]], ' + OK + ', "stride": "2"}', 422, "stride",
     "integer"),
    ("stride 1.5", '{"input": [[1, 2]], ' + OK + ', "stride": 1.5}', 422, "stride",
     "integer"),
    ("padding 10^6", '{"input": [[1, 2]], ' + OK + ', "padding": 1000000}', 413, "padding",
     "max_output_elements"),
    ("kernel too big", '{"input": [[1]], ' + OK + "}", 422, "weight",
     "Kernel size can't be greater than actual input size"),
    ("same with stride", '{"input": [[1, 2, 3]], ' + OK + ', "stride": 2, "padding": "same"}',
     422, "padding", "'same' is not supported for strided"),
    ("unknown padding mode", '{"input": [[1, 2]], ' + OK + ', "padding_mode": "mirror"}', 422,
     "padding_mode", "'zeros', 'reflect', 'replicate' or 'circular'"),
    ("unknown field", '{"input": [[1, 2]], ' + OK + ', "strides": 2}', 422, "strides",
     "not a known field"),
    ("missing weight", '{"input": [[1, 2]]}', 422, "weight", "required"),
    ("nested 10^5 deep", '{"input": ' + "[" * 100_000 + "]" * 100_000 + "}", 422, "input",
     "nested too deeply"),
    ("malformed", '{"input": [[1, 2]', 400, None, "not valid JSON"),
    ("not an object", "[1, 2]", 422, None, "JSON object"),
    ("overflowing result", '{"input": [[1e308, 1e308]], "weight": [[[10, 10]]]}', 422,
     "output", "overflowed"),
]


@pytest.mark.parametrize(("why", "body", "status", "field", "words"), BAD_BODIES,
                         ids=[case[0] for case in BAD_BODIES])
def test_bad_input_is_explained(client: httpx.Client, why: str, body: str, status: int,
                                field: str | None, words: str) -> None:
    response = post_raw(client, body)
    assert response.status_code == status, response.text
    assert len(response.content) < 10_000
    error = response.json()
    assert error["field"] == field
    assert set(error) >= {"error", "field", "code"}
    assert re.search(words, error["error"]), error["error"]
    assert client.get("/healthz").status_code == 200


def test_oversized_body_with_content_length(client: httpx.Client) -> None:
    response = post_raw(client, b"[" + b"1," * 1_500_000 + b"1]")
    assert response.status_code == 413
    assert "max_body_bytes=2000000" in response.json()["error"]
    assert len(response.content) < 10_000


def test_oversized_body_streamed_without_content_length(client: httpx.Client) -> None:
    def chunks():
        for _ in range(300):
            yield b" " * 10_000

    response = client.post("/api/v1/forward", content=chunks(),
                           headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["limit"] == "max_body_bytes"


def test_wrong_content_type(client: httpx.Client) -> None:
    response = client.post("/api/v1/forward", content=b'{"input": [[1]]}',
                           headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_unknown_preset(client: httpx.Client) -> None:
    response = client.get("/api/v1/presets/no-such-thing")
    assert response.status_code == 404
    assert "GET /api/v1/presets lists them" in response.json()["error"]


def test_trace_start_past_the_end(client: httpx.Client) -> None:
    response = client.post("/api/v1/trace", json={"input": [[1, 2, 3]], "weight": [[[1, 1]]],
                                                  "start": 2})
    assert response.status_code == 422
    assert response.json()["field"] == "start"
    assert "there are 2 steps" in response.json()["error"]


def test_backward_needs_exactly_one_source_of_delta(client: httpx.Client) -> None:
    response = client.post("/api/v1/backward", json={"input": [[1, 2, 3]],
                                                     "weight": [[[1, 1]]]})
    assert response.status_code == 422
    assert response.json()["field"] == "grad_output"
    response = client.post("/api/v1/backward", json={"input": [[1, 2, 3]], "weight": [[[1, 1]]],
                                                     "loss": "mse"})
    assert response.json()["field"] == "target"


@pytest.fixture(scope="module")
def tight_client():
    settings = Settings(max_macs=20, max_array_elements=10, max_trace_steps=3,
                        max_body_bytes=400)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        yield http


def test_limits_name_themselves(tight_client: httpx.Client) -> None:
    too_many = tight_client.post("/api/v1/forward", json={"input": [[1] * 11],
                                                          "weight": [[[1]]]})
    assert too_many.status_code == 413
    assert too_many.json()["limit"] == "max_array_elements"
    assert too_many.json()["limit_value"] == 10
    costly = tight_client.post("/api/v1/forward", json={"input": [[1] * 10],
                                                        "weight": [[[1, 1, 1]]]})
    assert costly.status_code == 413
    assert "max_macs=20" in costly.json()["error"]
    body = tight_client.post("/api/v1/forward", content=b" " * 401,
                             headers={"content-type": "application/json"})
    assert body.status_code == 413 and body.json()["limit_value"] == 400


def test_trace_windows_are_capped(tight_client: httpx.Client) -> None:
    body = tight_client.post("/api/v1/trace", json={"input": [[1, 2, 3, 4, 5, 6]],
                                                    "weight": [[[1]]]}).json()
    assert body["count"] == 3 and body["next_start"] == 3 and body["total_steps"] == 6


@pytest.mark.parametrize("request_body", [
    {"loss": "mse", "target": [[-1e308, -1e308]]},
    {"loss": "sum"},
])
def test_an_overflowing_loss_is_an_error_not_null(client: httpx.Client,
                                                  request_body: dict) -> None:
    response = client.post("/api/v1/backward", json={
        "input": [[1e308, 1e308, 1e308]], "weight": [[[0.9, 0.9]]], **request_body})
    assert response.status_code == 422
    assert "overflowed" in response.json()["error"]


def test_an_overflowing_trace_step_is_an_error(client: httpx.Client) -> None:
    response = client.post("/api/v1/trace", json={"input": [[1e308, 1e308]],
                                                  "weight": [[[10, 10]]]})
    assert response.status_code == 422
    assert "overflowed" in response.json()["error"]
