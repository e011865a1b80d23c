"""``?format=png`` and ``?format=gif`` on a page URL: the scene as a picture (the URL's step)
or as an animation (steps 0 to the last, at the URL's speed, looping), drawn with Pillow
(:mod:`.draw`) from the scene's own cells and its page's arithmetic line.

Every number drawn is the text of a cell the page draws (:mod:`.cells`) or of the page's own
arithmetic (its template's macro, rendered and stripped of markup), so a picture says what the
page says. The pictures are language-neutral but for the arithmetic's few English words: they
are drawn in English whatever the request's language (DejaVu Sans has no Hangul).

Cost: the frames are counted (``export_max_frames``) and their pixels at the largest frame
(:func:`planned_size`) times the frames (``export_max_pixels``) checked before any step is
looked at; over either, a 413 naming the setting. A GIF's frames repaint only what changed
(:class:`.draw.Incremental`).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable

import numpy as np
from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from markupsafe import Markup
from PIL import Image

from .. import i18n
from ..i18n import gettext
from . import draw, plot1d
from .cells import Cell
from .draw import Grid, Layout, Painter, Panel, plan
from .formats import register
from .templating import templates

# --------------------------------------------------------------------------- the pages' panels


def _shape(array) -> str:
    return "×".join(map(str, np.shape(array)))


def _panels_2d(scene) -> list[Panel]:
    g = scene.geom
    padded = f" → {_shape(scene.padded_values)}" if scene.padded_values.shape != \
        scene.x.shape else ""
    flip = " (flipped)" if g.flip else ""
    return [Panel(f"x  {_shape(scene.x)}{padded}", [Grid(scene.input_rows(), window=True)]),
            Panel(f"w  {_shape(scene.w)}{flip}", [Grid(scene.kernel_rows(flipped=g.flip))]),
            Panel(f"y  {_shape(scene.output)}", [Grid(scene.output_rows())])]


def _panels_matrix(scene) -> list[Panel]:
    matrix = Panel(f"{ {'im2col': 'P', 'W': 'W', 'Wt': 'Wᵀ'}[scene.kind]}  "
                   f"{scene.shape[0]}×{scene.shape[1]}",
                   [Grid([scene.matrix_row(r) for r in range(scene.shape[0])])])
    return [*_panels_2d(scene), matrix]


def _panels_3d(scene) -> list[Panel]:
    return [
        Panel(f"x  {_shape(scene.x)}", [Grid(s, window=True, label=f"d{d + 1}")
                                        for d, s in enumerate(scene.input_slices())]),
        Panel(f"w  {_shape(scene.w)}", [Grid(s, label=f"d{d + 1}")
                                        for d, s in enumerate(scene.kernel_slices())]),
        Panel(f"y  {_shape(scene.output)}", [Grid(s, label=f"d{d + 1}")
                                             for d, s in enumerate(scene.output_slices())]),
    ]


def _panels_channels(scene) -> list[Panel]:
    names = [scene.channel_name(c) for c in range(scene.geom.c_in)]
    kernels = scene.kernel_grids()
    panels = [Panel(f"x  {_shape(scene.x[scene.sample])}",
                    [Grid(g, window=True, label=names[c])
                     for c, g in enumerate(scene.input_grids())])]
    for co, slices in enumerate(kernels):
        seen = scene.sees(co)
        panels.append(Panel(f"w{_sub(co + 1)}", [Grid(s, label=names[seen[i]])
                                                for i, s in enumerate(slices)]))
    panels.append(Panel(f"y  {_shape(scene.output_grid)}",
                        [Grid(g, label=f"y{_sub(co + 1)}")
                         for co, g in enumerate(scene.output_grids())]))
    return panels


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


#: the backprop page's grids, by the symbol the lesson gives them
BACKPROP_TITLES = {"input": "x", "delta": "δ = ∂L/∂y", "kernel": "w"}


def _panels_backprop(scene) -> list[Panel]:
    titles = {**BACKPROP_TITLES,
              "result": {"weight": "∂L/∂w", "input": "∂L/∂x", "bias": "∂L/∂b"}[scene.view.part]}
    return [Panel(titles[key], [Grid(g.rows, window=key == "input") for g in grids])
            for key, grids in scene.pass_grids().items()]


def _panels_transposed(scene) -> list[Panel]:
    return [Panel(f"x  {scene.shape_text(scene.x)}", [Grid(scene.input_rows())]),
            Panel(f"w  {scene.shape_text(scene.w)}", [Grid(scene.kernel_rows)]),
            Panel(f"y  {scene.shape_text(scene.output)}", [Grid(scene.output_rows())]),
            Panel("#", [Grid(scene.overlap_rows)])]


def _panels_pool(scene) -> list[Panel]:
    kind = "max" if scene.view.kind == "max" else "avg"
    panels = [Panel(f"x  {_shape(scene.x)}", [Grid(scene.input_rows(), window=True)]),
              Panel(f"{kind} {scene.geom.kernel[0]}×{scene.geom.kernel[1]}",
                    [Grid(scene.window_rows)]),
              Panel(f"y  {_shape(scene.output)}", [Grid(scene.output_rows())])]
    if scene.view.part == "backward":
        panels += [Panel("δ = ∂L/∂y", [Grid(scene.delta_rows())]),
                   Panel("∂L/∂x", [Grid(scene.gradient_rows())])]
    elif scene.conv_output is not None:
        panels += [Panel("w", [Grid(scene.conv_kernel_rows)]),
                   Panel(f"x ⋆ w  {_shape(scene.conv_output)}", [Grid(scene.conv_rows())])]
    return panels


def _grey_grid(values, scale) -> Grid:
    """A 2-D array as a grey picture, one cell a value (the page's map pictures)."""
    rows = []
    for r in range(values.shape[0]):
        row = []
        for c in range(values.shape[1]):
            grey, clip = scale.level(float(values[r, c]))
            row.append(Cell(id="", text="", bucket=0, row=r, col=c, grey=grey, clip=clip))
        rows.append(row)
    return Grid(rows)


def _panels_network(scene) -> list[Panel]:
    column = scene.input_column
    panels = [Panel("x / 16", [_grey_grid(m.values, column.scale) for m in column.maps])]
    for col in scene.columns:
        panels.append(Panel(col.key, [_grey_grid(m.values, col.scale) for m in col.maps]))
    return panels


def _network_text(scene) -> str:
    """The probabilities as the page's bars write them, and the backward step's sentence."""
    bars = "   ".join(f"{k}: {text}" for k, _, _, text in scene.bars)
    step = f"   {scene.sentence()}" if scene.step else ""
    return f"p = softmax(z):   {bars}.   label {scene.label}, predicted {scene.predicted}." \
        + step


#: page -> (its panels, its arithmetic macro: template, macro, how it is called)
PAGES: dict[str, tuple[Callable, str, str, Callable]] = {
    "2d": (_panels_2d, "macros.html", "arithmetic", lambda m, s: m(s, s.step)),
    "matrix": (_panels_matrix, "matrix_parts.html", "arithmetic", lambda m, s: m(s, s.step)),
    "3d": (_panels_3d, "parts_3d.html", "sums", lambda m, s: m(s)),
    "channels": (_panels_channels, "channels_parts.html", "sums", lambda m, s: m(s)),
    "backprop": (_panels_backprop, "backprop_parts.html", "sum_line", lambda m, s: m(s)),
    "transposed": (_panels_transposed, "transposed_parts.html", "arithmetic",
                   lambda m, s: m(s)),
    "pool": (_panels_pool, "pool_parts.html", "arith", lambda m, s: m(s)),
    "1d": (None, "plots_1d.html", "arithmetic", lambda m, s: m(s, s.step)),
    "network": (_panels_network, "", "", None),
}


def sentence(page: str, scene) -> str:
    """The page's arithmetic at the scene's step, as its template writes it, in plain text
    (English: the picture's font has no Hangul); empty at step 0, where the page says how to
    start."""
    if page == "network":
        return _network_text(scene)
    if scene.step == 0:
        return ""
    _, template, name, call = PAGES[page]
    token = i18n.set_locale("en")
    try:
        macro = getattr(templates.env.get_template(template).module, name)
        html = call(macro, scene)
    finally:
        i18n._current.reset(token)
    return plain_lines(html)


#: a block element's tag or a <br>: where the page starts a new line
_BLOCK = re.compile(r"<(?:/?(?:div|p|li|ul|ol|tr|table|summary|details|h[1-6])\b[^>]*"
                    r"|br\b[^>]*)>", re.IGNORECASE)
#: a closed <details>: the page shows its summary alone
_CLOSED = re.compile(r"<details\b(?![^>]*\bopen\b)[^>]*>\s*(<summary\b.*?</summary>).*?"
                     r"</details>", re.IGNORECASE | re.DOTALL)


def plain_lines(html: str) -> str:
    """Markup as the page shows its text: each block (and each ``<br>``) a line of its own,
    a closed ``<details>`` its summary alone; within a line, tags stripped and spaces
    collapsed."""
    html = _CLOSED.sub(r"\1", str(html))
    lines = (re.sub(r"\s+([,.;:)])", r"\1", Markup(part).striptags())
             for part in _BLOCK.split(html))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- frames


class Frames:
    """The pictures of a scene's steps, one layout for all (planned from every step's
    arithmetic; the 1D page's is fixed, :data:`.plot1d.SIZE`), as drawing operations
    (:meth:`ops`) or painted whole (:meth:`frame`)."""

    def __init__(self, page: str, scene, steps: list[int]) -> None:
        self.page, self.scene, self.steps = page, scene, steps
        self.painter = Painter()
        self.layout: Layout | None = None
        if page == "1d":
            self.size = plot1d.SIZE
            return
        self.texts = {k: sentence(page, self.at(k)) for k in steps}
        self.layout = plan(PAGES[page][0](self.at(steps[0])), list(self.texts.values()))
        self.size = (self.layout.width, self.layout.height)

    def at(self, step: int):
        return self.scene if step == self.scene.step else self.scene.at(step)

    def header(self, scene) -> str:
        return f"/{self.page}   {scene.step} / {scene.steps}"

    def ops(self, step: int) -> list:
        scene = self.at(step)
        if self.page == "1d":
            return plot1d.frame_ops(scene, sentence("1d", scene), self.header(scene))
        return self.painter.ops(self.layout, PAGES[self.page][0](scene), self.texts[step],
                                self.header(scene))

    def frame(self, step: int) -> Image.Image:
        """The picture of ``step``, painted whole."""
        ops = self.ops(step)
        image = Image.new("RGB", self.size, draw.BG)
        draw.paint(image, ops, [draw.box_of(op) for op in ops], (0, 0, *self.size),
                   self.painter.tiles)
        return image


def planned_size(page: str) -> tuple[int, int]:
    """A frame's size at the most, known before any step is looked at: the 1D page's fixed
    size; the others' layout needs every step's sentence (:func:`.draw.plan`), so their
    largest, 1024×768."""
    return plot1d.SIZE if page == "1d" else (draw.MAX_WIDTH, draw.MAX_HEIGHT)


def frame_duration(speed: float) -> int:
    """A GIF frame's duration at ``speed`` steps per second, ms: the nearest 10 ms (a GIF
    counts hundredths), at least 20 (browsers play a shorter frame at 100 ms)."""
    return max(20, 10 * round(100 / speed))


# --------------------------------------------------------------------------- responses


def _too_big(request: Request, frames: int, size: tuple[int, int]) -> Response | None:
    settings = request.app.state.settings
    if frames > settings.export_max_frames:
        return PlainTextResponse(gettext(
            "This animation has %(frames)s frames (steps 0 to %(last)s), and a GIF has at "
            "most %(limit)s (export_max_frames): fewer steps (a smaller input, a bigger "
            "stride) will fit.") % {"frames": f"{frames:,}", "last": f"{frames - 1:,}",
                                    "limit": f"{settings.export_max_frames:,}"},
            status_code=413)
    pixels = frames * size[0] * size[1]
    if pixels > settings.export_max_pixels:
        return PlainTextResponse(gettext(
            "This animation would draw %(pixels)s pixels (%(frames)s frames of "
            "%(width)s×%(height)s), and a GIF draws at most %(limit)s (export_max_pixels).")
            % {"pixels": f"{pixels:,}", "frames": f"{frames:,}", "width": size[0],
               "height": size[1], "limit": f"{settings.export_max_pixels:,}"},
            status_code=413)
    return None


def _headers(request: Request, page: str, name: str) -> dict[str, str]:
    how = "attachment" if request.query_params.get("download") == "1" else "inline"
    return {"Content-Disposition": f'{how}; filename="{name}"',
            "Cache-Control": "public, max-age=3600", "Vary": "Accept-Language"}


def _steps_of(page: str, scene) -> int:
    return scene.steps


@register("png")
def png(request: Request, page: str, view, scene) -> Response:
    """The scene at the URL's step as a PNG."""
    if page not in PAGES:
        return PlainTextResponse(gettext("format: /%(page)s has no picture.") % {"page": page},
                                 status_code=422)
    refused = _too_big(request, 1, planned_size(page))
    if refused:
        return refused
    frames = Frames(page, scene, [scene.step])
    data = io.BytesIO()
    frames.frame(scene.step).save(data, "PNG")
    return Response(data.getvalue(), media_type="image/png",
                    headers=_headers(request, page, f"convscope-{page}-step{scene.step}.png"))


@register("gif")
def gif(request: Request, page: str, view, scene) -> Response:
    """Every step of the scene, 0 to the last, as a looping GIF at the URL's speed."""
    if page == "network":
        return PlainTextResponse(gettext(
            "format: /network has no GIF: its player steps through one backward pass of the "
            "whole network, whose pictures change only where the gradient reaches, and its "
            "training is a run of thousands of steps, not one scene's animation. Ask for "
            "format=png at the step you want."), status_code=422)
    count = scene.steps + 1
    refused = _too_big(request, count, planned_size(page))  # before any step is looked at
    if refused:
        return refused
    wait = request.app.state.settings.export_gif_wait_seconds
    if not _ONE_GIF.acquire(timeout=wait):
        return PlainTextResponse(gettext(
            "format: another animation is being drawn (one at a time: %(seconds)s s waited, "
            "export_gif_wait_seconds); ask again in a moment.") % {"seconds": f"{wait:g}"},
            status_code=503, headers={"Retry-After": "2"})
    try:
        frames = Frames(page, scene, list(range(count)))
        body = encode_gif(frames, view.speed)
    finally:
        _ONE_GIF.release()
    return Response(body, media_type="image/gif",
                    headers=_headers(request, page, f"convscope-{page}.gif"))


#: one GIF drawn at a time in this process: the largest the limits accept keeps ~210 MB of
#: frames until it is encoded (bench/export.py), so two at once would double that
_ONE_GIF = threading.Lock()


def encode_gif(frames: Frames, speed: float) -> bytes:
    """The frames as a looping GIF, each on one palette (:func:`palette`), ``speed`` steps/s;
    each frame the last with its changes repainted (:class:`.draw.Incremental`)."""
    painter = draw.Incremental(frames.size, palette(), frames.painter.tiles)
    images = [painter.next(frames.ops(k)) for k in frames.steps]
    data = io.BytesIO()
    images[0].save(data, "GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=frame_duration(speed), disposal=1)
    frames.repainted = painter.repainted
    return data.getvalue()


_PALETTE: list[Image.Image] = []


def palette() -> Image.Image:
    """One palette for every frame: the pictures' colours, each ink's ramps onto each
    background (antialiased text), and 48 greys (a picture's pixels)."""
    if _PALETTE:
        return _PALETTE[0]
    from . import draw
    base = [draw.BG, draw.FG, draw.MUTED, draw.LINE_COLOUR, draw.PANEL, draw.CURRENT,
            draw.WINDOW, draw.WHITE, *draw.SCALE.values(), *draw.TAPS]
    colours = list(dict.fromkeys(base))
    for back in (draw.BG, draw.PANEL, *draw.SCALE.values()):
        for ink in (draw.FG, draw.WHITE, draw.MUTED):
            for t in (0.2, 0.4, 0.6, 0.8):
                colours.append(tuple(round(b + (i - b) * t) for b, i in zip(back, ink,
                                                                             strict=True)))
    colours = list(dict.fromkeys(colours))
    greys = [(g, g, g) for g in np.linspace(0, 255, 255 - len(colours)).round().astype(int)]
    # 255 at the most: the GIF writer takes the free index for its unchanged px (else it
    # counts every frame's colours to find one)
    colours = list(dict.fromkeys(colours + [tuple(map(int, g)) for g in greys]))[:255]
    image = Image.new("P", (1, 1))
    image.putpalette([v for c in colours for v in c])
    _PALETTE.append(image)
    return image
