"""The lesson's stops, in order: what ``/`` lists and what the tour walks.

A tour is the lesson walked stop by stop on its live pages: ``?tour=N`` on a page says it
shows stop N (``/2d?tour=4``), with the stop's caption, its number ("4 of 8") and links to
the stops either side, which PageDown and PageUp follow. ``/tour`` starts it. Every page
also links to the stops either side of its own: the tour's stop, else the stop the page
shows (the one whose scene it is, or the first stop on that page).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from ..i18n import N_, gettext
from .links import with_lang


@dataclass(frozen=True)
class Stop:
    """One stop: its anchor on ``/``, its heading there, the page that shows it (written as
    its canonical URL) and its caption, one line in the lesson's words. The heading and the
    caption are written in English (marked for translation) and read in the request's
    language: :attr:`title`, :attr:`caption`."""

    id: str
    english_title: str
    scene: str
    english_caption: str

    @property
    def title(self) -> str:
        return gettext(self.english_title)

    @property
    def caption(self) -> str:
        return gettext(self.english_caption)

    @property
    def path(self) -> str:
        return self.scene.split("?")[0]

    @property
    def query(self) -> str:
        return self.scene.partition("?")[2]


STOPS = (
    Stop("operation", N_("The convolution operation"), "/1d",
         N_("The yellow area is the overlap being integrated; the black line, the result so "
            "far.")),
    Stop("flip", N_("Cross-correlation vs convolution"),
         "/1d?signal=step&kernel=ramp&compare=1",
         N_("CNNs compute cross-correlation: the kernel is not flipped. Convolution flips it "
            "first.")),
    Stop("dimensions", N_("Convolution in N dimensions"), "/3d",
         N_("When the input gains a dimension, so does the kernel; it keeps its size as it "
            "slides.")),
    Stop("worked-example", N_("The worked example"), "/2d",
         N_("Output (1, 1) is 0·0 + 1·1 + 2·3 + 3·4 = 19; the whole output is "
            "[[19, 25], [37, 43]].")),
    Stop("output-size", N_("Output size"), "/2d?input=digit&kernel=sobel-x&stride=2&padding=1",
         N_("With padding P, stride S and dilation D: O = ⌊(H + 2P − D·(K − 1) − 1) / S⌋ + 1.")),
    Stop("channels", N_("Many channels, one kernel"), "/channels",
         N_("Each kernel channel meets its input channel; all the results sum into one output "
            "map.")),
    Stop("kernels", N_("Many channels, many kernels"), "/channels?preset=three-kernels",
         N_("One output map per kernel: as many output channels as there are kernels.")),
    Stop("backprop", N_("Backpropagation through a convolution"), "/backprop",
         N_("Use the upstream derivatives as the kernel and slide them over the input: the "
            "kernel's gradients.")),
    Stop("matrix", N_("The convolution as a matrix"), "/matrix?input=random&kernel=sobel-x",
         N_("Each row of W is the kernel slid to one window: vec(y) = W · vec(x), and "
            "∂L/∂x = Wᵀ · vec(δ).")),
    Stop("transposed", N_("Transposed convolution"),
         "/transposed?input=ones4&kernel=k3&stride=2",
         N_("Each input cell stamps the kernel, scaled by its value; where stamps overlap they "
            "add up. Kernel 3 with stride 2: a checkerboard.")),
    Stop("pooling", N_("Pooling: max and average"), "/pool?part=backward",
         N_("A max pool sends each δ back to its window's winner alone; a tie goes to the "
            "first maximum in window order.")),
    Stop("network", N_("A small CNN, learning"), "/network?panel=backward",
         N_("The same operations, stacked: step the gradient back from the softmax to conv1, "
            "or train it live.")),
)


def tour_url(number: int, projector: bool = False) -> str:
    """The address of stop ``number`` (from 1) in the tour (in the language the URL chose,
    if it did)."""
    stop = STOPS[number - 1]
    extra = urlencode({"projector": 1} if projector else {})
    tail = "&".join(q for q in (stop.query, extra, f"tour={number}") if q)
    return with_lang(f"{stop.path}?{tail}")


@dataclass(frozen=True)
class Place:
    """Where a page is in the lesson: its stop (``number`` from 1), whether it is in the
    tour, and the addresses of the stops either side (``None`` past either end)."""

    number: int
    touring: bool
    previous: str | None
    next: str | None

    @property
    def stop(self) -> Stop:
        return STOPS[self.number - 1]

    @property
    def total(self) -> int:
        return len(STOPS)

    def neighbour(self, offset: int) -> Stop:
        return STOPS[self.number - 1 + offset]


def place(path: str, scene_query: str, tour: int, projector: bool) -> Place:
    """The place of the page at ``path`` showing ``scene_query`` (its canonical query without
    the player's state): stop ``tour`` if it is in the tour."""
    if tour:
        number = tour
    else:
        exact = [i for i, s in enumerate(STOPS, 1) if s.path == path and s.query == scene_query]
        on_page = [i for i, s in enumerate(STOPS, 1) if s.path == path]
        number = (exact or on_page or [1])[0]
    return Place(number, bool(tour),
                 tour_url(number - 1, projector) if number > 1 else None,
                 tour_url(number + 1, projector) if number < len(STOPS) else None)
