"""One error shape for every API failure, mapped from exceptions in one place.

Every error body is ``{"error": message, "field": name-or-null, "code": kind}`` plus, for
limits, ``"limit"`` and ``"limit_value"``. A message may quote a short piece of what the client
sent (a value, an unknown key, a media type: at most 40 characters, through
:func:`~app.engine.errors.describe`), and only inside this JSON body.

The message is in the request's language (:mod:`app.i18n`: ``lang=``, else
``Accept-Language``), English by default; ``field``, ``code`` and the status never change with
it, so a client tells errors apart by those, never by the words. pydantic's own messages are
said again in Korean by their error ``type`` (:data:`_PYDANTIC_KO`), keeping their numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import i18n
from ..engine import ConvolutionError
from ..i18n import N_, gettext
from ..security import security_headers
from .responses import FastJSONResponse
from .schemas import MAX_PARAMETER, PATTERN_WORDS


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
        super().__init__(413, gettext("%(message)s (limit %(limit)s=%(value)s)")
                         % {"message": message, "limit": limit, "value": value}, field=field,
                         code="too_large", limit=limit, limit_value=value)


def body_too_large(limit: int) -> str:
    """The message of a body over ``max_body_bytes``."""
    return gettext("the request body is larger than %(limit)s bytes (limit "
                   "max_body_bytes=%(limit)s)") % {"limit": limit}


def error_response(status: int, message: str, *, field: str | None = None,
                   code: str = "invalid_value", headers: dict[str, str] | None = None,
                   **extra: object) -> FastJSONResponse:
    body = {"error": message, "field": field, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return FastJSONResponse(body, status_code=status, headers=headers)


# pydantic's error types, said the way our own messages say things: each reads on from the
# field's name ("input_size is required"), but the body's own
_PYDANTIC_WORDS: dict[str, str] = {
    "missing": N_("%(field)s is required"),
    "extra_forbidden": N_("%(field)s is not a known field"),
    "model_attributes_type": N_("the body must be a JSON object"),
    "dict_type": N_("%(field)s must be a JSON object"),
}

# pydantic's own messages of the types a person meets, by type, as templates of the error's
# ``ctx`` values: the Korean is the translation of these (the English stays pydantic's own
# ``msg``, word for word); a type not here keeps pydantic's English message.
_PYDANTIC_KO = {
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_type": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "float_type": N_("Input should be a valid number"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "bool_type": N_("Input should be a valid boolean"),
    "string_type": N_("Input should be a valid string"),
    "list_type": N_("Input should be a valid list"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "too_short": N_("%(field_type)s should have at least %(min_length)s items after "
                    "validation, not %(actual_length)s"),
    "too_long": N_("%(field_type)s should have at most %(max_length)s items after "
                   "validation, not %(actual_length)s"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "literal_error": N_("Input should be %(expected)s"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "union_tag_invalid": N_("Input tag %(tag)s found using %(discriminator)s does not match "
                            "any of the expected tags: %(expected_tags)s"),
}


def _pydantic_words(error: dict[str, Any]) -> str:
    """pydantic's message of ``error`` in the request's language (its English otherwise)."""
    english = str(error.get("msg", "is invalid"))
    template = _PYDANTIC_KO.get(error.get("type", ""))
    if template is None or i18n.current() == i18n.DEFAULT:
        return english
    values = {k: v if isinstance(v, int | float) else _short(str(v))
              for k, v in (error.get("ctx") or {}).items()}
    values.setdefault("field_type", "List")
    if error.get("type") == "literal_error":  # "'max' or 'avg'": the "or" is pydantic's
        values["expected"] = str(values.get("expected", "")).replace(" or ", ", ")
    try:
        return gettext(template) % values
    except (KeyError, TypeError, ValueError):  # a ctx without a value the template names
        return english


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
    rest = doc[max(pos - 1, 0):pos + 9]
    if "infinity" in reason or "NaN" in rest or "Infinity" in rest:
        message = (gettext("%(field)s must hold finite numbers: NaN, Infinity and numbers "
                           "beyond 1.8e308 are not allowed") if field else
                   gettext("the body must hold finite numbers: NaN, Infinity and numbers "
                           "beyond 1.8e308 are not allowed"))
        return 422, message % {"field": field}, field
    if "depth" in reason:
        message = (gettext("%(field)s is nested too deeply") if field else
                   gettext("the body is nested too deeply"))
        return 422, message % {"field": field}, field
    line = doc.count("\n", 0, pos) + 1
    return 400, gettext("the body is not valid JSON: %(reason)s (line %(line)s, character "
                        "%(character)s)") % {"reason": reason, "line": line,
                                             "character": pos}, None


def _short(text: str, limit: int = 80) -> str:
    """A ``ctx`` value as a translated message quotes it (the schema's, or a client's tag)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short_field(name: str) -> str:
    """A field name as an error quotes it: an unknown key can be any length."""
    return name if len(name) <= 40 else name[:37] + "..."


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = _short_field(".".join(loc)) or None
    kind = first.get("type", "")
    if kind in _PYDANTIC_WORDS:
        if field is None:  # the body itself: "the body must be a JSON object"
            return gettext(_PYDANTIC_WORDS[kind]) % {"field": gettext("the body")}, None
        return gettext(_PYDANTIC_WORDS[kind]) % {"field": field}, field
    pattern = PATTERN_WORDS.get(first.get("ctx", {}).get("pattern"))
    if kind == "string_pattern_mismatch" and pattern is not None:
        words, joined = gettext(pattern) % {"most": f"{MAX_PARAMETER}"}, True
    else:
        # "array": our own words (app.api.schemas), already in the request's language
        words, joined = _pydantic_words(first), kind == "array"
    if field is None:
        return words, None
    # our own words read on from the field's name: "input_size must be ..." (in Korean, as
    # pydantic's do, after a colon: a name cannot take the particle its word would need)
    if joined:
        return gettext("%(field)s %(words)s") % {"field": field, "words": words}, field
    return gettext("%(field)s: %(words)s") % {"field": field, "words": words}, field


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
            500, gettext("internal error: the server failed to answer this request"),
            code="internal",
            headers=security_headers(settings.frame_ancestors, request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if (exc.status_code == 404 and page_not_found is not None
                and request.url.path.partition("/")[2].partition("/")[0] != "api"):
            return page_not_found(request)
        if exc.status_code == 413:
            limit = request.app.state.settings.max_body_bytes
            return error_response(413, body_too_large(limit), code="too_large",
                                  limit="max_body_bytes", limit_value=limit)
        detail = str(exc.detail)
        if _HTTP_PHRASES.get(exc.status_code) == detail:  # Starlette's words for the status
            detail = gettext(detail)
        return error_response(exc.status_code, detail, code="http_error",
                              headers=exc.headers)


# The details Starlette gives an HTTPException raised without one (its status's phrase)
_HTTP_PHRASES = {404: N_("Not Found"), 405: N_("Method Not Allowed")}
