"""HEAD answers wherever GET does: the same status and headers, and no body."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path", [
    "/", "/1d", "/2d?input=digit&kernel=sobel-x", "/3d", "/channels", "/backprop", "/healthz",
    "/api/v1/presets", "/api/v1/presets/lesson-2d", "/docs", "/openapi.json",
    "/static/css/app.css", "/2d?stride=0", "/2D", "/api/v1/forward",
])
def test_head_answers_as_get_does_without_the_body(client: httpx.Client, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code
    assert head.status_code != 405 or path == "/api/v1/forward"  # a POST-only resource
    without_date = lambda r: {k: v for k, v in r.headers.items() if k != "date"}  # noqa: E731
    assert without_date(head) == without_date(get)
    assert head.content == b""
