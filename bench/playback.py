"""Does playback keep its word? Each page's player, played in Chromium at the speeds near the
top of its slider, against the label.

Run: ``.venv/bin/python bench/playback.py [--speeds K] [--beyond K] [--only PATH]``
(``make bench`` runs it; a few minutes). ``--beyond K`` also plays the K speeds past each
page's top, to see whether a top could be raised.

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
- fps: the frames the page rendered per second meanwhile (the ceiling of any speed);
- CPU per step played, whatever else the machine runs: the renderer's main thread (a step's
  swap, style, layout and paint: past ~16 ms, 60 steps a second cannot be), and everything
  that plays, Chromium's processes (the browser's includes serving Playwright) and the
  server's. A short scene's include going back to step 0 before each play.

Frames come every 1/60 s, so over a short play a speed that is not 60/n cannot be met
exactly: the 3 steps of /backprop at 45/s are 2 intervals, 1 and 2 frames long, 40/s.

The figures are this machine's, now: ``uptime``'s load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.web.playback import SPEEDS  # noqa: E402
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
        """The run in a probe's log: from the first frame that painted a step before the last
        (a play from the last step goes back to 0 first)."""
        start = next(i for i, (_, _, step) in enumerate(log) if step < steps)
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
    # until a frame has painted a step before the last, then the last, and the player stopped
    page.wait_for_function(f"""() => {{
        const log = window.__painted.log, start = log.findIndex((e) => e[2] < {steps});
        return start >= 0 && log.slice(start).some((e) => e[2] === {steps}) &&
            !window.convscope.player.playing;
    }}""", polling=100, timeout=120_000)  # every 100 ms, not every frame: it runs in the page
    return Run.of(steps, painted.log(page))


# A speed past the page's top, for --beyond: the slider is given every speed there is (the
# player reads its speed from the slider at each step).
UNLISTED = """([speed, all]) => {
  const slider = document.getElementById("speed");
  slider.dataset.speeds = all.join(",");
  slider.max = String(all.length - 1);
  slider.value = String(all.indexOf(speed));
}"""


class Cpu:
    """CPU time, from /proc, of what plays: Chromium's processes (this script's descendants
    but Playwright's driver) and the server's, and each renderer's main thread, which does a
    step's swap, style, layout and paint (its main thread is the process's first). Per step
    played it says what a step costs whatever else the machine runs, as the painted rate
    cannot."""

    TICK = 1 / os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid: int) -> None:
        self.roots = [os.getpid(), server_pid]

    @staticmethod
    def _ticks(stat: Path) -> int:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime

    def sample(self) -> tuple[float, dict[int, float]]:
        """Seconds used so far by all of it, and by each renderer's main thread (by pid)."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError):
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        ours, todo = set(), list(self.roots)
        while todo:
            pid = todo.pop()
            ours.add(pid)
            todo += [child for child, parent in parents.items() if parent == pid]
        ours.discard(os.getpid())
        total, mains = 0, {}
        for pid in ours:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "node":
                    continue  # Playwright's driver: the measuring, not the playing
                total += self._ticks(Path(f"/proc/{pid}/stat"))
                if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    mains[pid] = self._ticks(Path(f"/proc/{pid}/task/{pid}/stat")) * self.TICK
        return total * self.TICK, mains


def measure(browser, cpu: Cpu, url: str, path: str, speed: float, listed: bool, runs: int,
            min_steps: int) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    painted.install(context)
    page = context.new_page()
    sep = "&" if "?" in path else "?"
    page.goto(f"{url}{path}{sep}speed={speed:g}" if listed else f"{url}{path}")
    if not listed:
        page.evaluate(UNLISTED, [speed, list(SPEEDS)])
    steps = int(page.locator("#player").get_attribute("data-steps"))
    done: list[Run] = []
    total0, mains0 = cpu.sample()
    while len(done) < runs or sum(r.steps for r in done) < min_steps:
        done.append(play(page, steps))
    total1, mains1 = cpu.sample()
    context.close()
    spans = [r.span for r in done]
    intervals, ms, frames = (sum(column) for column in zip(*spans, strict=True))
    measured = intervals / ms * 1000 if ms > 0 else float("nan")
    played = sum(r.steps for r in done)
    main = max((t - mains0.get(pid, 0) for pid, t in mains1.items()), default=float("nan"))
    return {"steps": steps, "runs": len(done), "measured": measured,
            "ratio": measured / speed, "skipped": sum(r.skipped for r in done),
            "out_of_order": sum(r.out_of_order for r in done),
            "fps": frames / ms * 1000 if ms > 0 else float("nan"),
            "main_ms": main / played * 1000, "all_ms": (total1 - total0) / played * 1000}


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="plays per row, at least")
    parser.add_argument("--min-steps", type=int, default=150,
                        help="steps played per row, at least (short scenes play again)")
    parser.add_argument("--speeds", type=int, default=3, help="the top K listed speeds")
    parser.add_argument("--beyond", type=int, default=0,
                        help="also the next K speeds past the page's top (not on its slider)")
    parser.add_argument("--only", help="only the scenes whose URL starts with this")
    parser.add_argument("--url", action="append", default=[],
                        help="a scene of your own instead (repeatable), e.g. /2d?input=digit")
    args = parser.parse_args()
    scenes = [(url, url) for url in args.url] or SCENES
    from playwright.sync_api import sync_playwright

    print(f"load averages (1, 5, 15 min) before: {load()}, {os.cpu_count()} cores")
    rows = ["| scene | URL | steps × plays | label /s | measured /s | ratio | skipped "
            "| out of order | fps | main thread ms/step | all CPU ms/step | kept its word |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp, \
            Uvicorn(Path(tmp) / "uvicorn.log") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, **KEPT)
        cpu = Cpu(server.process.pid)
        for name, path in scenes:
            if args.only and not path.startswith(args.only):
                continue
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(f"{server.url}{path}")
            listed = [float(s) for s in
                      page.locator("#speed").get_attribute("data-speeds").split(",")]
            context.close()
            above = [s for s in SPEEDS if s > listed[-1]][:args.beyond]
            for speed in listed[-args.speeds:] + above:
                r = measure(browser, cpu, server.url, path, speed, speed in listed,
                            args.runs, args.min_steps)
                kept = r["ratio"] >= WORD and r["skipped"] == 0 and r["out_of_order"] == 0
                label = f"{speed:g}" if speed in listed else f"{speed:g} (past the top)"
                rows.append(f"| {name} | {path} | {r['steps']} × {r['runs']} | {label} | "
                            f"{r['measured']:.1f} | {r['ratio']:.2f} | {r['skipped']} | "
                            f"{r['out_of_order']} | {r['fps']:.0f} | {r['main_ms']:.1f} | "
                            f"{r['all_ms']:.1f} | {'yes' if kept else 'NO'} |")
                print(rows[-1], flush=True)
        browser.close()
    print()
    print("\n".join(rows))
    print(f"\nload averages (1, 5, 15 min) after: {load()}")


if __name__ == "__main__":
    main()
