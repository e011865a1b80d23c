"""Happy paths of /api/v1 over real HTTP, checked against the engine and SciPy."""

from __future__ import annotations

import httpx
import numpy as np
import orjson
import pytest
from scipy import signal

from app.api.responses import dump_array
from app.engine import backward, forward

LESSON = {"input": [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]], "weight": [[[[0, 1], [2, 3]]]]}
LESSON_1D = {"input": [[1, 2, 3, 4, 5]], "weight": [[[2, -1, 1]]],
             "grad_output": [[1, -1, 2]]}


def test_forward_gives_the_lessons_worked_example(client: httpx.Client) -> None:
    response = client.post("/api/v1/forward", json=LESSON)
    assert response.status_code == 200
    assert response.json() == {"output": [[[[19, 25], [37, 43]]]], "output_shape": [1, 1, 2, 2]}


def test_forward_matches_scipy_on_a_single_channel(client: httpx.Client) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(9, 7)), rng.normal(size=(3, 2))
    for mode, reference in (("cross-correlation", signal.correlate),
                            ("convolution", signal.convolve)):
        response = client.post("/api/v1/forward", json={
            "input": [x.tolist()], "weight": [[w.tolist()]], "mode": mode, "padding": "full"})
        assert response.status_code == 200
        np.testing.assert_allclose(response.json()["output"][0], reference(x, w, mode="full"),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_forward_with_every_parameter_matches_the_engine(client: httpx.Client,
                                                         padding_mode: str) -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 4, 7, 6)), rng.normal(size=(6, 2, 3, 2)), rng.normal(size=6)
    params = {"stride": [2, 1], "padding": [[2, 1], [1, 0]], "dilation": [1, 2], "groups": 2,
              "padding_mode": padding_mode, "mode": "convolution"}
    response = client.post("/api/v1/forward", json={
        "input": x.tolist(), "weight": w.tolist(), "bias": b.tolist(), **params})
    assert response.status_code == 200
    expected = forward(x, w, b, **params)
    assert response.json()["output_shape"] == list(expected.shape)
    np.testing.assert_allclose(response.json()["output"], expected, rtol=1e-12)


def test_backward_gives_the_lessons_kernel_gradients(client: httpx.Client) -> None:
    response = client.post("/api/v1/backward", json=LESSON_1D)
    assert response.status_code == 200
    body = response.json()
    x, d = [1, 2, 3, 4, 5], [1, -1, 2]
    assert body["grad_weight"] == [[[sum(d[i] * x[i + k] for i in range(3)) for k in range(3)]]]
    assert body["grad_bias"] == [sum(d)]
    np.testing.assert_allclose(body["grad_input"], [np.convolve(d, [2, -1, 1])])


def test_backward_matches_the_engine_with_groups_and_stride(client: httpx.Client) -> None:
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 4, 6, 5)), rng.normal(size=(4, 2, 2, 3))
    params = {"stride": 2, "padding": 1, "groups": 2, "padding_mode": "reflect"}
    dy = rng.normal(size=forward(x, w, **params).shape)
    response = client.post("/api/v1/backward", json={
        "input": x.tolist(), "weight": w.tolist(), "grad_output": dy.tolist(), **params})
    assert response.status_code == 200
    for name, expected in backward(x, w, dy, **params)._asdict().items():
        np.testing.assert_allclose(response.json()[name], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_a_list_of_one_parameter_value_is_that_value_on_every_axis(client: httpx.Client,
                                                                   ndim: int) -> None:
    """``"stride": [2]`` and the rest, as PyTorch reads ``stride=(2,)``: the same numbers as
    the values written out per axis, forward and backward."""
    rng = np.random.default_rng(ndim)
    x, w = rng.normal(size=(1, 2, *(7,) * ndim)), rng.normal(size=(3, 2, *(2,) * ndim))
    one = {"stride": [2], "dilation": [2], "padding": [[1, 2]]}
    every = {"stride": [2] * ndim, "dilation": [2] * ndim, "padding": [[1, 2]] * ndim}
    y = forward(x, w, **every)
    dy = rng.normal(size=y.shape)

    fwd = client.post("/api/v1/forward", json={"input": x.tolist(), "weight": w.tolist(), **one})
    bwd = client.post("/api/v1/backward", json={"input": x.tolist(), "weight": w.tolist(),
                                                "grad_output": dy.tolist(), **one})

    assert fwd.status_code == 200, fwd.text
    assert fwd.json()["output_shape"] == [1, 3, *(4,) * ndim]  # (7 + 3 - 2 - 1) // 2 + 1
    np.testing.assert_allclose(fwd.json()["output"], y, rtol=1e-12)
    assert bwd.status_code == 200, bwd.text
    for name, expected in backward(x, w, dy, **every)._asdict().items():
        np.testing.assert_allclose(bwd.json()[name], expected, rtol=1e-12, atol=1e-14)


def test_backward_from_a_sum_loss(client: httpx.Client) -> None:
    body = client.post("/api/v1/backward", json={**LESSON, "loss": "sum"}).json()
    assert body["loss"] == 19 + 25 + 37 + 43
    assert body["grad_output"] == [[[[1, 1], [1, 1]]]]
    # dL/dw of a sum is the sum of the inputs each weight touched
    assert body["grad_weight"] == [[[[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7,
                                                                      4 + 5 + 7 + 8]]]]


def test_backward_from_an_mse_loss(client: httpx.Client) -> None:
    target = [[[[20, 20], [40, 40]]]]
    body = client.post("/api/v1/backward", json={**LESSON, "loss": "mse",
                                                  "target": target}).json()
    diff = np.array([[[[19, 25], [37, 43]]]]) - np.array(target)
    assert body["loss"] == pytest.approx(np.mean(diff ** 2))
    np.testing.assert_allclose(body["grad_output"], 2 * diff / 4)
    np.testing.assert_allclose(body["grad_bias"], [np.sum(2 * diff / 4)])


def test_trace_of_the_worked_example(client: httpx.Client) -> None:
    body = client.post("/api/v1/trace", json={**LESSON, "part": "forward"}).json()
    assert body["total_steps"] == 4 and body["count"] == 4 and body["next_start"] is None
    steps = body["steps"]
    assert steps["inputs"][0] == [0, 1, 3, 4] and steps["weights"][0] == [0, 1, 2, 3]
    assert steps["products"][0] == [0, 1, 6, 12] and steps["value"][0] == 19
    assert steps["value"] == [19, 25, 37, 43]


def test_trace_pages_through_a_long_trace(client: httpx.Client) -> None:
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(1, 1, 12, 12)), rng.normal(size=(1, 1, 3, 3))
    request = {"input": x.tolist(), "weight": w.tolist(), "padding": 1,
               "padding_mode": "circular"}
    values, start = [], 0
    while start is not None:
        body = client.post("/api/v1/trace", json={**request, "start": start,
                                                  "count": 50}).json()
        assert body["count"] <= 50
        values += body["steps"]["value"]
        start = body["next_start"]
    np.testing.assert_allclose(np.reshape(values, (1, 1, 12, 12)),
                               forward(x, w, padding=1, padding_mode="circular"), rtol=1e-12)


def test_backward_traces_rebuild_the_gradients(client: httpx.Client) -> None:
    expected = backward(**{"x": LESSON_1D["input"], "weight": LESSON_1D["weight"],
                           "grad_output": LESSON_1D["grad_output"]})
    weight = client.post("/api/v1/trace", json={**LESSON_1D, "part": "grad_weight"}).json()
    # the lesson: dL/dw1 = d1*x1 + d2*x2 + d3*x3, term by term
    assert weight["steps"]["deltas"][0] == [1, -1, 2]
    assert weight["steps"]["inputs"][0] == [1, 2, 3]
    assert weight["steps"]["products"][0] == [1, -2, 6]
    assert weight["steps"]["value"] == expected.grad_weight.ravel().tolist()
    grad_input = client.post("/api/v1/trace", json={**LESSON_1D, "part": "grad_input"}).json()
    assert grad_input["steps"]["value"] == expected.grad_input.ravel().tolist()
    offsets = grad_input["steps"]["offsets"]
    assert offsets[-1] == len(grad_input["terms"]["products"])
    bias = client.post("/api/v1/trace", json={**LESSON_1D, "part": "grad_bias"}).json()
    assert bias["steps"]["value"] == [2]


def test_shape_fills_in_the_formula(client: httpx.Client) -> None:
    body = client.get("/api/v1/shape", params={"input_size": "28,28", "kernel_size": "3,3",
                                               "stride": "2", "padding": "1"}).json()
    assert body["valid"] and body["output_size"] == [14, 14]
    assert body["formulas"][0] == "O_H = ⌊(28 + 2×1 − 1×(3 − 1) − 1) / 2⌋ + 1 = 14"


def test_shape_explains_an_impossible_geometry(client: httpx.Client) -> None:
    body = client.get("/api/v1/shape", params={"input_size": "2,2",
                                               "kernel_size": "3,3"}).json()
    assert body["valid"] is False
    assert "Kernel size can't be greater than actual input size" in body["explanation"]


def test_health(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_cors_allows_any_origin_without_credentials(client: httpx.Client) -> None:
    response = client.post("/api/v1/forward", json=LESSON,
                           headers={"Origin": "https://course.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_every_example_preset_is_ready_to_post(client: httpx.Client) -> None:
    names = [p["name"] for p in client.get("/api/v1/presets").json()]
    examples = [client.get(f"/api/v1/presets/{name}").json() for name in names]
    examples = [e for e in examples if e["endpoint"]]
    assert {"lesson-2d", "lesson-1d-backprop", "multi-channel", "many-kernels",
            "channels-rgb-edge", "volume-box", "backprop-learn-sobel"} <= \
        {e["name"] for e in examples}
    for example in examples:
        response = client.post(example["endpoint"], json=example["body"])
        assert response.status_code == 200, (example["name"], response.text)
    lesson = next(e for e in examples if e["name"] == "lesson-2d")
    assert client.post(lesson["endpoint"], json=lesson["body"]).json()["output"] == \
        [[[[19, 25], [37, 43]]]]


@pytest.mark.parametrize("shape", [(70_000,), (3, 70_000), (200_000, 2), (2, 300, 300),
                                   (1, 1, 65_537)])
def test_large_arrays_are_written_piece_by_piece_as_the_same_json(shape):
    """Responses write big arrays in pieces (so no one call holds the GIL for long); the
    JSON is exactly what one call writes."""
    array = np.random.default_rng(1).standard_normal(shape)
    assert dump_array(array) == orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)
    assert orjson.loads(dump_array(array)) == array.tolist()
