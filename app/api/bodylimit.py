"""A cap on request body size, with the API's own error shape (pure ASGI middleware).

Starlette and FastAPI set no cap by default. A declared ``Content-Length`` over the cap is
refused before any byte is read; a body without one (chunked) is counted as it arrives and
refused as soon as it passes the cap, so nothing larger is ever buffered.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response


def too_large(limit: int):
    return error_response(
        413, f"the request body is larger than {limit} bytes (limit max_body_bytes={limit})",
        code="too_large", limit="max_body_bytes", limit_value=limit,
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap; handled as a 413."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        await self.app(scope, limited_receive, send)
