"""Numbers in grid cells, in a real browser: each fits its cell whole (never clipped), says its
exact value in its title and accessible name, and the weight badge never covers it."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

# huge, tiny and negative values, and one that no five characters can hold
AWKWARD = [-1.05e12, 2.2e12, -0.858, 1e-9, -3.3e-7, 123456.789, -1e-300, 0.1 + 0.2, 7, -12.5]

CLIPPED = """cells => cells
  .filter(c => c.scrollWidth > c.clientWidth || c.scrollHeight > c.clientHeight)
  .map(c => `${c.id} "${c.textContent}" ${c.scrollWidth}>${c.clientWidth}`)"""

# the number's own text box against the badge's box, for every cell under the kernel
COVERED = """cells => cells.filter(c => c.querySelector('.badge')).map(c => {
  const range = document.createRange();
  range.selectNode(c.firstChild);
  const t = range.getBoundingClientRect(), b = c.querySelector('.badge').getBoundingClientRect();
  const apart = t.right <= b.left || b.right <= t.left || t.bottom <= b.top || b.bottom <= t.top;
  return apart && b.width > 0 ? null : `${c.id} "${c.firstChild.textContent}"`;
}).filter(Boolean)"""


def matrix(side: int) -> str:
    rows = [[AWKWARD[(r * side + c) % len(AWKWARD)] for c in range(side)] for r in range(side)]
    return quote(";".join(",".join(repr(v) for v in row) for row in rows))


def clipped_cells(page: Page) -> list[str]:
    return page.locator(".cell").evaluate_all(CLIPPED)


@pytest.mark.parametrize("side", [3, 5, 9, 16, 24])
def test_no_cell_clips_a_huge_tiny_or_negative_number(page: Page, side: int) -> None:
    w = quote("0.111,-2.5;1000000.5,-0.00001")
    page.goto(f"/2d?x={matrix(side)}&w={w}&padding=1&step={side * side}")
    expect(page.locator("#step-status")).to_have_text(re.compile(r"Step \d+ of"))
    if side == 5:
        screenshot(page, "2d-awkward-numbers")
    assert clipped_cells(page) == []
    # the exact value stays with the cell, as its title and its accessible name
    cell = page.get_by_role("grid", name="Input", exact=True).get_by_role(
        "gridcell", name="-1050000000000", exact=True).first
    expect(cell).to_have_attribute("title", "-1050000000000")
    expect(cell).to_have_text(re.compile(r"^-1(\.\d+)?e12$"))


def test_infinity_and_nan_are_spelled_and_fit(page: Page) -> None:
    page.goto("/2d?x=1e300,1e300;-1e300,-1e300&w=1e300&step=4")
    outputs = page.get_by_role("grid", name="Output", exact=True).get_by_role("gridcell")
    expect(outputs).to_have_text(["∞", "∞", "−∞", "−∞"])
    assert clipped_cells(page) == []


@pytest.mark.parametrize("url", [
    "/channels?preset=rgb-edge&step=5", "/channels?preset=three-kernels&step=40",
    "/3d?volume=box&step=3", "/backprop?loss=custom&delta=-1050000000000,0.000000001,-0.858",
])
def test_no_cell_clips_its_number_on_the_other_pages(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(".cell").first).to_be_visible()
    assert clipped_cells(page) == []


@pytest.mark.parametrize("preset", ["three-kernels", "rgb-edge"])
def test_weight_badges_leave_the_digits_under_the_window_readable(page: Page,
                                                                  preset: str) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"/channels?preset={preset}&step=5")
    window = page.locator(".cell.win")
    expect(window.first).to_be_visible()
    screenshot(page, f"channels-{preset}-badges")
    assert window.count() >= 4
    assert window.evaluate_all(COVERED) == []
    assert clipped_cells(page) == []


@pytest.mark.parametrize("path", ["/3d", "/channels"])
def test_hovering_a_cell_where_no_receptive_field_is_drawn_raises_no_error(
        page: Page, path: str) -> None:
    """Only the 2-D page draws a receptive field; a cell hovered elsewhere threw a TypeError
    (the page fixture fails on any page error)."""
    page.goto(path)
    for cell in (page.locator(".cell").first, page.locator(".cell").nth(5)):
        cell.hover()
    expect(page.locator(".cell.rf")).to_have_count(0)
