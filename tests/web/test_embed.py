"""``?embed=1``: the scene and the player only (no top bar, controls, lesson links), a link
to the same state outside the frame, and the framing headers the one setting,
``frame_ancestors``, gives (read from the environment as pydantic-settings reads it)."""

from __future__ import annotations

import httpx

from app.config import Settings
from tests.conftest import LiveServer


def test_embed_page_has_the_scene_and_player_and_no_navigation(client) -> None:
    page = client.get("/2d?padding=1&embed=1&step=3").text
    assert 'id="player"' in page and 'id="scene"' in page
    assert 'class="topbar' not in page and 'aria-label="Pages"' not in page
    assert 'id="stop-links"' not in page and 'id="share"' not in page
    assert '<body class=" fit embed">' in page or " embed\"" in page
    # the same state, outside the frame, in a new tab
    assert ('<a class="open-full" data-open href="/2d?padding=1&amp;step=3" '
            'target="_blank" rel="noopener">') in page


def test_the_page_outside_a_frame_has_its_navigation_and_export_menu(client) -> None:
    page = client.get("/2d?padding=1").text
    assert 'aria-label="Pages"' in page and 'id="share"' in page
    assert 'data-format="numpy"' in page and 'data-format="torch"' in page
    assert "open-full" not in page


def test_no_framing_by_default(client) -> None:
    response = client.get("/2d?embed=1")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_frame_ancestors_from_the_environment(monkeypatch) -> None:
    """The documented form: a JSON list in CONVSCOPE_FRAME_ANCESTORS."""
    monkeypatch.setenv("CONVSCOPE_FRAME_ANCESTORS",
                       '["https://slides.example.org", "http://localhost:8000"]')
    settings = Settings()
    assert settings.frame_ancestors == ["https://slides.example.org", "http://localhost:8000"]
    with LiveServer(settings) as server:
        response = httpx.get(f"{server.url}/2d?embed=1")
    assert "x-frame-options" not in response.headers
    assert ("frame-ancestors https://slides.example.org http://localhost:8000"
            in response.headers["content-security-policy"])
