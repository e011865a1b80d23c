"""Benchmark of the pages' step updates: server time and size, and a real browser playing.

Run: ``.venv/bin/python bench/web.py [--quick]`` (``make bench`` runs it).

For each scene — the 2D page with a 28x28 input and a 3x3 kernel (676 steps), and the 1D
page's continuous box * box (265 steps):

1. Server: p50/p99 time and bytes of one step update (the ``step`` fragment the player asks
   for), through the ASGI app in-process. Target: p50 <= 5 ms and <= 20 KB per step.
2. Browser: Debian's Chromium plays the whole animation at the top speed while a
   ``requestAnimationFrame`` probe records which step each painted frame showed. Reported:
   steps per second actually painted, and how many steps were never painted. Targets: >= 20
   steps/s (2D) and >= 24 steps/s (1D), with no step skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.main import create_app
from tests.conftest import LiveServer

SCENES = [  # (name, URL, steps per second wanted)
    ("2D, 28x28 input, 3x3 kernel", "/2d?input=digit28&kernel=sobel-x", 20),
    ("1D continuous, box * box", "/1d?signal=box&kernel=box", 24),
]
CHROMIUM = "/usr/bin/chromium"

PROBE = """
() => {
  window.__painted = new Set();
  const status = () => document.getElementById("step-status").textContent;
  const frame = () => { window.__painted.add(status()); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
}
"""


async def server_side(scene: str, repeats: int) -> tuple[list[float], int, int]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"HX-Request": "true"}
        page = await client.get(scene)
        steps = int(page.text.split('data-steps="')[1].split('"')[0])
        times, sizes = [], []
        for i in range(repeats):
            step = 1 + (i * 37) % (steps - 1)
            started = time.perf_counter()
            response = await client.get(f"{scene}&step={step + 1}&prev={step}", headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(len(response.content))
            assert response.status_code == 200
    return times, max(sizes), steps


def browser_side(scene: str, steps: int) -> tuple[float, int]:
    from playwright.sync_api import sync_playwright

    with LiveServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{server.url}{scene}&speed=60")
        page.evaluate(PROBE)
        started = time.perf_counter()
        page.get_by_role("button", name="Play").click()
        page.locator("#step-status").filter(has_text=f"Step {steps} of {steps}").wait_for(
            timeout=120_000)
        elapsed = time.perf_counter() - started
        page.wait_for_timeout(100)
        painted = set(page.evaluate("[...window.__painted]"))
        browser.close()
    missing = [k for k in range(1, steps + 1) if f"Step {k} of {steps}" not in painted]
    return steps / elapsed, len(missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    for name, scene, wanted in SCENES:
        times, size, steps = asyncio.run(server_side(scene, 60 if args.quick else 400))
        p50, p99 = statistics.median(times), statistics.quantiles(times, n=100)[98]
        met = p50 <= 5 and size <= 20480
        print(name)
        print(f"  server, one step update: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
              f"{size / 1024:.1f} KB (target p50 <= 5 ms, <= 20 KB: "
              f"{'met' if met else 'NOT met'})")
        rate, missing = browser_side(scene, steps)
        met = rate >= wanted and missing == 0
        print(f"  browser at top speed: {rate:.1f} steps/s painted over {steps} steps, "
              f"{missing} skipped (target >= {wanted} steps/s, none skipped: "
              f"{'met' if met else 'NOT met'})")


if __name__ == "__main__":
    main()
