"""One error shape for every API failure, mapped from exceptions in one place.

Every error body is ``{"error": message, "field": name-or-null, "code": kind}`` plus, for
limits, ``"limit"`` and ``"limit_value"``. A message may quote a short piece of what the client
sent (a value, an unknown key, a media type: at most 40 characters, through
:func:`~app.engine.errors.describe`), and only inside this JSON body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..engine import ConvolutionError
from ..security import security_headers
from .responses import FastJSONResponse
from .schemas import PATTERN_WORDS


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(description="what is wrong, in plain words", examples=[
        "weight expects 1 input channel per group (groups=1, so 1 in all), input has 3"])
    field: str | None = Field(None, description="the request field at fault, if one is")
    code: str = Field(description="kind of error", examples=["invalid_value"])
    limit: str | None = Field(None, description="the setting that was exceeded (413s, and the "
                                                "422 for too many spatial dimensions)")
    limit_value: int | None = Field(None, description="that setting's value")


# What each route with a body can answer besides 200, every one with the one error body
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not valid JSON."},
    413: {"model": ErrorBody, "description": "The body, an array or the computation is "
                                             "larger than a configured limit."},
    415: {"model": ErrorBody, "description": "The body is not sent as application/json."},
    422: {"model": ErrorBody, "description": "A field is invalid; `field` names it."},
}


class ApiError(Exception):
    """A client error raised by the API layer (never by the engine)."""

    def __init__(self, status: int, message: str, *, field: str | None = None,
                 code: str = "invalid_value", limit: str | None = None,
                 limit_value: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.code = status, message, field, code
        self.limit, self.limit_value = limit, limit_value


class LimitExceeded(ApiError):
    """A request asks for more than a configured limit allows (413)."""

    def __init__(self, message: str, *, field: str | None, limit: str, value: int) -> None:
        super().__init__(413, f"{message} (limit {limit}={value})", field=field,
                         code="too_large", limit=limit, limit_value=value)


def error_response(status: int, message: str, *, field: str | None = None,
                   code: str = "invalid_value", headers: dict[str, str] | None = None,
                   **extra: object) -> FastJSONResponse:
    body = {"error": message, "field": field, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return FastJSONResponse(body, status_code=status, headers=headers)


# pydantic's error types, said the way our own messages say things
_PYDANTIC_WORDS = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "model_attributes_type": "the body must be a JSON object",
    "dict_type": "must be a JSON object",
}


_FIELD_KEY = re.compile(r'"([A-Za-z_]{1,200})"\s*:')


def _json_error(exc: RequestValidationError) -> tuple[int, str, str | None]:
    """Say why the body is not JSON we accept, naming the field where the parse stopped."""
    first = exc.errors()[0]
    pos = first["loc"][-1] if isinstance(first["loc"][-1], int) else 0
    doc = exc.body if isinstance(exc.body, str) else bytes(exc.body or b"").decode(
        "utf-8", "replace")
    reason = str(first.get("ctx", {}).get("error", "malformed"))
    keys = _FIELD_KEY.findall(doc[:pos])
    field = _short_field(keys[-1]) if keys else None
    where = f"{field} " if field else "the body "
    rest = doc[max(pos - 1, 0):pos + 9]
    if "infinity" in reason or "NaN" in rest or "Infinity" in rest:
        return 422, f"{where}must hold finite numbers: NaN, Infinity and numbers beyond " \
                    "1.8e308 are not allowed", field
    if "depth" in reason:
        return 422, f"{where}is nested too deeply", field
    line = doc.count("\n", 0, pos) + 1
    return 400, f"the body is not valid JSON: {reason} (line {line}, character {pos})", None


def _short_field(name: str) -> str:
    """A field name as an error quotes it: an unknown key can be any length."""
    return name if len(name) <= 40 else name[:37] + "..."


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = _short_field(".".join(loc)) or None
    kind = first.get("type", "")
    words = _PYDANTIC_WORDS.get(kind) or str(first.get("msg", "is invalid"))
    if kind == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(first.get("ctx", {}).get("pattern"), words)
    if field is None:
        return words, None
    # our own words read on from the field's name: "input_size must be ..."
    joined = kind in _PYDANTIC_WORDS or kind == "array" or words in PATTERN_WORDS.values()
    return f"{field} {words}" if joined else f"{field}: {words}", field


def install_error_handlers(app: FastAPI,
                           page_not_found: Callable[[Request], Response] | None = None) -> None:
    """Map every client error to the one error shape; never a 500 for client input. An address
    outside ``/api/`` that is no page gets ``page_not_found``'s HTML page instead, if given."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> FastJSONResponse:
        return error_response(exc.status, exc.message, field=exc.field, code=exc.code,
                              limit=exc.limit, limit_value=exc.limit_value)

    @app.exception_handler(ConvolutionError)
    async def engine_error(_: Request, exc: ConvolutionError) -> FastJSONResponse:
        return error_response(422, exc.message, field=exc.field)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> FastJSONResponse:
        if exc.errors()[0].get("type") == "json_invalid":
            status, message, field = _json_error(exc)
            return error_response(status, message, field=field,
                                  code="invalid_json" if status == 400 else "invalid_value")
        message, field = _validation_message(exc)
        return error_response(422, message, field=field)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> FastJSONResponse:
        # A bug, never client input (tests/api/test_costs.py throws the worst at the API).
        # This runs outside the other middleware, so it adds their headers itself; the
        # exception is logged by the server after this answer is sent.
        settings = request.app.state.settings
        return error_response(
            500, "internal error: the server failed to answer this request", code="internal",
            headers=security_headers(settings.frame_ancestors, request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if (exc.status_code == 404 and page_not_found is not None
                and request.url.path.partition("/")[2].partition("/")[0] != "api"):
            return page_not_found(request)
        if exc.status_code == 413:
            limit = request.app.state.settings.max_body_bytes
            return error_response(
                413, f"the request body is larger than {limit} bytes (limit "
                     f"max_body_bytes={limit})", code="too_large", limit="max_body_bytes",
                limit_value=limit)
        return error_response(exc.status_code, str(exc.detail), code="http_error",
                              headers=exc.headers)
