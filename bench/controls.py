"""Do the sliding controls keep up with a drag? A parameter changed on /2d's 28x28 digit, in
Chromium at 1024x768, until the new scene is painted; and quick changes, of which only the
newest may be shown.

Run: ``.venv/bin/python bench/controls.py [--changes N] [--url PATH] [--via slider|field]``
(``make bench`` runs it; about a minute).

uvicorn serves the app as the container runs it (the Dockerfile's CMD, one worker) on a free
loopback port; Debian's Chromium, headless at 1024x768, opens ``--url`` (normal, then
projector mode) and moves the stride, padding and dilation sliders in turn, one position at
a time, as a drag does: it sets the slider's value and dispatches ``input``, as the browser
does for each position a drag passes (``--via field`` types into the field instead and
dispatches ``change``, the path main had before the sliders). What is timed, in the page:

- latency: from the change to the frame that paints the new scene: the scene swapped
  (``htmx:afterSwap``), then the next ``requestAnimationFrame``, then a ResizeObserver callback
  in that frame (after its layout, before its paint: tests/e2e/painted.py's probe). The next
  change waits for it. Split into the request (change to the response in), the swap and the
  fit (response to swap done: htmx, and fit.js sizing the cells), and the frame (to painted);
- a burst: ``--burst`` changes dispatched in one go, as a fast drag does, then the last one
  waited for: how many requests were sent and how many scenes shown (``hx-sync`` queues the
  newest and drops the rest), and whether the scene shown at the end is the last change's.

The target (issue 15): p50 <= 100 ms. The figures are this machine's, now: the load averages
are printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy.servers import Uvicorn  # noqa: E402
from tests.e2e.conftest import ARGS, CHROMIUM, KEPT  # noqa: E402  (Chromium as the tests run it)

VIEWPORT = {"width": 1024, "height": 768}
TARGET_MS = 100

# In the page, first: the control of `name` (its slider, or its field `via` "field") and a
# change to it, as a drag's position makes one, or a typed value.
CONTROL = """  const field = document.getElementById(name + "-field");
  const slider = document.getElementById(name + "-slider");
  const change = (value) => {  // as a drag's position does, or a typed value
    const control = via === "slider" ? slider : field;
    control.value = String(value);
    control.dispatchEvent(new Event(via === "slider" ? "input" : "change", { bubbles: true }));
  };
"""

# In the page: change `name` to each of `values` in turn, each once the one before is painted.
CHANGES = """
async ([name, values, via]) => {
""" + CONTROL + """  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const painted = () => new Promise((resolve) => {  // after the next frame's layout
    requestAnimationFrame(() => {
      const box = document.createElement("div");
      box.style.cssText = "position:fixed;left:-1000px;top:0;height:1px;width:1px";
      document.documentElement.appendChild(box);
      const seen = new ResizeObserver(() => {
        seen.disconnect(); box.remove(); resolve(performance.now());
      });
      seen.observe(box);
    });
  });
  const once = (type) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(type + ": no scene in 20 s (" + name + ")")), 20000);
    const handler = (event) => {
      if (!event.detail.target || event.detail.target.id !== "scene") return;
      document.body.removeEventListener(type, handler);
      resolve(performance.now());
    };
    document.body.addEventListener(type, handler);
  });
  const rows = [];
  for (const value of values) {
    await frame();
    const response = once("htmx:beforeSwap"), swap = once("htmx:afterSwap");
    const t0 = performance.now();
    change(value);
    const t1 = await response, t2 = await swap, t3 = await painted();
    rows.push([t3 - t0, t1 - t0, t2 - t1, t3 - t2]);
  }
  return rows;
}
"""

# In the page: `values` dispatched in one go; then wait for the scene to settle.
BURST = """
async ([name, values, via]) => {
""" + CONTROL + """  let sent = 0, shown = 0;
  const scene = (event) => event.detail.target && event.detail.target.id === "scene";
  const count = (event) => { if (scene(event)) sent += 1; };
  const swapped = (event) => { if (scene(event)) shown += 1; };
  document.body.addEventListener("htmx:beforeSend", count);
  document.body.addEventListener("htmx:afterSwap", swapped);
  for (const value of values) {
    change(value);
  }
  // settled: no request in flight or queued for half a second
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    quiet = document.querySelector(".htmx-request") ? 0 : quiet + 1;
  }
  document.body.removeEventListener("htmx:beforeSend", count);
  document.body.removeEventListener("htmx:afterSwap", swapped);
  return { sent, shown, url: location.search };
}
"""

# name, the positions a drag passes there and back (the digit 28x28, the lesson's 2x2 kernel)
DRAGS = [
    ("stride", [2, 3, 4, 5, 6, 5, 4, 3, 2, 1]),
    ("padding", [1, 2, 1, 0]),  # its slider's range on a 2x2 kernel: 0 to 2
    ("dilation", [2, 3, 4, 5, 4, 3, 2, 1]),
]


def load() -> str:
    return ", ".join(Path("/proc/loadavg").read_text().split(" ", 3)[:3])


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="/2d?input=digit28")
    parser.add_argument("--rounds", type=int, default=3, help="times each drag is made")
    parser.add_argument("--burst", type=int, default=12, help="changes in one go")
    parser.add_argument("--via", choices=("slider", "field"), default="slider")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load averages (1, 5, 15 min) before: {load()}, {os.cpu_count()} cores")
    rows = ["| mode | changes | p50 ms | p90 ms | max ms | request p50 | swap+fit p50 "
            "| frame p50 | target | burst: sent / shown of N | ends on the last "
            "| p50 ms by slider |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp, \
            Uvicorn(Path(tmp) / "uvicorn.log") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, **KEPT)
        for mode, extra in (("normal", ""), ("projector", "&projector=1")):
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(f"{server.url}{args.url}{extra}")
            page.evaluate(CHANGES, ["stride", [2, 1], args.via])  # warm up
            samples, by_name = [], {name: [] for name, _ in DRAGS}
            for _ in range(args.rounds):
                for name, values in DRAGS:
                    rows_ = page.evaluate(CHANGES, [name, values, args.via])
                    samples += rows_
                    by_name[name] += [row[0] for row in rows_]
            total, request, swap, frame = (list(column) for column in zip(*samples, strict=True))
            each = ", ".join(f"{name} {statistics.median(v):.0f}" for name, v in by_name.items())
            strides = [1 + i % 6 for i in range(1, args.burst + 1)]
            burst = page.evaluate(BURST, ["stride", strides, args.via])
            last = strides[-1]
            caption = page.locator("figcaption", has_text="Output").inner_text()
            expected = f"{(28 - 2) // last + 1}×{(28 - 2) // last + 1}"
            ends = expected in caption and (f"stride={last}" in burst["url"] or last == 1)
            p50 = statistics.median(total)
            rows.append(
                f"| {mode} | {len(total)} | {p50:.0f} | {percentile(total, 90):.0f} | "
                f"{max(total):.0f} | {statistics.median(request):.0f} | "
                f"{statistics.median(swap):.0f} | {statistics.median(frame):.0f} | "
                f"{TARGET_MS} ({'met' if p50 <= TARGET_MS else 'NOT met'}) | "
                f"{burst['sent']} / {burst['shown']} of {args.burst} | "
                f"{'yes' if ends else 'NO: ' + caption} | {each} |")
            print(rows[-1], flush=True)
            context.close()
        browser.close()
    print()
    print("\n".join(rows))
    print(f"\nload averages (1, 5, 15 min) after: {load()}")


if __name__ == "__main__":
    main()
