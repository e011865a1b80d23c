"""Security headers on every kind of response."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer


@pytest.mark.parametrize("path", ["/", "/2d", "/backprop?step=1", "/api/v1/presets",
                                  "/static/css/app.css", "/no-such-page", "/docs", "/healthz"])
def test_every_response_carries_the_policy(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    csp = dict(part.strip().split(" ", 1) for part in
               response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no inline or eval'd script anywhere
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers
    if path != "/docs":
        assert csp["style-src"] == "'self'"


def test_an_embed_allow_list_opens_framing_to_those_origins() -> None:
    settings = Settings(frame_ancestors=["https://slides.example.edu"])
    with LiveServer(settings) as server:
        response = httpx.get(f"{server.url}/2d")
    assert "frame-ancestors https://slides.example.edu" in \
        response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
