"""Korean pages bring their own Hangul (static/fonts/): on a machine with no Korean font —
this one has none installed — the words are drawn in the app's font, not as empty boxes, and
an English page never fetches it."""

from __future__ import annotations

from playwright.sync_api import Page

FONT = "/static/fonts/convscope-hangul.woff2"


def test_a_korean_page_draws_its_hangul_in_the_apps_own_font(page: Page, live_server) -> None:
    fetched = []
    page.on("response", lambda r: fetched.append((r.url, r.status)) if "/fonts/" in r.url
            else None)
    page.goto(f"{live_server.url}/2d?lang=ko")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    assert (f"{live_server.url}{FONT}", 200) in fetched
    faces = page.evaluate("""() => [...document.fonts].filter((f) => f.status === 'loaded')
        .map((f) => f.family.replaceAll('"', ''))""")
    assert "ConvScope Hangul" in faces
    # a Hangul word is as wide in the body's font as in the app's font alone, and wider than
    # the same word in a font without Hangul would be drawn (its boxes are all one width)
    widths = page.evaluate("""() => {
        const c = document.createElement('canvas').getContext('2d');
        const w = (font) => { c.font = font; return c.measureText('합성곱커널패딩').width; };
        return [w('32px "ConvScope Hangul", monospace'),
                w('32px ' + getComputedStyle(document.body).fontFamily),
                w('32px monospace')];
    }""")
    assert abs(widths[0] - widths[1]) < 0.5
    assert abs(widths[0] - widths[2]) > 1
