"""The 1D page's plots in a real browser at the projector's 1024x768: value and index labels on
every plot, whole and readable from the back row; the kernel plot no taller than the signal's;
the lesson's yellow area and black line in both themes; the result drawn over the signals."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

PLOTS = ("plot-input", "plot-output", "plot-kernel")

# every tick label of a plot: its text, its box, and its type's size in CSS px as drawn
# (the SVG's scale times its font-size in SVG units); the plot's own box
LABELS = """id => {
  const svg = document.getElementById(id), box = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll('.ticks text.tx, .ticks text.ty')].map(t => {
    const r = t.getBoundingClientRect();
    return {kind: t.classList.contains('tx') ? 'x' : 'y', text: t.textContent,
            px: t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize),
            left: r.left, right: r.right, top: r.top, bottom: r.bottom, cy: r.top + r.height / 2};
  });
  return {box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom,
                height: box.height}, labels};
}"""

# how tall the plot's drawing is (its viewBox drawn at the scale that fits its box)
DRAWN_HEIGHT = """id => {
  const svg = document.getElementById(id), vb = svg.viewBox.baseVal;
  const r = svg.getBoundingClientRect();
  return Math.min(r.width / vb.width, r.height / vb.height) * vb.height;
}"""


def set_theme(page: Page, theme: str) -> None:
    page.evaluate(f"localStorage.setItem('convscope-theme', '{theme}')")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == theme


@pytest.mark.parametrize("projector", [False, True])
@pytest.mark.parametrize("url", ["/1d?step=120", "/1d?view=discrete&kernel=lesson&step=4",
                                 "/1d?step=120&overlay=1"])
def test_every_plot_has_labels_inside_it_readable_in_projector_mode(
        page: Page, url: str, projector: bool) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(url + ("&projector=1" if projector else ""))
    for plot in PLOTS:
        found = page.evaluate(LABELS, plot)
        box, labels = found["box"], found["labels"]
        xs = [t for t in labels if t["kind"] == "x"]
        ys = [t for t in labels if t["kind"] == "y"]
        assert len(xs) >= 2 and len(ys) >= 2, (plot, labels)
        for t in labels:  # whole: inside the plot's box
            assert box["left"] <= t["left"] and t["right"] <= box["right"] + 0.5, (plot, t)
            assert box["top"] <= t["top"] and t["bottom"] <= box["bottom"] + 0.5, (plot, t)
        smallest = min(t["px"] for t in labels)
        assert smallest >= (24 if projector else 12), (plot, smallest)
        # no two labels overlap
        for a, b in itertools.combinations(labels, 2):
            apart = (a["right"] <= b["left"] + 1 or b["right"] <= a["left"] + 1
                     or a["bottom"] <= b["top"] + 1 or b["bottom"] <= a["top"] + 1)
            assert apart, (plot, a, b)
    if "overlay" in url:
        assert page.locator("#plot-input .result-ticks text").count() >= 2
    screenshot(page, "1d-ticks-" + re.sub(r"[^a-z0-9]+", "-", url + str(projector)).strip("-"),
               full_page=False)


def test_the_value_labels_sit_at_the_values_they_name(page: Page) -> None:
    """The box signal is 0 or 1: the label "1" is level with its top, "0" with its base."""
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/1d?signal=box")
    labels = {t["text"]: t for t in page.evaluate(LABELS, "plot-input")["labels"]
              if t["kind"] == "y"}
    top, bottom = page.locator("#plot-input .signal").evaluate(
        "l => { const r = l.getBoundingClientRect(); return [r.top, r.bottom]; }")
    assert abs(labels["1"]["cy"] - top) < 2.5 and abs(labels["0"]["cy"] - bottom) < 2.5


@pytest.mark.parametrize("projector", [False, True])
@pytest.mark.parametrize("view", ["continuous", "discrete"])
def test_the_kernel_plot_is_no_taller_than_the_signals(page: Page, view: str,
                                                      projector: bool) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"/1d?view={view}" + ("&projector=1" if projector else ""))
    kernel = page.locator("#plot-kernel").bounding_box()["height"]
    signal = page.locator("#plot-input").bounding_box()["height"]
    assert kernel <= signal, (kernel, signal)
    assert page.evaluate(DRAWN_HEIGHT, "plot-kernel") <= page.evaluate(DRAWN_HEIGHT, "plot-input")


COLOURS = """() => {
  const style = sel => getComputedStyle(document.querySelector(sel));
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  return {overlap: rgb(style('#overlap').fill), opacity: +style('#overlap').fillOpacity,
          result: rgb(style('#plot-output .result').stroke),
          panel: rgb(style('#plot-output').backgroundColor),
          resultKey: rgb(style('.result-key').backgroundColor),
          overlapKey: rgb(style('.overlap-key').backgroundColor)};
}"""


def luminance(rgb: list[float]) -> float:
    """WCAG relative luminance of an sRGB colour (0-255)."""
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(lin, rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_lessons_yellow_area_and_black_line_keep_their_meaning_in_both_themes(
        page: Page) -> None:
    page.goto("/1d?step=120")
    legend = page.locator("#scene .legend")
    expect(legend.first).to_contain_text("f·g: lesson's yellow area")
    expect(legend.nth(1)).to_contain_text("lesson's black line")
    for theme in ("light", "dark"):
        set_theme(page, theme)
        c = page.evaluate(COLOURS)
        # yellow stays the lesson's yellow (Okabe-Ito #f0e442): red and green high, blue low
        assert c["overlap"] == [240, 228, 66] and c["overlapKey"] == c["overlap"], (theme, c)
        assert c["resultKey"] == c["result"]  # the legend's key is the line's colour
        assert contrast(c["result"], c["panel"]) >= 7, (theme, c)
        if theme == "light":  # the lesson's black line, black
            assert luminance(c["result"]) < 0.05 and c["opacity"] < 1
            expect(page.locator(".dark-only")).to_be_hidden()
        else:  # drawn light on the dark panel, and the legend says so; the yellow opaque
            assert luminance(c["result"]) > 0.8 and c["opacity"] == 1, c
            expect(legend.nth(1)).to_contain_text("lesson's black line, drawn light")
        screenshot(page, f"1d-{theme}", full_page=False)


def test_the_overlay_box_draws_the_running_result_over_the_signals(page: Page) -> None:
    page.goto("/1d?signal=box&step=40")
    expect(page.locator("#overlay-result")).to_have_count(0)
    page.get_by_label("Draw the result over the signals too").check()
    expect(page).to_have_url(re.compile(r"overlay=1"))
    line = page.locator("#plot-input #overlay-result")
    expect(line).to_have_count(1)
    assert len(line.get_attribute("points").split()) == 40
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"Step 41 of"))
    assert len(page.locator("#plot-input #overlay-result").get_attribute("points").split()) == 41
    expect(page.locator("#mode-why")).to_contain_text("the lesson's animations flip g")
