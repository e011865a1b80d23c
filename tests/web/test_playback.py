"""The speed slider over real HTTP: it lists the speeds up to what its page can play, and a
speed asked for in the address is one it lists."""

from __future__ import annotations

import re

import httpx
import pytest

from app.web import playback
from tests.web.html import Page

PAGES = ["/1d", "/2d", "/3d", "/channels", "/backprop", "/pool"]


def slider(client: httpx.Client, url: str) -> tuple[list[float], str, dict]:
    """The speeds the page's slider lists, the speed it shows, and the player's attributes."""
    page = Page(client.get(url).text)
    speed = page.attrs["speed"]
    listed = [float(s) for s in speed["data-speeds"].split(",")]
    assert int(speed["max"]) == len(listed) - 1
    return listed, page.text("speed-value"), page.attrs["player"]


@pytest.mark.parametrize("path", PAGES)
def test_a_slider_lists_the_speeds_up_to_its_pages_top(client: httpx.Client,
                                                      path: str) -> None:
    listed, shown, player = slider(client, path)
    assert listed == [s for s in playback.SPEEDS if s <= playback.TOPS[path[1:]]]
    assert float(player["data-default-speed"]) in listed  # the page's own speed is on it
    assert shown == f"{player['data-default-speed']}/s"


@pytest.mark.parametrize("path", PAGES)
def test_a_speed_past_the_top_plays_at_the_top_and_says_so(client: httpx.Client,
                                                           path: str) -> None:
    listed, shown, player = slider(client, f"{path}?speed=60")
    assert shown == f"{listed[-1]:g}/s"
    assert re.search(rf"[?&]speed={listed[-1]:g}(&|$)", player["data-base"])


def test_a_speed_between_two_listed_plays_at_the_slower(client: httpx.Client) -> None:
    listed, shown, _ = slider(client, "/2d?speed=5")
    assert 4 in listed and 5 not in listed
    assert shown == "4/s"

