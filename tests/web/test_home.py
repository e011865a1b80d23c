"""The home page: the lesson's stops, each linking to a page that works."""

from __future__ import annotations

import html
import re

import httpx

from tests.web.html import Page


def test_every_stop_of_the_lesson_is_there(client: httpx.Client) -> None:
    text = Page(client.get("/").text).text("main")
    for stop in ("The convolution operation", "Cross-correlation vs convolution",
                 "Convolution in N dimensions", "The worked example", "Output size",
                 "Many channels, one kernel", "Many channels, many kernels",
                 "Backpropagation through a convolution"):
        assert stop in text


def test_every_link_on_the_home_page_works(client: httpx.Client) -> None:
    links = {html.unescape(h) for h in re.findall(r'href="(/[^"]*)"', client.get("/").text)}
    assert len(links) > 20
    for link in sorted(links):
        response = client.get(link)
        assert response.status_code == 200, link
