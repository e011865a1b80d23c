"""``/docs``: the interactive API reference, from the vendored Swagger UI (works offline),
over the document ``/openapi.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

SWAGGER = "/static/vendor/swagger-ui-5.35.0"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, every asset served by this app."""
    return HTMLResponse(f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ConvScope API</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
<link rel="icon" href="{SWAGGER}/favicon-32x32.png">
</head>
<body data-openapi-url="/openapi.json">
<div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/js/docs.js"></script>
</body>
</html>""")


_FASTAPI_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def declare_only_sent_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` leave out the 422 FastAPI adds by itself to every operation that
    has parameters and declares no 422 (``GET /api/v1/presets/{name}``), with its
    ``HTTPValidationError`` and ``ValidationError`` schemas: that body is never sent. Every
    error is an ``ErrorBody``, and each route declares the statuses it can answer."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # cached by FastAPI; what follows is idempotent
        for path in document["paths"].values():
            for operation in path.values():
                content = operation["responses"].get("422", {}).get("content", {})
                if content.get("application/json", {}).get("schema") == _FASTAPI_422:
                    del operation["responses"]["422"]
        schemas = document.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
