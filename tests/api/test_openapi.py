"""The contract: OpenAPI 3 with examples and errors, an offline /docs, and Schemathesis."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
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


def test_the_forward_example_is_the_lessons_worked_example(spec: dict,
                                                           client: httpx.Client) -> None:
    schema = spec["components"]["schemas"]["ForwardRequest"]
    example = schema["examples"][0]
    assert example["input"] == [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]]
    response = client.post("/api/v1/forward", json=example)
    assert response.json()["output"] == [[[[19, 25], [37, 43]]]]


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
# JSON Schema cannot say that the weight's channels must match the input's, or that the
# kernel must fit the padded input: a schema-valid body can still be refused with a 422
# naming the field (or a 413 for a limit; a 404 for an unknown preset). Every other default
# check runs as it is.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "404", "413", "422"])


@schema.include(path_regex="^/api/").parametrize()
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
