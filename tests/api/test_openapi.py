"""The contract: OpenAPI 3 with examples and errors, an offline /docs, and Schemathesis."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import jsonschema
import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis.config import PositiveDataAcceptanceConfig

from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec(client: httpx.Client) -> dict:
    return client.get("/openapi.json").json()


OPERATIONS = {
    # operation id: (method, path, the statuses it can answer)
    "forward": ("post", "/api/v1/forward", {"200", "400", "413", "415", "422"}),
    "backward": ("post", "/api/v1/backward", {"200", "400", "413", "415", "422"}),
    "trace": ("post", "/api/v1/trace", {"200", "400", "413", "415", "422"}),
    "transposed_forward": ("post", "/api/v1/transposed/forward",
                           {"200", "400", "413", "415", "422"}),
    "transposed_backward": ("post", "/api/v1/transposed/backward",
                            {"200", "400", "413", "415", "422"}),
    "pool_forward": ("post", "/api/v1/pool/forward", {"200", "400", "413", "415", "422"}),
    "pool_backward": ("post", "/api/v1/pool/backward", {"200", "400", "413", "415", "422"}),
    "shape": ("get", "/api/v1/shape", {"200", "422"}),
    "list_presets": ("get", "/api/v1/presets", {"200"}),
    "get_preset": ("get", "/api/v1/presets/{name}", {"200", "404"}),
    "healthz": ("get", "/healthz", {"200"}),
}


def test_every_endpoint_is_described_with_its_errors(spec: dict) -> None:
    assert spec["openapi"].startswith("3.")
    described = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert described == {(method, path) for method, path, _ in OPERATIONS.values()}
    for operation_id, (method, path, statuses) in OPERATIONS.items():
        operation = spec["paths"][path][method]
        assert operation["operationId"] == operation_id  # what a generated client calls it
        assert operation["description"] or operation["summary"]
        assert set(operation["responses"]) == statuses, path
        for status in statuses - {"200"}:
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)


def test_no_error_body_is_declared_that_the_server_never_sends(spec: dict,
                                                               client: httpx.Client) -> None:
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])
    missing = client.get("/api/v1/presets/no-such-preset")
    assert missing.status_code == 404
    assert missing.json()["field"] == "name" and "no preset is named" in missing.json()["error"]
    bad = client.get("/api/v1/shape", params={"input_size": "3", "kernel_size": "2",
                                              "groups": "0"})
    assert bad.status_code == 422 and bad.json()["field"] == "groups"


def test_the_document_is_valid_openapi_to_another_validator(spec: dict) -> None:
    validate(spec)  # openapi-spec-validator: the OpenAPI 3.1 schema, with every $ref followed


def _nodes(tree: object, where: str = "#") -> list[tuple[str, dict]]:
    if isinstance(tree, list):
        return [n for i, item in enumerate(tree) for n in _nodes(item, f"{where}/{i}")]
    if not isinstance(tree, dict):
        return []
    return [(where, tree)] + [n for key, item in tree.items() if key != "examples"
                              for n in _nodes(item, f"{where}/{key}")]


def test_every_array_says_what_it_holds(spec: dict) -> None:
    """Generators cannot type an array without ``items``; openapi-python-client left out
    forward, backward and trace over the arrays' bare ``{"type": "array"}``."""
    untyped = [where for where, node in _nodes(spec)
               if node.get("type") == "array" and "items" not in node]
    assert untyped == []
    schemas = spec["components"]["schemas"]
    assert schemas["Array1D"]["items"] == {"type": "number"}
    for ndim in range(2, 7):
        assert schemas[f"Array{ndim}D"]["items"] == {
            "$ref": f"#/components/schemas/Array{ndim - 1}D"}
    forward = schemas["ForwardRequest"]["properties"]
    assert [ref["$ref"][-7:] for ref in forward["weight"]["anyOf"]] == [
        "Array3D", "Array4D", "Array5D", "Array6D"]
    output = schemas["ForwardResponse"]["properties"]["output"]
    assert output["anyOf"][0] == {"$ref": "#/components/schemas/Array2D"}


def _schema_says_valid(spec: dict, schema: dict, value: object) -> bool:
    """JSON Schema validation of ``value`` with the document's own components."""
    root = {**schema, "components": spec["components"]}
    return jsonschema.Draft202012Validator(root).is_valid(value)


def _body_schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


X, W = [[[0, 1, 2], [3, 4, 5], [6, 7, 8]]], [[[[0, 1], [2, 3]]]]
REFUSED_BODIES = [
    # (why, endpoint, body, the field the server names); Schemathesis' ST202 found the first
    # four allowed by the schema and refused by the server
    ("ranks too low", "forward", {"input": [0.0], "weight": [0.0]}, "input"),
    ("nulls in an array", "backward", {"input": X, "weight": W, "loss": "mse",
                                       "target": [[None, None]]}, "target"),
    ("weight one rank short", "forward", {"input": X, "weight": [[0, 1]]}, "weight"),
    ("unused target of rank 1", "backward", {"input": X, "weight": W, "loss": "sum",
                                             "target": [0]}, "target"),
    ("a number beside a list", "forward", {"input": [[1, [2]]], "weight": W}, "input"),
    ("seven dimensions", "forward", {"input": [[[[[[[1]]]]]]], "weight": W}, "input"),
    ("bias of rank 2", "forward", {"input": X, "weight": W, "bias": [[1]]}, "bias"),
    ("stride above the cap", "forward", {"input": X, "weight": W,
                                         "stride": 1_000_000_001}, "stride"),
    ("padding above the cap", "forward", {"input": X, "weight": W,
                                          "padding": [[0, 1_000_000_001], [0, 0]]}, "padding"),
    ("dilation above the cap", "forward", {"input": X, "weight": W,
                                           "dilation": [1, 1_000_000_001]}, "dilation"),
    ("groups above the cap", "forward", {"input": X, "weight": W,
                                         "groups": 1_000_000_001}, "groups"),
    ("count above the cap", "trace", {"input": X, "weight": W, "count": 1_000_000_001},
     "count"),
    ("pool kernel above the cap", "pool/forward", {"input": X, "kind": "max",
                                                   "kernel_size": 1_000_000_001},
     "kernel_size"),
    ("pool padding below zero", "pool/forward", {"input": X, "kind": "avg", "kernel_size": 2,
                                                 "padding": -1}, "padding"),
    ("pool without a kind", "pool/backward", {"input": X, "kernel_size": 2, "loss": "sum"},
     "kind"),
    ("pool ceil_mode as a number", "pool/forward", {"input": X, "kind": "max",
                                                    "kernel_size": 2, "ceil_mode": 1},
     "ceil_mode"),
    ("trace of an unknown op", "trace", {"input": X, "op": "min_pool", "kernel_size": 2},
     "op"),
]


@pytest.mark.parametrize(("why", "endpoint", "body", "field"), REFUSED_BODIES,
                         ids=[case[0] for case in REFUSED_BODIES])
def test_the_schema_refuses_what_the_server_refuses(spec: dict, client: httpx.Client, why: str,
                                                   endpoint: str, body: dict,
                                                   field: str) -> None:
    model = "".join(part.capitalize() for part in endpoint.split("/")) + "Request"
    assert not _schema_says_valid(spec, _body_schema(model), body)
    response = client.post(f"/api/v1/{endpoint}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_the_schema_allows_the_lessons_bodies_and_every_example(spec: dict) -> None:
    schemas = spec["components"]["schemas"]
    assert _schema_says_valid(spec, _body_schema("ForwardRequest"), {"input": X, "weight": W})
    assert _schema_says_valid(spec, _body_schema("TraceRequest"), {
        "input": X, "weight": W, "stride": [1, 1_000_000_000], "count": 1_000_000_000})
    assert _schema_says_valid(spec, _body_schema("TraceRequest"), {
        "op": "avg_pool", "input": X, "kernel_size": [2, 2], "ceil_mode": True,
        "count_include_pad": False})
    for model in ("ForwardRequest", "BackwardRequest", "TraceRequest",
                  "TransposedForwardRequest", "TransposedBackwardRequest", "PoolForwardRequest",
                  "PoolBackwardRequest"):
        for example in schemas[model]["examples"]:
            assert _schema_says_valid(spec, _body_schema(model), example), (model, example)


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"input_size": "3,3", "kernel_size": "000"}, "kernel_size", "integers from 1 to"),
    ({"input_size": "3,3", "kernel_size": "2, 2"}, "kernel_size", "separated by commas"),
    ({"input_size": "1000000001", "kernel_size": "2"}, "input_size", "to 1000000000"),
    ({"input_size": "3,3,3,3,3,3,3,3,3", "kernel_size": "1"}, "input_size", "1 to 8"),
    ({"input_size": "3", "kernel_size": "2", "stride": "0"}, "stride", "from 1"),
    ({"input_size": "3", "kernel_size": "2", "padding": "-1"}, "padding", "'valid'"),
    ({"input_size": "3", "kernel_size": "2", "dilation": "+1"}, "dilation", "from 1"),
])
def test_shape_query_strings_follow_their_patterns(spec: dict, client: httpx.Client,
                                                   query: dict, field: str,
                                                   words: str) -> None:
    parameters = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/shape"]["get"]
                  ["parameters"]}
    assert not _schema_says_valid(spec, parameters[field], query[field])
    response = client.get("/api/v1/shape", params=query)
    assert response.status_code == 422
    assert response.json()["field"] == field and words in response.json()["error"]
    for good in ("1", "28,28", "1000000000,1,7"):
        assert _schema_says_valid(spec, parameters[field], good)


def test_the_forward_example_is_the_lessons_worked_example(spec: dict,
                                                           client: httpx.Client) -> None:
    schema = spec["components"]["schemas"]["ForwardRequest"]
    example = schema["examples"][0]
    assert example["input"] == [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]]
    response = client.post("/api/v1/forward", json=example)
    assert response.json()["output"] == [[[[19, 25], [37, 43]]]]


TRANSPOSED_REFUSED = [
    # (why, endpoint, body, the field the server names)
    ("padding by name", "transposed/forward", {"input": [[1, 2]], "weight": [[[1, 1]]],
                                               "padding": "same"}, "padding"),
    ("padding as pairs", "transposed/forward", {"input": [[1, 2]], "weight": [[[1, 1]]],
                                                "padding": [[1, 0]]}, "padding"),
    ("output_padding below 0", "transposed/forward",
     {"input": [[1, 2]], "weight": [[[1, 1]]], "output_padding": -1}, "output_padding"),
    ("output_padding above the cap", "transposed/backward",
     {"input": [[1, 2]], "weight": [[[1, 1]]], "output_padding": 1_000_000_001,
      "loss": "sum"}, "output_padding"),
    ("a padding_mode", "transposed/forward", {"input": [[1, 2]], "weight": [[[1, 1]]],
                                              "padding_mode": "zeros"}, "padding_mode"),
    ("an unknown op", "trace", {"input": [[1, 2]], "weight": [[[1, 1]]], "op": "pool"}, "op"),
    ("an unknown view", "trace", {"input": [[1, 2]], "weight": [[[1, 1]]],
                                  "op": "transposed", "view": "stamp"}, "view"),
]


@pytest.mark.parametrize(("why", "endpoint", "body", "field"), TRANSPOSED_REFUSED,
                         ids=[case[0] for case in TRANSPOSED_REFUSED])
def test_the_schema_refuses_what_the_server_refuses_of_the_transposed_convolution(
        spec: dict, client: httpx.Client, why: str, endpoint: str, body: dict,
        field: str) -> None:
    model = {"transposed/forward": "TransposedForwardRequest",
             "transposed/backward": "TransposedBackwardRequest",
             "trace": "TraceRequest"}[endpoint]
    assert not _schema_says_valid(spec, _body_schema(model), body)
    response = client.post(f"/api/v1/{endpoint}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_the_transposed_examples_compute_what_the_response_example_says(
        spec: dict, client: httpx.Client) -> None:
    schemas = spec["components"]["schemas"]
    example = schemas["TransposedForwardRequest"]["examples"][0]
    response = client.post("/api/v1/transposed/forward", json=example).json()
    documented = schemas["TransposedForwardResponse"]["properties"]
    assert response["output"] == documented["output"]["examples"][0]
    assert response["output_shape"] == documented["output_shape"]["examples"][0]
    for example in schemas["TransposedBackwardRequest"]["examples"]:
        assert client.post("/api/v1/transposed/backward", json=example).status_code == 200
    trace = schemas["TraceRequest"]["examples"][-1]
    assert trace["op"] == "transposed"
    assert client.post("/api/v1/trace", json=trace).json()["steps"]["after"][1] == [
        102.0, 20.0, 200.0]


def test_docs_page_loads_only_local_assets(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(url.startswith("/static/") for url in assets)
    for url in assets:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(("path", "sha256"), [
    (line.split("|")[1].strip(), line.split("|")[3].strip())
    for line in (ROOT / "static/vendor/README.md").read_text().splitlines()
    if line.startswith("| ") and re.search(r"\| [0-9a-f]{64} \|$", line)
])
def test_vendored_assets_are_the_pinned_files(path: str, sha256: str) -> None:
    data = (ROOT / "static/vendor" / path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    assert (ROOT / "static/vendor" / path.split("/")[0] / "LICENSE").exists()


def test_vendored_htmx_is_version_2_0() -> None:
    text = (ROOT / "static/vendor/htmx-2.0.11/htmx.min.js").read_text()
    assert re.search(r'version:"2\.0\.\d+"', text)


schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
schema.config.generation.update(max_examples=25)
# The schema says ranks, numbers only, the integer ranges and the /shape query patterns, so a
# body breaking those is refused as negative data. What JSON Schema cannot say still gets a
# 422 naming the field from schema-valid data: that an array is rectangular (lists at one
# depth of one length); that the shapes agree (weight channels x groups = input channels,
# groups dividing C_out, a kernel axis per spatial axis and no larger than the padded input,
# one stride/padding/dilation per spatial axis, grad_output and target of the output's shape,
# input_size and kernel_size with as many axes); exactly one of grad_output and loss, and a
# target for 'mse'; 'same' padding only with stride 1; trace start below total_steps; results
# that overflow; more spatial dimensions than max_spatial_dims. 413: the configured size
# limits, which a static schema does not know. 404: an unknown preset name (a default
# status, listed as expected_statuses replaces the defaults). Every other default check
# runs as it is.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "404", "413", "422"])


@schema.include(path_regex="^/api/").parametrize()
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
