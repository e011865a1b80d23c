"""Security headers on every response: a Content-Security-Policy the pages work under (no
inline or eval'd script), no MIME sniffing, no referrer leaks, no framing unless allowed.

A pure ASGI middleware, so it costs one header merge per response and covers static files,
errors and the API alike.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(frame_ancestors: list[str], *, docs: bool = False) -> str:
    """The policy: everything from this origin only; Swagger UI (``/docs``) also sets inline
    styles and shows data-URI images, so its page alone allows those."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    styles = "'self' 'unsafe-inline'" if docs else "'self'"
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {styles}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
    ])


def security_headers(frame_ancestors: list[str], path: str) -> dict[str, str]:
    """The headers every response carries (the policy of ``path``)."""
    headers = {
        "Content-Security-Policy": content_security_policy(frame_ancestors,
                                                           docs=path == "/docs"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not frame_ancestors:
        headers["X-Frame-Options"] = "DENY"
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, frame_ancestors: list[str]) -> None:
        self.app = app
        self.headers = security_headers(frame_ancestors, "/")
        self.docs_headers = security_headers(frame_ancestors, "/docs")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope["path"] == "/docs" else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
