"""Every page works under the Content-Security-Policy the app sends: no violation reported
while it loads and while the player steps, swaps fragments and re-draws (the ``page``
fixture also fails on any console error, which is where Chromium reports them)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

# registered before any page script runs (Playwright injects it outside the page's policy)
LISTEN = ("window.cspViolations = [];"
          "document.addEventListener('securitypolicyviolation',"
          " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")

# (the backprop pages take loss=sum so that any stride has a δ)
PLAYED = ["/1d", "/1d?view=discrete", "/2d", "/3d", "/channels", "/backprop?loss=sum",
          "/backprop?preset=learn-sobel&part=input&loss=sum", "/transposed",
          "/transposed?input=ones4&kernel=k3&stride=2&show=gather",
          "/pool?input=digit&kernel=3&compare=1",
          "/pool?input=digit&kernel=3&part=backward&kind=avg"]


def violations(page: Page) -> list[str]:
    return page.evaluate("window.cspViolations")


@pytest.mark.parametrize("url", PLAYED)
def test_a_page_steps_and_redraws_with_no_policy_violation(page: Page, url: str) -> None:
    page.add_init_script(LISTEN)
    page.goto(url)
    page.get_by_role("button", name="Step forward").click()
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^Step 2 of"))
    page.keyboard.press("End")  # a fragment for the last step, swapped out of band
    expect(page.locator("#step-status")).to_have_text(re.compile(r"^Step (\d+) of \1$"))
    stride = page.get_by_role("textbox", name="Stride")
    stride.fill("2")  # a parameter change: the scene block swapped
    stride.press("Tab")
    expect(page).to_have_url(re.compile(r"stride=2"))
    assert violations(page) == []


def test_the_lesson_and_the_api_docs_run_with_no_policy_violation(page: Page) -> None:
    page.add_init_script(LISTEN)
    page.goto("/")
    expect(page.get_by_role("link", name=re.compile("2D")).first).to_be_visible()
    assert violations(page) == []
    page.goto("/docs")  # Swagger UI, vendored, under its own policy
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ConvScope")
    page.get_by_text("/api/v1/forward").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert violations(page) == []


def test_the_listener_sees_a_violation_when_there_is_one(page: Page) -> None:
    # the control: an inline script is exactly what the policy forbids
    page.expected_errors.append("Content Security Policy")
    page.add_init_script(LISTEN)
    page.goto("/2d")
    directive = page.evaluate("""() => new Promise(resolve => {
        document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective),
                                  {once: true});
        document.body.append(Object.assign(document.createElement('script'),
                                           {textContent: 'window.ran = true'}));
    })""")
    assert directive.startswith("script-src")
    assert any(v.startswith("script-src") for v in violations(page))
    assert page.evaluate("window.ran") is None
