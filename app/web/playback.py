"""How fast the player plays: the speeds each page's slider lists, up to what the page can do.

A speed is steps per second, every step painted in a frame of its own (the player in
static/js/app.js keeps to the frame clock, at most one step per frame, so nothing goes past
the display's 60 frames a second). A page's slider lists :data:`SPEEDS` up to the page's
top (:data:`TOPS`): one listed speed below the fastest at which every scene of that page
that ``bench/playback.py`` played painted within 10 % of the label, none skipped, on this
project's 2-core machine at its quietest (load average 2-4). The step below is margin for
a busier machine (at load 7 the tops held, one speed past them did not). The figures are
in the README ("Playback"); ``bench/playback.py --beyond 2`` shows whether a top could
rise.
"""

from __future__ import annotations

SPEEDS = (0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 30, 45, 60)
"""Every speed a slider may list, in steps per second."""

TOPS = {
    # box * box kept 60 (0.92); the discrete view kept 45 (0.93), missed 60 (0.81)
    "1d": 30,
    # the 28x28 digit, an 8x8 digit and the strided Sobel kept 30, missed 45 (0.82-0.87)
    "2d": 24,
    # the box and edge volumes kept 30 (0.95, 0.98), missed 45 (0.73, 0.77)
    "3d": 24,
    # three kernels over RGB kept 30 (0.97), missed 45 (0.77)
    "channels": 24,
    # learn-sobel kept 30 (0.96), missed 45 (0.83)
    "backprop": 24,
    # not yet measured by bench/playback.py: the 2-D page's top, whose cells it shares
    "matrix": 24,
    # the transposed page: not measured yet with bench/playback.py; the other grid pages' top
    # (its scenes are at most page_max_cells, as theirs, but a scatter step re-sends the output)
    "transposed": 24,
    # set, not measured by bench/playback.py: a /network step is a compute-process call and
    # the whole backward row drawn again (20-40 ms here)
    "network": 4,
    # the 28x28 digit backward kept 16 (0.91), missed 24 (0.60) at load 0.6-4; the small
    # scenes and the digit beside the convolution kept 24
    "pool": 12,
}
"""Each page's fastest speed, in steps per second (the reasons, from bench/playback.py)."""


def speeds(page: str) -> tuple[float, ...]:
    """The speeds the slider of ``page`` lists: :data:`SPEEDS` up to its top."""
    return tuple(speed for speed in SPEEDS if speed <= TOPS[page])


def playable(speed: float, listed: tuple[float, ...]) -> float:
    """The listed speed a player asked for ``speed`` plays at: the fastest listed that is not
    faster (the slowest, for a speed below them all)."""
    return max((s for s in listed if s <= speed), default=listed[0])
