"""HEAD wherever GET works: ``curl -I`` and uptime checks that send HEAD get what GET would
answer (status and headers), without the body.

FastAPI's routes answer only the methods they declare, so a HEAD to a page, ``/healthz`` or an
API GET was a 405. This pure ASGI middleware hands HEAD to the app as GET and drops the body
it sends back; ``Content-Length`` still says the GET's length, as HTTP allows.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
