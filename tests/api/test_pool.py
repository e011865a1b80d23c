"""/api/v1/pool/forward, /api/v1/pool/backward and the pools' traces on /api/v1/trace, over
real HTTP: the numbers PyTorch gives (worked by hand), and every refusal a 4xx naming the
field and the reason."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from app.api.errors import LimitExceeded
from app.api.limits import check_pool_cost
from app.api.schemas import PoolForwardRequest
from app.config import Settings

IMAGE = [[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 2], [6, 0, 3, 9]]]]  # (N, C, H, W)
ROW = [[0, 1, 2, 3, 4]]  # (C, L)


def post(client: httpx.Client, path: str, body: dict) -> httpx.Response:
    return client.post(f"/api/v1/{path}", json=body)


def test_max_and_average_pooling_of_an_image(client: httpx.Client) -> None:
    biggest = post(client, "pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 2})
    assert biggest.json() == {"output": [[[[5, 8], [6, 9]]]], "output_shape": [1, 1, 2, 2]}
    mean = post(client, "pool/forward", {"input": IMAGE, "kind": "avg", "kernel_size": 2})
    assert mean.json()["output"] == [[[[13 / 4, 11 / 4], [6 / 4, 15 / 4]]]]


def test_ceil_mode_and_count_include_pad_as_pytorch_has_them(client: httpx.Client) -> None:
    """Kernel 3, stride 2, padding 1 over 0..4: windows start at -1, 1 and 3 (the last
    one runs into the right padding)."""
    body = {"input": ROW, "kind": "avg", "kernel_size": 3, "stride": 2, "padding": 1,
            "ceil_mode": True}
    counted = post(client, "pool/forward", body).json()["output"][0]
    np.testing.assert_allclose(counted, [1 / 3, 2, 7 / 3])
    uncounted = post(client, "pool/forward", {**body, "count_include_pad": False}).json()
    np.testing.assert_allclose(uncounted["output"][0], [1 / 2, 2, 7 / 2])
    halves = {"input": ROW, "kind": "max", "kernel_size": 2}  # [0, 1], [2, 3], then [4]
    assert post(client, "pool/forward", halves).json()["output"] == [[1, 3]]
    assert post(client, "pool/forward", {**halves, "ceil_mode": True}).json()["output"] == \
        [[1, 3, 4]]


def test_one_and_three_dimensional_pools(client: httpx.Client) -> None:
    one = post(client, "pool/forward", {"input": [[[3, 1, 4, 1, 5, 9]]], "kind": "max",
                                        "kernel_size": 3})
    assert one.json()["output"] == [[[4, 9]]]
    cube = np.arange(8.0).reshape(1, 1, 2, 2, 2).tolist()
    three = post(client, "pool/forward", {"input": cube, "kind": "avg", "kernel_size": 2})
    assert three.json()["output"] == [[[[[3.5]]]]]


def test_backward_sends_each_delta_to_the_first_maximum(client: httpx.Client) -> None:
    body = {"input": [[1, 3, 3, 2]], "kind": "max", "kernel_size": 3, "stride": 1}
    given = post(client, "pool/backward", {**body, "grad_output": [[10, 100]]}).json()
    assert given == {"grad_input": [[0, 110, 0, 0]]}
    summed = post(client, "pool/backward", {**body, "loss": "sum"}).json()
    assert summed == {"grad_input": [[0, 2, 0, 0]], "loss": 6, "output": [[3, 3]],
                      "grad_output": [[1, 1]]}
    mse = post(client, "pool/backward", {**body, "loss": "mse", "target": [[1, 5]]}).json()
    # L = ((3 - 1)² + (3 - 5)²) / 2 = 4; δ = 2 (y - t) / 2 = (2, -2), both to cell 1
    assert (mse["loss"], mse["grad_output"], mse["grad_input"]) == (4, [[2, -2]],
                                                                    [[0, 0, 0, 0]])


def test_average_backward_spreads_each_delta(client: httpx.Client) -> None:
    body = {"input": [[1, 2, 3]], "kind": "avg", "kernel_size": 2, "padding": 1,
            "grad_output": [[1, 1]]}
    assert post(client, "pool/backward", body).json()["grad_input"] == [[0.5, 0.5, 0.5]]
    alone = post(client, "pool/backward", {**body, "count_include_pad": False}).json()
    assert alone["grad_input"] == [[1.0, 0.5, 0.5]]


REFUSED = [
    # (endpoint, body, field, words in the message)
    ("pool/forward", {"input": IMAGE, "kernel_size": 2}, "kind", "is required"),
    ("pool/forward", {"input": IMAGE, "kind": "min", "kernel_size": 2}, "kind",
     "'max' or 'avg'"),
    ("pool/forward", {"input": IMAGE, "kind": "max"}, "kernel_size", "is required"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 0}, "kernel_size",
     "kernel_size must be positive, got 0"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 5}, "kernel_size",
     "Output size is too small"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 2, "padding": 2},
     "padding", "at most half of kernel_size"),
    ("pool/forward", {"input": IMAGE, "kind": "avg", "kernel_size": 2, "dilation": 2},
     "dilation", "average pooling has no dilation"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 2,
                      "count_include_pad": False}, "count_include_pad",
     "for average pooling only"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 2, "ceil_mode": "yes"},
     "ceil_mode", "ceil_mode must be true or false, got 'yes'"),
    ("pool/forward", {"input": [[[1, 2], [3, 4]]], "kind": "max", "kernel_size": [2, 2, 2]},
     "input", "for a kernel_size of 3 spatial dimensions"),
    ("pool/forward", {"input": [[5]], "kind": "max", "kernel_size": 2, "padding": 1,
                      "dilation": 2}, "dilation", "covers only padding"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 2, "stride": 10**10},
     "stride", "at most 1,000,000,000"),
    ("pool/forward", {"input": IMAGE, "kind": "max", "kernel_size": 2, "weight": [[[1]]]},
     "weight", "is not a known field"),
    ("pool/backward", {"input": IMAGE, "kind": "max", "kernel_size": 2}, "grad_output",
     "exactly one of grad_output"),
    ("pool/backward", {"input": IMAGE, "kind": "max", "kernel_size": 2,
                       "grad_output": [[[[1]]]]}, "grad_output",
     "grad_output must have the output's shape [1, 1, 2, 2], got [1, 1, 1, 1]"),
    ("pool/backward", {"input": IMAGE, "kind": "avg", "kernel_size": 2, "loss": "mse"},
     "target", "needs a target"),
    ("pool/backward", {"input": IMAGE, "kind": "avg", "kernel_size": 2, "loss": "mse",
                       "target": [[1]]}, "target", "target must have the output's shape"),
    # the pools' traces
    ("trace", {"op": "max_pool", "input": IMAGE}, "kernel_size",
     "kernel_size is required for op 'max_pool'"),
    ("trace", {"op": "max_pool", "input": IMAGE, "kernel_size": 2, "weight": [[[[1]]]]},
     "weight", "weight is for op 'conv' only"),
    ("trace", {"op": "avg_pool", "input": IMAGE, "kernel_size": 2, "groups": 2}, "groups",
     "groups is for op 'conv' only"),
    ("trace", {"op": "avg_pool", "input": IMAGE, "kernel_size": 2,
               "padding_mode": "reflect"}, "padding_mode", "padding_mode is for op 'conv'"),
    ("trace", {"op": "max_pool", "input": IMAGE, "kernel_size": 2, "part": "grad_weight"},
     "part", "part must be 'forward' or 'grad_input' for op 'max_pool'"),
    ("trace", {"op": "max_pool", "input": IMAGE, "kernel_size": 2,
               "count_include_pad": True}, "count_include_pad", "for op 'avg_pool' only"),
    ("trace", {"op": "avg_pool", "input": IMAGE, "kernel_size": 2, "part": "grad_input"},
     "grad_output", "exactly one of grad_output"),
    ("trace", {"op": "max_pool", "input": IMAGE, "kernel_size": 2, "start": 4}, "start",
     "start must be an integer from 0 to 3"),
    ("trace", {"input": IMAGE, "weight": [[[[1]]]], "kernel_size": 2}, "kernel_size",
     "kernel_size is for op 'max_pool' and 'avg_pool' only"),
    ("trace", {"input": IMAGE, "weight": [[[[1]]]], "ceil_mode": True}, "ceil_mode",
     "ceil_mode is for op 'max_pool' and 'avg_pool' only"),
    ("trace", {"input": IMAGE}, "weight", "weight is required"),
    ("trace", {"op": "pool", "input": IMAGE, "kernel_size": 2}, "op",
     "'conv', 'transposed', 'max_pool' or 'avg_pool'"),
]


@pytest.mark.parametrize(("endpoint", "body", "field", "words"), REFUSED,
                         ids=[f"{e}-{f}-{i}" for i, (e, _, f, _) in enumerate(REFUSED)])
def test_bad_input_is_a_422_naming_the_field(client: httpx.Client, endpoint: str, body: dict,
                                             field: str, words: str) -> None:
    response = post(client, endpoint, body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["field"] == field and words in error["error"], error
    assert len(response.content) < 1000  # the message, never the body echoed back


def test_a_four_dimensional_pool_is_refused_by_the_spatial_limit(client: httpx.Client) -> None:
    response = post(client, "pool/forward", {"input": [[[[[[1]]]]]], "kind": "max",
                                             "kernel_size": 1})
    assert response.status_code == 422
    assert (response.json()["field"], response.json()["limit"]) == ("kernel_size",
                                                                     "max_spatial_dims")


def test_an_output_past_its_limit_is_refused_before_anything_is_computed() -> None:
    """Windows of 2 x 2, stride 1 and padding 1 make a 2 x 3 x 4 input a 2 x 4 x 5 output:
    40 elements are allowed, 42 (from 2 x 2 x 6) are not."""
    settings = Settings(max_output_elements=40)
    body = {"kind": "max", "kernel_size": [2, 2], "stride": 1, "padding": 1}
    at = PoolForwardRequest.model_validate({**body, "input": np.ones((2, 3, 4)).tolist()})
    assert check_pool_cost(at, "max", settings, forward_pass=True,
                           backward_pass=False).out_spatial == (4, 5)
    over = PoolForwardRequest.model_validate({**body, "input": np.ones((2, 2, 6)).tolist()})
    with pytest.raises(LimitExceeded, match="the output would have 42 elements") as info:
        check_pool_cost(over, "max", settings, forward_pass=True, backward_pass=False)
    assert (info.value.field, info.value.limit, info.value.limit_value) == (
        "stride", "max_output_elements", 40)


def test_a_huge_kernel_over_few_cells_is_answered_at_once(client: httpx.Client) -> None:
    response = post(client, "pool/backward", {
        "input": [[1, 3, 2]], "kind": "max", "kernel_size": 10**9, "stride": 1,
        "padding": 5 * 10**8, "grad_output": [[1, 2, 3, 4]]})
    assert response.json() == {"grad_input": [[0, 10, 0]]}


# ----------------------------------------------------------------------------- traces


def test_a_max_pool_trace_shows_each_window_and_its_winner(client: httpx.Client) -> None:
    body = {"op": "max_pool", "input": [[[1, 5, 2], [3, 5, 8]]], "kernel_size": [2, 2],
            "padding": 1}
    trace = post(client, "trace", {**body, "start": 1, "count": 1}).json()
    assert (trace["total_steps"], trace["result_shape"], trace["next_start"]) == (
        4, [1, 1, 2, 2], 2)
    assert trace["shared"]["kernel_index"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    steps = trace["steps"]
    assert steps["position"] == [[[-1, 1], [-1, 2], [0, 1], [0, 2]]]
    assert steps["padding"] == [[True, True, False, False]]
    assert steps["inputs"] == [[None, None, 5, 2]]  # padding's -inf travels as null
    assert (steps["winner"], steps["value"]) == ([2], [5])


def test_replaying_a_pool_trace_through_the_api_gives_the_output(client: httpx.Client) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(-3, 4, (1, 2, 5, 7)).tolist()  # ties galore
    params = {"input": image, "kernel_size": [3, 2], "stride": [2, 1], "padding": 1,
              "ceil_mode": True}
    for kind in ("max", "avg"):
        want = post(client, "pool/forward", {**params, "kind": kind}).json()
        rebuilt, start = np.zeros(want["output_shape"]), 0
        while start is not None:  # page through with next_start
            page = post(client, "trace", {**params, "op": f"{kind}_pool", "start": start,
                                          "count": 7}).json()
            index = np.unravel_index(np.arange(page["start"], page["start"] + page["count"]),
                                     page["result_shape"])
            rebuilt[index] = page["steps"]["value"]
            start = page["next_start"]
        np.testing.assert_allclose(rebuilt, want["output"], rtol=1e-13)


def test_an_average_pool_backward_trace_says_where_each_delta_goes(
        client: httpx.Client) -> None:
    trace = post(client, "trace", {"op": "avg_pool", "input": [[1, 2, 3]], "kernel_size": 2,
                                   "padding": 1, "grad_output": [[1, 6]],
                                   "part": "grad_input"}).json()
    assert (trace["result_shape"], trace["shared"]["output_shape"]) == ([1, 1, 3], [1, 1, 2])
    steps = trace["steps"]
    assert steps["delta"] == [1, 6]
    assert steps["shares"] == [[0.5, 0.5], [3, 3]]
    assert steps["reaches"] == [[False, True], [True, True]]  # the padding's share is lost
    max_trace = post(client, "trace", {"op": "max_pool", "input": [[1, 3, 3, 2]],
                                       "kernel_size": 3, "stride": 1, "loss": "sum",
                                       "part": "grad_input"}).json()
    assert max_trace["steps"]["winner"] == [1, 0]  # cell 1 both times: the first 3
    assert max_trace["steps"]["shares"] == [[0, 1, 0], [1, 0, 0]]
