"""A route class for JSON APIs: strict JSON parsing by orjson and a content-type check.

orjson rejects what the stdlib's ``json`` lets through — ``NaN``, ``Infinity``, numbers that
overflow to infinity such as ``1e400``, and nesting past 1,024 levels — and it is about ten
times faster on large arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from .errors import ApiError


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """Routes with a body accept ``application/json`` only (415 otherwise)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            if takes_body:
                media = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if media != "application/json":
                    raise ApiError(415, "the body must be JSON, sent with Content-Type: "
                                        f"application/json (got {media[:60] or 'none'!r})",
                                   code="unsupported_media_type")
            return await handler(OrjsonRequest(request.scope, request.receive))

        return strict_handler
