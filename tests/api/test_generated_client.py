"""A client generated from the served /openapi.json by openapi-python-client (the most used
Python generator) has every operation under its own name, and computes the lesson over real
HTTP with typed requests and responses."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "convscope_client"
OPERATIONS = {"convolution": {"forward", "backward", "trace", "shape"},
              "transposed": {"transposed_forward", "transposed_backward"},
              "pooling": {"pool_forward", "pool_backward"},
              "presets": {"list_presets", "get_preset"}, "health": {"healthz"}}

LESSON_INPUT = [[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]  # one channel, 3x3, unbatched
LESSON_WEIGHT = [[[[0, 1], [2, 3]]]]


@pytest.fixture(scope="module")
def generated(client: httpx.Client, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[ModuleType, str]]:
    """The generated package, imported, and what the generator printed."""
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_bytes(client.get("/openapi.json").content)
    (root / "config.yaml").write_text("post_hooks: []\n")  # no formatter run: it only reads
    run = subprocess.run(
        [GENERATOR, "generate", "--path", root / "openapi.json", "--output-path",
         root / PACKAGE, "--meta", "none", "--config", root / "config.yaml"],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE), run.stdout + run.stderr
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@dataclass
class Api:
    """The generated package and one of its clients, pointed at the live server."""

    package: ModuleType
    http: Any

    @property
    def models(self) -> ModuleType:
        return self.package.models

    def call(self, tag: str, name: str, /, **arguments: Any) -> Any:
        """``<package>.api.<tag>.<name>.sync(client=..., **arguments)``: the typed result."""
        return operation(self.package, tag, name).sync(client=self.http, **arguments)


@pytest.fixture
def api(generated: tuple[ModuleType, str], live_server: LiveServer) -> Iterator[Api]:
    package, _ = generated
    with package.Client(base_url=live_server.url, raise_on_unexpected_status=True) as http:
        yield Api(package, http)


def operation(package: ModuleType, tag: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.api.{tag}.{name}")


def test_the_generator_keeps_every_operation_under_its_own_name(
        generated: tuple[ModuleType, str]) -> None:
    package, printed = generated
    assert "warning" not in printed.lower(), printed  # it says so when it leaves one out
    for tag, names in OPERATIONS.items():
        folder = Path(package.__file__).parent / "api" / tag
        assert {path.stem for path in folder.glob("*.py")} - {"__init__"} == names
        for name in names:
            assert callable(operation(package, tag, name).sync)


def test_the_lessons_forward_pass_through_the_generated_client(api: Api) -> None:
    result = api.call("convolution", "forward", body=api.models.ForwardRequest(
        input_=LESSON_INPUT, weight=LESSON_WEIGHT))
    assert isinstance(result, api.models.ForwardResponse)
    assert result.output == [[[19, 25], [37, 43]]]  # 0·0 + 1·1 + 3·2 + 4·3 = 19, ...
    assert result.output_shape == [1, 2, 2]


def test_the_lessons_backward_pass_through_the_generated_client(api: Api) -> None:
    result = api.call("convolution", "backward", body=api.models.BackwardRequest(
        input_=LESSON_INPUT, weight=LESSON_WEIGHT,
        loss=api.models.BackwardRequestLossType0.SUM))
    assert isinstance(result, api.models.BackwardResponse)
    assert result.loss == 19 + 25 + 37 + 43
    # dL/dy is all ones: each weight collects the sum of the four inputs it touched, each
    # input the sum of the weights that touched it
    assert result.grad_weight == [[[[0 + 1 + 3 + 4, 1 + 2 + 4 + 5],
                                    [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]]]]
    assert result.grad_input == [[[0, 1, 1], [2, 6, 4], [2, 5, 3]]]
    assert result.grad_bias == [4]


def test_the_lessons_trace_through_the_generated_client(api: Api) -> None:
    result = api.call("convolution", "trace", body=api.models.TraceRequest(
        input_=LESSON_INPUT, weight=LESSON_WEIGHT,
        part=api.models.TraceRequestPart.FORWARD, start=1, count=2))
    assert isinstance(result, api.models.TraceResponse)
    assert (result.total_steps, result.start, result.count, result.next_start) == (4, 1, 2, 3)
    assert result.steps["value"] == [25, 37]
    assert result.steps["inputs"][0] == [1, 2, 4, 5]  # the window under the second step
    assert result.steps["products"][0] == [0, 2, 8, 15]


def test_the_transposed_convolution_through_the_generated_client(api: Api) -> None:
    # x = (1, 2) stamps w = (1, 10, 100) twice, 2 cells apart: 1, 10, 100 + 2, 20, 200
    result = api.call("transposed", "transposed_forward",
                      body=api.models.TransposedForwardRequest(
                          input_=[[1, 2]], weight=[[[1, 10, 100]]], stride=2))
    assert isinstance(result, api.models.TransposedForwardResponse)
    assert result.output == [[1, 10, 102, 20, 200]]
    grads = api.call("transposed", "transposed_backward",
                     body=api.models.TransposedBackwardRequest(
                         input_=[[1, 2]], weight=[[[1, 10, 100]]], stride=2,
                         grad_output=[[1, 0, 1, 0, 1]]))
    assert isinstance(grads, api.models.BackwardResponse)
    assert grads.grad_input == [[1 + 100, 1 + 100]]  # each element reads its stamp back
    assert grads.grad_weight == [[[1 + 2, 0, 1 + 2]]]
    trace = api.call("convolution", "trace", body=api.models.TraceRequest(
        input_=[[1, 2]], weight=[[[1, 10, 100]]], stride=2,
        op=api.models.TraceRequestOp.TRANSPOSED, view=api.models.TraceRequestViewType0.GATHER,
        start=2, count=1))
    assert isinstance(trace, api.models.TraceResponse)
    assert trace.steps["value"] == [102] and trace.terms["products"] == [100, 2]


def test_pooling_and_its_trace_through_the_generated_client(api: Api) -> None:
    image = [[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 2], [6, 0, 3, 9]]]  # (C, H, W)
    pooled = api.call("pooling", "pool_forward", body=api.models.PoolForwardRequest(
        input_=image, kind=api.models.PoolForwardRequestKind.MAX, kernel_size=[2, 2]))
    assert isinstance(pooled, api.models.PoolForwardResponse)
    assert pooled.output == [[[5, 8], [6, 9]]]  # the largest of each 2 x 2 block
    grads = api.call("pooling", "pool_backward", body=api.models.PoolBackwardRequest(
        input_=[[1, 3, 3, 2]], kind=api.models.PoolBackwardRequestKind.MAX, kernel_size=3,
        stride=1, grad_output=[[10, 100]]))
    assert grads.grad_input == [[0, 110, 0, 0]]  # both windows' max is the first 3
    trace = api.call("convolution", "trace", body=api.models.TraceRequest(
        input_=[[1, 2, 3]], op=api.models.TraceRequestOp.AVG_POOL, kernel_size=2, padding=1,
        count_include_pad=False))
    assert isinstance(trace, api.models.TraceResponse)
    assert trace.steps["value"] == [1.0, 2.5]  # [pad, 1] counts one cell; [2, 3] two


def test_shape_and_presets_through_the_generated_client(api: Api) -> None:
    shape = api.call("convolution", "shape", input_size="28,28", kernel_size="3,3",
                     stride="2", padding="1")
    assert shape.valid and shape.output_size == [14, 14]
    assert "lesson-2d" in [preset.name for preset in api.call("presets", "list_presets")]
    lesson = api.call("presets", "get_preset", name="lesson-2d")
    assert lesson.endpoint == "/api/v1/forward"
    assert api.call("health", "healthz")["status"] == "ok"


def test_an_error_reaches_the_generated_client_as_a_typed_error_body(api: Api) -> None:
    error = api.call("convolution", "forward", body=api.models.ForwardRequest(
        input_=LESSON_INPUT, weight=LESSON_WEIGHT, groups=2))
    assert isinstance(error, api.models.ErrorBody)
    assert error.field == "groups" and "divisible by groups (2)" in error.error
    missing = operation(api.package, "presets", "get_preset").sync_detailed(
        client=api.http, name="no-such-preset")
    assert missing.status_code == 404 and missing.parsed.field == "name"
