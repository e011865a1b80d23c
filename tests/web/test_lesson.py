"""The lesson's stops (app.web.lesson): the tour walks what ``/`` lists, each stop's scene is
one of that stop's own links, and every page links to the stops either side of its own."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from app.config import Settings
from app.web.lesson import STOPS
from app.web.parsing import (
    parse_view_1d,
    parse_view_2d,
    parse_view_3d,
    parse_view_backprop,
    parse_view_channels,
)
from app.web.scene_matrix import parse_view_matrix
from app.web.scene_network import parse_view_network
from app.web.view_pool import parse_view_pool
from app.web.view_transposed import parse_view_transposed
from tests.web.html import Page

PARSERS = {"/1d": parse_view_1d, "/2d": parse_view_2d, "/3d": parse_view_3d,
           "/channels": parse_view_channels, "/backprop": parse_view_backprop,
           "/matrix": parse_view_matrix, "/transposed": parse_view_transposed,
           "/pool": parse_view_pool, "/network": parse_view_network}


def stop_links(client: httpx.Client) -> dict[str, list[str]]:
    """Each stop's id on ``/`` and the links in its text, in order."""
    page = client.get("/").text
    found = {}
    for stop_id, body in re.findall(r'<li class="stop" id="([^"]+)">(.*?)</li>', page, re.S):
        found[stop_id] = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', body)]
    return found


def test_the_tour_walks_the_stops_the_lesson_lists_in_order(client: httpx.Client) -> None:
    links = stop_links(client)
    assert list(links) == [stop.id for stop in STOPS]
    text = Page(client.get("/").text).text("main")
    for number, stop in enumerate(STOPS, 1):
        assert stop.scene in links[stop.id], stop  # the scene is one of the stop's links
        assert f"{stop.path}?{stop.query}&tour={number}".replace("?&", "?") in links[stop.id]
        assert stop.title in text


@pytest.mark.parametrize("stop", STOPS, ids=[s.id for s in STOPS])
def test_each_scene_is_written_as_its_page_writes_it(stop) -> None:
    query = dict(re.findall(r"([^&=]+)=([^&]*)", stop.query))
    view = PARSERS[stop.path](query, Settings())
    assert view.scene_query() == stop.query


def test_tour_starts_at_the_first_stop_and_keeps_projector_mode(client: httpx.Client) -> None:
    reply = client.get("/tour", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/1d?tour=1"
    reply = client.get("/tour?stop=5&projector=1", follow_redirects=False)
    assert reply.headers["location"] == \
        "/2d?input=digit&kernel=sobel-x&stride=2&padding=1&projector=1&tour=5"
    for bad in ("0", str(len(STOPS) + 1), "two"):
        reply = client.get(f"/tour?stop={bad}", follow_redirects=False)
        assert reply.status_code == 404, bad
        assert 'href="/tour"' in reply.text


def test_a_tour_stop_shows_its_number_caption_and_neighbours(client: httpx.Client) -> None:
    page = Page(client.get("/3d?tour=3&projector=1").text)
    assert page.text("tour").startswith(f"3 of {len(STOPS)} {STOPS[2].caption}")
    links = re.findall(r'<a rel="(prev|next)" href="([^"]+)"', client.get("/3d?tour=3").text)
    assert [(rel, html.unescape(h)) for rel, h in links] == [
        ("prev", "/1d?signal=step&kernel=ramp&compare=1&tour=2"), ("next", "/2d?tour=4")]
    last = client.get(f"/backprop?tour={len(STOPS)}").text
    assert 'rel="next"' not in last and "The last stop" in last


@pytest.mark.parametrize(("url", "previous", "next_"), [
    ("/1d", None, "Cross-correlation vs convolution"),
    ("/3d?volume=edge", "Cross-correlation vs convolution", "The worked example"),
    ("/2d?input=digit&kernel=sobel-x&stride=2&padding=1&step=3", "The worked example",
     "Many channels, one kernel"),
    ("/backprop?part=input", "Many channels, many kernels", "The convolution as a matrix"),
    ("/transposed", "The convolution as a matrix", "Pooling: max and average"),
    ("/pool?kind=avg", "Transposed convolution", "A small CNN, learning"),
    ("/network?steps=3", "Pooling: max and average", None),
])
def test_every_page_links_to_the_stops_either_side(client: httpx.Client, url: str,
                                                   previous: str | None,
                                                   next_: str | None) -> None:
    text = Page(client.get(url).text).text("stop-links")  # in the top bar
    assert (f"← Previous stop: {previous}" in text) == (previous is not None)
    if previous:
        assert f"← Previous stop: {previous}" in text
    assert (f"Next stop: {next_} →" in text) == (next_ is not None)
    if next_:
        assert f"Next stop: {next_} →" in text


def test_a_tour_number_past_the_lesson_is_said(client: httpx.Client) -> None:
    reply = client.get("/2d?tour=99")
    assert reply.status_code == 422
    assert f"tour must be between 1 and {len(STOPS)}" in reply.text
