"""A cap on request body size, with the API's own error shape (pure ASGI middleware).

Starlette and FastAPI set no cap by default. A declared ``Content-Length`` over the cap is
refused before any byte is read; a body without one (chunked) is counted as it arrives and
refused as soon as it passes the cap, so nothing larger is ever buffered.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..i18n import gettext
from .errors import body_too_large, error_response


def too_large(limit: int):
    return error_response(
        413, body_too_large(limit), code="too_large", limit="max_body_bytes", limit_value=limit,
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap; handled as a 413."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The declared body size: None when there is no ``Content-Length``, -1 when it is not
    valid. HTTP (RFC 9110 §8.6) makes it one or more ASCII digits; the whitespace around a
    field value is not part of it, and several headers (or a list) must agree."""
    values = set()
    for name, value in headers:
        if name.lower() == b"content-length":
            values.update(part.strip(b" \t") for part in value.split(b","))
    if not values:
        return None
    if len(values) != 1:
        return -1
    (value,) = values
    if not value or not all(0x30 <= c <= 0x39 for c in value):
        return -1
    return int(value) if len(value) <= 18 else 10**18  # past any cap, however many digits


class BodyLimitMiddleware:
    """``exempt``: paths whose route caps its own body and says so on its page (the 2D page's
    picture upload, :mod:`app.web.upload`)."""

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app, self.max_bytes, self.exempt = app, max_bytes, frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = content_length(scope["headers"])
        if declared == -1:
            await error_response(
                400, gettext("the Content-Length header must be one whole number of bytes"),
                code="invalid_header")(scope, receive, send)
            return
        if declared is not None and declared > self.max_bytes:
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
