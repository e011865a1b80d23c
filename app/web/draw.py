"""Pictures of a scene with Pillow: titled panels of grids (the cells the pages draw, their
text and colours as app.css gives them), laid out to fit 1024x768, and the step's arithmetic
under them. What is drawn comes from the scene's own cells (:mod:`.cells`); this module only
places and paints them.

A layout is planned before anything is drawn (:func:`plan`): its image size is known from the
grids' shapes and the text's length, so the export's pixel budget is checked before a pixel is
allocated (:mod:`.export`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .cells import TAP_COLOURS, Cell

#: DejaVu Sans, bundled (its licence beside it): Latin, Greek, subscripts, ∂ Σ ∗ ⋆ × −
FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"

MAX_WIDTH, MAX_HEIGHT = 1024, 768
MARGIN = 16  # around the picture, and between panels
TITLE = 22  # a panel's title, px
HEADER = 20  # the page and the step, top right
LINE = 22  # the arithmetic's type, px (16 at the least)
MAX_CELL = 72  # a cell's side at the most, px
NUMBER_MIN = 16  # a grid's numbers at least this big, else the grid is drawn as colours only

# the light theme of static/css/app.css
BG = (0xFB, 0xFA, 0xF7)
FG = (0x1D, 0x1B, 0x22)
MUTED = (0x5C, 0x58, 0x66)
LINE_COLOUR = (0xD8, 0xD4, 0xDF)
PANEL = (0xFF, 0xFF, 0xFF)
CURRENT = (0xE6, 0x61, 0x00)
#: the window's frame: the page's focus blue, used for nothing else in a picture
WINDOW = (0x0B, 0x62, 0xD6)
WHITE = (0xFF, 0xFF, 0xFF)
#: the diverging scale, buckets -5..5 (ColorBrewer PuOr), and the ink on each
SCALE = {-5: (0x7F, 0x3B, 0x08), -4: (0xB3, 0x58, 0x06), -3: (0xE0, 0x82, 0x14),
         -2: (0xFD, 0xB8, 0x63), -1: (0xFE, 0xE0, 0xB6), 0: (0xF7, 0xF7, 0xF7),
         1: (0xD8, 0xDA, 0xEB), 2: (0xB2, 0xAB, 0xD2), 3: (0x6F, 0x62, 0xA3),
         4: (0x54, 0x27, 0x88), 5: (0x2D, 0x00, 0x4B)}
INK = {b: WHITE if b in (-5, -4, 3, 4, 5) else FG for b in SCALE}
#: the taps' colours (Okabe-Ito), as the page's borders
TAPS = ((0xE6, 0x9F, 0x00), (0x56, 0xB4, 0xE9), (0x00, 0x9E, 0x73), (0xD5, 0x5E, 0x00),
        (0x00, 0x72, 0xB2), (0xCC, 0x79, 0xA7), (0x7A, 0x6A, 0x00), (0x00, 0x00, 0x00))
assert len(TAPS) == TAP_COLOURS


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


@lru_cache(maxsize=8192)
def text_width(text: str, size: int) -> float:
    return font(size).getlength(text)


@dataclass
class Grid:
    """One grid of cells in a panel; ``window``: the cells marked with a tap are the kernel's
    window, framed in :data:`WINDOW`."""

    rows: list[list[Cell]]
    window: bool = False
    label: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), max((len(r) for r in self.rows), default=0)


@dataclass
class Panel:
    """A titled group of grids side by side (a 3-D volume's slices, a kernel's channels)."""

    title: str
    grids: list[Grid]

    def cells_wide(self) -> float:
        """Its width in cells, half a cell between grids."""
        return sum(g.shape[1] for g in self.grids) + 0.5 * (len(self.grids) - 1)

    def cells_high(self) -> int:
        return max(g.shape[0] for g in self.grids)


@dataclass
class Placed:
    """Where a grid is drawn: its top left and its cell side, px."""

    x: int
    y: int
    cell: int
    rows: int
    cols: int

    def box(self, r: int, c: int) -> tuple[int, int, int, int]:
        """Cell (r, c)'s box, (left, top, right, bottom) inclusive."""
        left, top = self.x + c * self.cell, self.y + r * self.cell
        return left, top, left + self.cell - 1, top + self.cell - 1


@dataclass
class Layout:
    """A planned picture: its size, each panel's title position and each grid's place, the
    arithmetic's lines' top and type size."""

    width: int
    height: int
    cell: int
    titles: list[tuple[int, int]] = field(default_factory=list)
    grids: list[list[Placed]] = field(default_factory=list)
    text_top: int = 0
    text_size: int = LINE


def wrap(text: str, size: int, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` px: each of its own lines (``\\n``) broken at
    spaces (a word longer than a line is a line of its own)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += _wrap_line(paragraph, size, width)
    return lines


def _wrap_line(text: str, size: int, width: int) -> list[str]:
    """One line of text broken at spaces; a line's width is its words' (each measured once,
    cached: sums repeat their words from step to step) and the spaces between them."""
    lines: list[str] = []
    line, used = "", 0.0
    space = text_width(" ", size)
    for word in text.split(" "):
        wide = text_width(word, size)
        if line and used + space + wide > width:
            lines.append(line)
            line, used = word, wide
        elif line:
            line, used = f"{line} {word}", used + space + wide
        else:
            line, used = word, wide
    if line:
        lines.append(line)
    return lines


def _splits(n: int, lines: int):
    """Every way to cut ``n`` panels, in order, into ``lines`` non-empty lines."""
    for cuts in itertools.combinations(range(1, n), lines - 1):
        bounds = (0, *cuts, n)
        yield [range(bounds[i], bounds[i + 1]) for i in range(lines)]


def plan(panels: list[Panel], texts: list[str]) -> Layout:
    """The layout of ``panels`` above the longest of ``texts`` (the arithmetic of each frame
    drawn): the arrangement in lines that gives the biggest cells, at most :data:`MAX_CELL`
    px, the whole picture within 1024x768. Pure arithmetic: nothing is drawn."""
    inner = MAX_WIDTH - 2 * MARGIN
    size = LINE
    lines = max((len(wrap(t, size, inner)) for t in texts), default=0)
    while lines * size * 1.3 > MAX_HEIGHT * 0.3 and size > 16:
        size -= 2
        lines = max(len(wrap(t, size, inner)) for t in texts)
    text_h = int(lines * size * 1.3) + (MARGIN if lines else 0)
    widest = max((text_width(line, size) for t in texts for line in wrap(t, size, inner)),
                 default=0)
    best = None
    for count in range(1, min(3, len(panels)) + 1):
        for split in _splits(len(panels), count):
            rows = [[panels[i] for i in line] for line in split]
            gaps = max(len(r) - 1 for r in rows) * MARGIN
            cell_w = min((inner - (len(r) - 1) * MARGIN) / sum(p.cells_wide() for p in r)
                         for r in rows)
            room = MAX_HEIGHT - 2 * MARGIN - HEADER - text_h - count * (TITLE + 6) \
                - (count - 1) * MARGIN
            cell_h = room / sum(max(p.cells_high() for p in r) for r in rows)
            cell = int(min(cell_w, cell_h, MAX_CELL))
            if best is None or cell > best[0]:
                best = (cell, rows, gaps)
    cell, rows, _ = best
    cell = max(cell, 2)
    layout = Layout(width=0, height=0, cell=cell, text_size=size)
    y = MARGIN + HEADER
    width = 0
    for line in rows:
        x = MARGIN
        y_grid = y + TITLE + 6
        for panel in line:
            layout.titles.append((x, y))
            placed = []
            gx = x
            for grid in panel.grids:
                r, c = grid.shape
                placed.append(Placed(int(gx), y_grid, cell, r, c))
                gx += c * cell + cell // 2
            layout.grids.append(placed)
            x += int(panel.cells_wide() * cell) + MARGIN
        width = max(width, x - MARGIN + MARGIN)
        y = y_grid + max(p.cells_high() for p in line) * cell + MARGIN
    layout.text_top = y
    layout.width = min(MAX_WIDTH, max(width, 480, int(widest) + 2 * MARGIN + 1))
    layout.height = min(MAX_HEIGHT, y + text_h - (MARGIN if lines else 0) + MARGIN)
    return layout


@lru_cache(maxsize=1024)
def _size_for(longest: str, cell: int) -> int | None:
    size = min(int(cell * 0.42), 40)
    while size >= NUMBER_MIN and longest and text_width(longest, size) > cell - 8:
        size -= 1
    return size if size >= NUMBER_MIN else None


def _number_size(grid: Grid, cell: int) -> int | None:
    """The type size of a grid's numbers: as big as the cell takes for its longest text, or
    None when that is under :data:`NUMBER_MIN` (the grid is then drawn as colours only, its
    numbers never clipped)."""
    longest = max((c.text for row in grid.rows for c in row), key=len, default="")
    return _size_for(longest, cell)


class Painter:
    """Paints layouts, keeping each distinct cell's tile (a scene's cells repeat from frame
    to frame: the GIF pastes them)."""

    def __init__(self) -> None:
        self.tiles: dict = {}

    def tile(self, cell: Cell, side: int, size: int | None) -> tuple:
        """The key of the cell's tile (drawn now if new)."""
        key = (cell.text, cell.bucket, cell.ghost, cell.current, cell.empty, cell.tap,
               cell.badge, cell.grey, cell.name, side, size)
        if key not in self.tiles:
            self.tiles[key] = _tile(cell, side, size)
        return key

    def ops(self, layout: Layout, panels: list[Panel], text: str, header: str) -> list[Op]:
        """The operations that paint ``panels`` placed by ``layout``, ``text`` under them."""
        ops: list[Op] = [("text", (layout.width - MARGIN, MARGIN // 2), header, 16, MUTED,
                          "ra")]
        for (tx, ty), panel, placed in zip(layout.titles, panels, layout.grids, strict=True):
            ops.append(("text", (tx, ty), panel.title, TITLE - 2, FG, "la"))
            for grid, at in zip(panel.grids, placed, strict=True):
                self._grid(ops, grid, at)
        size = layout.text_size
        for i, line in enumerate(wrap(text, size, MAX_WIDTH - 2 * MARGIN)):
            ops.append(("text", (MARGIN, layout.text_top + round(i * size * 1.3)), line, size,
                        FG, "la"))
        return ops

    def paint(self, layout: Layout, panels: list[Panel], text: str, header: str) -> Image.Image:
        """The picture of ``panels`` placed by ``layout``, ``text`` under them, painted whole."""
        ops = self.ops(layout, panels, text, header)
        image = Image.new("RGB", (layout.width, layout.height), BG)
        paint(image, ops, [box_of(op) for op in ops], (0, 0, *image.size), self.tiles)
        return image

    def _grid(self, ops: list[Op], grid: Grid, at: Placed) -> None:
        size = _number_size(grid, at.cell)
        if grid.label:
            ops.append(("text", (at.x, at.y - 2), grid.label, 12, MUTED, "ld"))
        window = []
        for row in grid.rows:
            for cell in row:
                box = at.box(cell.row, cell.col)
                ops.append(("tile", self.tile(cell, at.cell, size), box[:2], at.cell))
                if grid.window and cell.tap is not None:
                    window.append(box)
        if window:  # the kernel's window: a frame around the cells it covers
            left = min(b[0] for b in window) - 3
            top = min(b[1] for b in window) - 3
            right = max(b[2] for b in window) + 3
            bottom = max(b[3] for b in window) + 3
            ops.append(("rect", (left, top, right, bottom), None, WINDOW, 3))


# --------------------------------------------------------------------------- operations
#: one drawing operation, hashable (two frames' operations are compared as sets):
#: ("line", points, colour, width), ("polygon", points, colour),
#: ("rect", box, fill, outline, width), ("ellipse", box, fill, outline),
#: ("text", (x, y), text, size, colour, anchor), ("tile", key, (x, y), side) (a
#: :class:`Painter`'s cell); coordinates in the picture's px
Op = tuple
Box = tuple[int, int, int, int]


@lru_cache(maxsize=4096)
def _text_box(text: str, size: int, anchor: str) -> tuple[int, int, int, int]:
    return font(size).getbbox(text, anchor=anchor)


def box_of(op: Op) -> Box:
    """The px an operation may touch, (left, top, right, bottom) with right and bottom
    excluded: its shape's bounds, the stroke's width and a px or two of antialiasing."""
    kind = op[0]
    if kind == "text":
        (x, y), text, size, anchor = op[1], op[2], op[3], op[5]
        left, top, right, bottom = _text_box(text, size, anchor)
        return int(x + left) - 2, int(y + top) - 2, int(x + right) + 3, int(y + bottom) + 3
    if kind == "tile":
        x, y = op[2]
        return x, y, x + op[3], y + op[3]
    if kind in ("line", "polygon"):
        pad = (op[3] if kind == "line" else 1) + 2
        xs = [p[0] for p in op[1]]
        ys = [p[1] for p in op[1]]
        return int(min(xs)) - pad, int(min(ys)) - pad, int(max(xs)) + pad + 1, \
            int(max(ys)) + pad + 1
    x0, y0, x1, y1 = op[1]
    return int(x0) - 2, int(y0) - 2, int(x1) + 3, int(y1) + 3


def _meets(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _runs_in(points, width: int, clip: Box):
    """The runs of a polyline's points whose segments touch ``clip``."""
    pad = width + 2
    run: list = []
    for a, b in itertools.pairwise(points):
        if min(a[0], b[0]) - pad < clip[2] and clip[0] < max(a[0], b[0]) + pad \
                and min(a[1], b[1]) - pad < clip[3] and clip[1] < max(a[1], b[1]) + pad:
            if not run:
                run.append(a)
            run.append(b)
        elif run:
            yield run
            run = []
    if run:
        yield run


def paint(image: Image.Image, ops: list[Op], boxes: list[Box], clip: Box,
          tiles: dict | None = None) -> None:
    """Paint into ``image`` (the whole picture's size) every operation of ``ops`` (their
    ``boxes``) that touches ``clip``, in order, where it belongs: only the px of ``clip``
    are then as in the whole picture (shapes are drawn at their own coordinates, never
    shifted, so that they are rasterised alike wherever the clip falls)."""
    draw = ImageDraw.Draw(image)
    for op, box in zip(ops, boxes, strict=True):
        if not _meets(box, clip):
            continue
        kind = op[0]
        if kind == "tile":
            image.paste(tiles[op[1]], op[2])
        elif kind == "line":
            # no joints: each segment is drawn alone, so a run of them as in the whole line
            for run in _runs_in(op[1], op[3], clip):
                draw.line(run, fill=op[2], width=op[3])
        elif kind == "polygon":
            draw.polygon(op[1], fill=op[2])
        elif kind == "rect":
            draw.rectangle(op[1], fill=op[2], outline=op[3], width=op[4])
        elif kind == "ellipse":
            draw.ellipse(op[1], fill=op[2], outline=op[3])
        else:
            xy, text, size, colour, anchor = op[1:]
            draw.text(xy, text, font=font(size), fill=colour, anchor=anchor)


def merge(boxes: list[Box], size: tuple[int, int], gap: int = 8) -> list[Box]:
    """``boxes`` cut to the picture, those that overlap or nearly touch joined, until none
    do."""
    boxes = [(max(0, b[0]), max(0, b[1]), min(size[0], b[2]), min(size[1], b[3]))
             for b in boxes]
    boxes = [b for b in boxes if b[0] < b[2] and b[1] < b[3]]
    joined = True
    while joined:
        joined = False
        out: list[Box] = []
        for b in boxes:
            for i, o in enumerate(out):
                if b[0] <= o[2] + gap and o[0] <= b[2] + gap and b[1] <= o[3] + gap \
                        and o[1] <= b[3] + gap:
                    out[i] = (min(b[0], o[0]), min(b[1], o[1]), max(b[2], o[2]),
                              max(b[3], o[3]))
                    joined = True
                    break
            else:
                out.append(b)
        boxes = out
    return boxes


class Incremental:
    """A GIF's frames, each the previous one with only its changes repainted: the boxes of
    the operations that appeared or went away since the last frame, each repainted from the
    background up with every operation that touches it (the painter's order, clipped), then
    quantized to ``palette`` and pasted into a copy of the last frame. What stays (axes, a
    fixed signal, titles, untouched cells) is painted once, in the first frame."""

    def __init__(self, size: tuple[int, int], palette: Image.Image,
                 tiles: dict | None = None) -> None:
        self.size, self.palette, self.tiles = size, palette, tiles
        self.last: set = set()
        self.image: Image.Image | None = None  # the last frame, quantized
        self.scratch = Image.new("RGB", size, BG)  # where a frame's changes are repainted
        self.repainted = 0  # px repainted after the first frame (bench/export.py says)

    def next(self, ops: list[Op]) -> Image.Image:
        boxes = [box_of(op) for op in ops]
        now = set(zip(ops, boxes, strict=True))
        if self.image is None:
            image = self._patch(ops, boxes, (0, 0, *self.size))
        else:
            image = self.image.copy()
            for clip in merge([b for _, b in self.last ^ now], self.size):
                image.paste(self._patch(ops, boxes, clip), clip[:2])
                self.repainted += (clip[2] - clip[0]) * (clip[3] - clip[1])
        self.last, self.image = now, image
        return image

    def _patch(self, ops: list[Op], boxes: list[Box], clip: Box) -> Image.Image:
        """``clip`` repainted on the scratch picture, quantized."""
        self.scratch.paste(BG, clip)
        paint(self.scratch, ops, boxes, clip, self.tiles)
        return self.scratch.crop(clip).quantize(palette=self.palette,
                                                dither=Image.Dither.NONE)


def _tile(cell: Cell, side: int, size: int | None) -> Image.Image:
    """One cell, ``side`` px square: its colour (or grey level), its border (a tap's colour,
    padding dashed-grey, the value just made orange), its text and badge."""
    tile = Image.new("RGB", (side, side), PANEL)
    draw = ImageDraw.Draw(tile)
    inset = 1 if side >= 8 else 0
    box = (inset, inset, side - 1 - inset, side - 1 - inset)
    if cell.empty:
        draw.rectangle(box, fill=PANEL, outline=LINE_COLOUR, width=1)
        return tile
    fill = (cell.grey,) * 3 if cell.grey is not None else SCALE[cell.bucket]
    draw.rectangle(box, fill=fill)
    border = max(2, side // 16)
    if cell.ghost and side >= 8:
        draw.rectangle(box, outline=MUTED, width=1)
    if cell.tap is not None and side >= 6:
        draw.rectangle(box, outline=TAPS[cell.tap % TAP_COLOURS], width=border + 1)
    if cell.current and side >= 6:
        draw.rectangle(box, outline=CURRENT, width=border + 1)
    ink = MUTED if cell.ghost and cell.bucket == 0 else INK[cell.bucket]
    if cell.grey is not None:
        ink = FG if cell.grey > 128 else WHITE
    if size and cell.text:
        draw.text((side / 2, side / 2), cell.text, font=font(size), fill=ink, anchor="mm")
    small = max(10, side // 5)
    if cell.badge and size and side >= 44:
        draw.text((side - 3 - border, side - 2 - border), cell.badge, font=font(small),
                  fill=ink, anchor="rd")
    if cell.name and size and side >= 44:
        draw.text((3 + border, 2 + border), cell.name, font=font(small), fill=ink)
    return tile
