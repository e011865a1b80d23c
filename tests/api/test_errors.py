"""Bad input gets a clear 4xx naming the field and the reason, a small body, and changes
nothing: the server keeps serving."""

from __future__ import annotations

import re
import socket

import httpx
import orjson
import pytest

from app.api.bodylimit import content_length
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
    ("empty batch", '{"input": [], ' + OK + "}", 422, "input",
     "empty dimension: every list needs at least one item .* an empty batch, N = 0, cannot "
     "be sent"),
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


def raw_http(server_url: str, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as bytes on a socket (a client may send what httpx would tidy up);
    the status and the body of the answer."""
    host, port = server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
                re.search(rb"(?i)content-length: *(\d+)", data).group(1)
                if re.search(rb"(?i)content-length: *(\d+)", data) else 0):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


LESSON = b'{"input": [[[0, 1, 2], [3, 4, 5], [6, 7, 8]]], "weight": [[[[0, 1], [2, 3]]]]}'


@pytest.mark.parametrize("value", [b"%d " % len(LESSON), b" %d" % len(LESSON),
                                   b"%d\t" % len(LESSON)])
def test_content_length_with_whitespace_around_it_is_the_length(live_server, value: bytes):
    """HTTP's optional whitespace around a field value is not part of it: 'Content-Length:
    69 ' was a 413 'larger than 2000000 bytes'."""
    status, body = raw_http(live_server.url, b"POST /api/v1/forward HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Type: application/json\r\nConnection: close\r\n"
                            b"Content-Length: " + value + b"\r\n\r\n" + LESSON)
    assert status == 200, body
    assert orjson.loads(body)["output"] == [[[19.0, 25.0], [37.0, 43.0]]]


@pytest.mark.parametrize("value", [b"12abc", b"-5", b"1 2", b"0x10", b"+81"])
def test_an_invalid_content_length_is_a_400(live_server, value: bytes):
    status, _ = raw_http(live_server.url, b"POST /api/v1/forward HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: " + value + b"\r\n\r\n" + LESSON)
    assert status == 400


def test_content_length_parsing_follows_http():
    assert content_length([(b"content-length", b" 69 ")]) == 69
    assert content_length([(b"content-length", b"69"), (b"Content-Length", b"69")]) == 69
    assert content_length([(b"content-length", b"69"), (b"content-length", b"70")]) == -1
    assert content_length([(b"content-length", b"69, 69")]) == 69
    assert content_length([(b"content-length", b"")]) == -1
    assert content_length([(b"content-length", b"9" * 40)]) > 2_000_000
    assert content_length([(b"host", b"x")]) is None


@pytest.mark.parametrize(("body", "field"), [
    ('{"input": [[1]], "weight": [[[1]]], "' + "k" * 10_000 + '": 1}', "k" * 37 + "..."),
    ('{"input": [[1]], "weight": [[[1]]], "stride": "' + "s" * 10_000 + '"}', "stride"),
    ('{"input": [[1]], "weight": [[[1]]], "padding": "' + "p" * 10_000 + '"}', "padding"),
    ('{"input": [[1]], "weight": [[[1]]], "stride": ' + "9" * 4000 + '}', "stride"),
])
def test_errors_quote_at_most_a_short_piece_of_the_request(client: httpx.Client, body: str,
                                                           field: str):
    """An unknown key or a bad value is quoted, if at all, in at most 40 characters."""
    reply = post_raw(client, body)
    assert reply.status_code == 422
    error = reply.json()
    assert error["field"] == field
    assert len(reply.content) < 600
    assert "k" * 41 not in error["error"] and "s" * 41 not in error["error"]


def test_an_unexpected_failure_is_a_json_500_with_the_security_headers():
    """Never for client input (test_costs.py throws the worst at the API), but a bug must
    still answer in the API's shape, with the headers every response has."""
    server = LiveServer()
    app = server.server.config.app

    @app.get("/api/v1/broken")
    async def broken() -> None:
        raise RuntimeError("a bug (this test's own, expected in the log)")

    with server, httpx.Client(base_url=server.url) as http:
        reply = http.get("/api/v1/broken")
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal error: the server failed to answer this "
                                     "request", "field": None, "code": "internal"}
    assert reply.headers["content-security-policy"].startswith("default-src 'self'")
    assert reply.headers["x-content-type-options"] == "nosniff"
