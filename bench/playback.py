"""Does playback keep its word? Each page's player, played in Chromium at the speeds near the
top of its slider, against the label.

Run: ``.venv/bin/python bench/playback.py [--runs N] [--speeds K] [--only PATH]``
(``make bench`` runs it; a few minutes).

uvicorn serves the app as the container runs it (the Dockerfile's CMD, one worker) on a free
loopback port; Debian's Chromium, headless at 1024x768, opens each scene at each of the top
``--speeds`` speeds its slider lists and presses Play, ``--runs`` times or until at least
``--min-steps`` steps have been played (a 4-step scene is played again from the start).

What is counted is what was painted: a probe in the page (tests/e2e/painted.py) reads the
player's ``data-step`` in each rendered frame after its ``requestAnimationFrame`` callbacks
and layout, before paint, so a step shown and replaced within one frame is not counted. Per
row:

- measured: painted steps per second, from the frame that painted step 1 to the frame that
  painted the last step (summed over the runs);
- ratio: measured / label; the player keeps its word at >= 0.90;
- skipped: steps of 1..N no frame painted; out of order: painted steps that were not the one
  after the step painted before (a stale or repeated step);
- fps: the frames the page rendered per second meanwhile (the ceiling of any speed).

The figures are this machine's, now: ``uptime``'s load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy.servers import Uvicorn  # noqa: E402
from tests.e2e import painted  # noqa: E402
from tests.e2e.conftest import ARGS, CHROMIUM, KEPT  # noqa: E402  (Chromium as the tests run it)

VIEWPORT = {"width": 1024, "height": 768}
WORD = 0.90  # a chosen speed is reached within 10 %

SCENES = [  # (name, URL): the lesson's presets, and the biggest grid a lesson shows
    ("1-D default", "/1d"),
    ("2-D lesson", "/2d"),
    ("2-D 28x28 digit", "/2d?input=digit28"),
    ("3-D box", "/3d"),
    ("channels, three kernels", "/channels?preset=three-kernels"),
    ("backprop default", "/backprop"),
]



@dataclass
class Run:
    """One play from step 0 to the last step, as the frames painted it."""

    steps: int
    painted: list[tuple[float, int, int]]  # (frame time in ms, frame number, step) per change

    @classmethod
    def of(cls, steps: int, log: list) -> Run:
        """The run in a probe's log: from the frame that painted step 0 (a play from the
        last step goes back to 0 first)."""
        start = next(i for i, (_, _, step) in enumerate(log) if step == 0)
        return cls(steps, [tuple(entry) for entry in log[start:]])

    @property
    def seen(self) -> list[int]:
        return [step for _, _, step in self.painted if step]

    @property
    def skipped(self) -> int:
        return len(set(range(1, self.steps + 1)) - set(self.seen))

    @property
    def out_of_order(self) -> int:
        seen = self.seen
        return sum(1 for a, b in itertools.pairwise(seen) if b != a + 1)

    @property
    def span(self) -> tuple[int, float, int]:
        """Steps from the first step painted (1, unless it was skipped) to the last, the time
        between their first paints (ms) and the frames rendered meanwhile."""
        first: dict[int, tuple[float, int]] = {}
        for t, frame, step in self.painted:
            if step:
                first.setdefault(step, (t, frame))
        a, b = min(first), max(first)
        return b - a, first[b][0] - first[a][0], first[b][1] - first[a][1]


def play(page, steps: int) -> Run:
    painted.reset(page)
    page.get_by_role("button", name="Play").click()
    # until a frame has painted step 0 and then the last step, and the player stopped itself
    page.wait_for_function(f"""() => {{
        const log = window.__painted.log, start = log.findIndex((e) => e[2] === 0);
        return start >= 0 && log.slice(start).some((e) => e[2] === {steps}) &&
            !window.convscope.player.playing;
    }}""", timeout=120_000)
    return Run.of(steps, painted.log(page))


def measure(browser, url: str, path: str, speed: float, runs: int, min_steps: int) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    painted.install(context)
    page = context.new_page()
    sep = "&" if "?" in path else "?"
    page.goto(f"{url}{path}{sep}speed={speed:g}")
    steps = int(page.locator("#player").get_attribute("data-steps"))
    done: list[Run] = []
    while len(done) < runs or sum(r.steps for r in done) < min_steps:
        done.append(play(page, steps))
    context.close()
    spans = [r.span for r in done]
    intervals, ms, frames = (sum(column) for column in zip(*spans, strict=True))
    measured = intervals / ms * 1000 if ms > 0 else float("nan")
    return {"steps": steps, "runs": len(done), "measured": measured,
            "ratio": measured / speed, "skipped": sum(r.skipped for r in done),
            "out_of_order": sum(r.out_of_order for r in done),
            "fps": frames / ms * 1000 if ms > 0 else float("nan")}


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="plays per row, at least")
    parser.add_argument("--min-steps", type=int, default=150,
                        help="steps played per row, at least (short scenes play again)")
    parser.add_argument("--speeds", type=int, default=3, help="the top K listed speeds")
    parser.add_argument("--only", help="only the scene whose URL starts with this")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load averages (1, 5, 15 min) before: {load()}, {os.cpu_count()} cores")
    rows = ["| scene | URL | steps | label /s | measured /s | ratio | skipped | out of order "
            "| fps | kept |", "|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp, \
            Uvicorn(Path(tmp) / "uvicorn.log") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, **KEPT)
        for name, path in SCENES:
            if args.only and not path.startswith(args.only):
                continue
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(f"{server.url}{path}")
            speeds = [float(s) for s in
                      page.locator("#speed").get_attribute("data-speeds").split(",")]
            context.close()
            for speed in speeds[-args.speeds:]:
                r = measure(browser, server.url, path, speed, args.runs, args.min_steps)
                kept = r["ratio"] >= WORD and r["skipped"] == 0 and r["out_of_order"] == 0
                rows.append(f"| {name} | {path} | {r['steps']} × {r['runs']} | {speed:g} | "
                            f"{r['measured']:.1f} | {r['ratio']:.2f} | {r['skipped']} | "
                            f"{r['out_of_order']} | {r['fps']:.0f} | "
                            f"{'yes' if kept else 'NO'} |")
                print(rows[-1], flush=True)
        browser.close()
    print()
    print("\n".join(rows))
    print(f"\nload averages (1, 5, 15 min) after: {load()}")


if __name__ == "__main__":
    main()
