"""What a page's frames painted: a probe, installed before the page's own scripts, that logs
the player's step as each rendered frame paints it. The playback tests and
``bench/playback.py`` read it.

When the player's ``data-step`` changes (a MutationObserver), a 1-px box off screen is made
one pixel wider; a ResizeObserver on it runs in the next rendering update after layout, past
every ``requestAnimationFrame`` callback, and logs the step that frame is about to paint, with
the frame's time and number. A step changed twice before a frame is rendered is logged once:
only the one painted. Frames are counted by a ``requestAnimationFrame`` loop that changes
nothing. Playwright adds the script outside the page's CSP.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page

PROBE = """
(() => {
  const log = [];  // [frame time, frame number, step] whenever the painted step changed
  let frames = 0, frameTime = 0, last = null, widths = 0, box = null;
  window.__painted = { log, reset() { log.length = 0; last = null; nudge(); } };
  const resized = new ResizeObserver(() => {
    const player = document.getElementById("player");
    const step = player ? Number(player.dataset.step) : null;
    if (step !== last) { log.push([frameTime, frames, step]); last = step; }
  });
  function nudge() {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("aria-hidden", "true");
      Object.assign(box.style, { position: "fixed", left: "-1000px", top: "0", height: "1px",
                                 pointerEvents: "none" });
      document.documentElement.appendChild(box);
      resized.observe(box);
    }
    widths = widths % 500 + 1;
    box.style.width = widths + "px";
  }
  new MutationObserver(nudge).observe(document, { subtree: true, attributes: true,
                                                  attributeFilter: ["data-step"] });
  function frame(t) { frames += 1; frameTime = t; requestAnimationFrame(frame); }
  requestAnimationFrame(frame);
})();
"""


def install(context: BrowserContext) -> None:
    """Log what every page opened in ``context`` from now on paints."""
    context.add_init_script(PROBE)


def reset(page: Page) -> None:
    """Start the log again, from the step painted now."""
    page.evaluate("window.__painted.reset()")


def log(page: Page) -> list[tuple[float, int, int | None]]:
    """``(frame time in ms, frame number, step)`` for each frame that painted another step
    (``None``: no player), since the page opened or :func:`reset`."""
    return [tuple(entry) for entry in page.evaluate("window.__painted.log")]


def steps(page: Page) -> list[int | None]:
    """The steps painted, in the order the frames painted them."""
    return [step for _, _, step in log(page)]


def frames(page: Page, count: int) -> None:
    """Wait for ``count`` more frames to be rendered."""
    page.evaluate("""(count) => new Promise((done) => {
        const frame = () => (--count > 0 ? requestAnimationFrame(frame) : done());
        requestAnimationFrame(frame);
    })""", count)
