"""A mistyped page address gets a page, not JSON; the API keeps its JSON errors."""

from __future__ import annotations

import httpx
import pytest

from tests.web.html import Page


@pytest.mark.parametrize("path", ["/2D", "/lesson", "/1d/extra", "/static/nope.css"])
def test_a_mistyped_page_address_gets_an_html_404_with_the_navigation(
        client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    assert '<nav aria-label="Pages">' in text and 'href="/backprop"' in text
    assert '<a href="/">the lesson</a>' in text
    assert "No page at this address" in Page(text).text("main")


def test_the_404_suggests_the_page_meant(client: httpx.Client) -> None:
    page = Page(client.get("/2D?stride=2").text)
    assert "Did you mean /2d?stride=2?" in page.text("main")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/nope"])
def test_the_api_keeps_its_json_error_shape(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Not Found", "field": None, "code": "http_error"}
