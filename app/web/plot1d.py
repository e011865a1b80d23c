"""The 1D page's plots as a picture: its own SVG plots (``plots_1d.html``, the shapes and
labels the page draws) painted with Pillow. Only the few elements those plots use are read:
``polyline``, ``polygon``, ``rect``, ``line``, ``circle`` and ``text``, styled by their class
as app.css styles them (light theme).

A frame is a list of drawing operations (:data:`.draw.Op`), so that a GIF repaints only what
changed from one frame to the next (:class:`.draw.Incremental`): the fixed signal, the axes,
the kernel plot and the titles are painted once; a frame costs what its kernel, its new output
and its sum cover.

The frame is 800×480 (:data:`SIZE`): a slide's picture of the page's three plots and its sum.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from PIL import Image

from .draw import BG, FG, LINE_COLOUR, MUTED, PANEL, TAPS, Op, box_of, paint, wrap
from .templating import templates

F, G, OVERLAP, RESULT, OTHER = (0x00, 0x72, 0xB2), (0xD5, 0x5E, 0x00), (0xF0, 0xE4, 0x42), \
    FG, (0x8A, 0x85, 0x96)
BAND = (0xFA, 0xF5, 0xC8)  # the overlap's yellow at .35 on the panel
TEXT = 16  # px: every label at least this, whatever the plot's scale

#: the picture's size, px: every 1D frame's
SIZE = WIDTH, HEIGHT = 800, 480
MARGIN = 16
TOP = 34  # the first plot's top: the header and the titles above it
#: px per SVG unit: the signal and output plots (600 units wide), the kernel plot (260)
SIGNAL_SCALE, KERNEL_SCALE = 0.9, 0.8
SUM = 22  # the sum's type, px (14 at the least)

def _points(text: str, scale: float, dx: float, dy: float) -> tuple[tuple[float, float], ...]:
    values = [float(v) for v in re.split(r"[ ,]+", text.strip()) if v]
    return tuple((round(dx + values[i] * scale), round(dy + values[i + 1] * scale))
                 for i in range(0, len(values) - 1, 2))


def _classes(element: ET.Element, parent: str) -> set[str]:
    return set((element.get("class", "") + " " + parent).split())


def svg_ops(svg: str, left: float, top: float, scale: float) -> tuple[list[Op], tuple[int, int]]:
    """The operations that paint one of the page's SVG plots at (left, top), ``scale`` px per
    SVG unit, and its size in px."""
    root = ET.fromstring(re.sub(r' xmlns="[^"]*"', "", str(svg)))
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    # every coordinate a whole px: a patch repainted at any offset draws as the whole picture
    ops: list[Op] = [("rect", (round(left), round(top), round(left + width * scale),
                               round(top + height * scale)), PANEL, LINE_COLOUR, 1)]

    def at(x, y):
        return round(left + float(x) * scale), round(top + float(y) * scale)

    def walk(element: ET.Element, inherited: str) -> None:
        for child in element:
            tag = child.tag
            classes = _classes(child, inherited)
            if tag == "g":
                walk(child, " ".join(classes))
                continue
            tap = next((int(c[3:]) for c in classes if re.fullmatch(r"tap\d", c)), None)
            stroke = G if "kernel-stem" in classes or "kernel" in classes else \
                RESULT if "out-stem" in classes or "result" in classes else \
                OTHER if "other" in classes else F
            if tag == "polyline":
                points = _points(child.get("points", ""), scale, left, top)
                if len(points) > 1:
                    ops.append(("line", points, stroke, 3))
            elif tag == "polygon":
                points = _points(child.get("points", ""), scale, left, top)
                if len(points) > 2:
                    ops.append(("polygon", points, OVERLAP))
            elif tag == "rect":
                x, y = at(child.get("x", 0), child.get("y", 0))
                w = round(float(child.get("width", 0)) * scale)
                h = round(float(child.get("height", 0)) * scale)
                if "band" in classes:
                    ops.append(("rect", (x, y, x + w, y + h), BAND, None, 1))
                elif "frame" in classes:
                    ops.append(("rect", (x, y, x + w, y + h), None, LINE_COLOUR, 1))
            elif tag == "line":
                a = at(child.get("x1", 0), child.get("y1", 0))
                b = at(child.get("x2", 0), child.get("y2", 0))
                if "axis" in classes or "tm" in classes:
                    ops.append(("line", (a, b), MUTED, 1))
                else:
                    colour = TAPS[tap % 8] if tap is not None and "win" in classes else stroke
                    ops.append(("line", (a, b), colour, 5 if "win" in classes else 3))
            elif tag == "circle":
                cx, cy = at(child.get("cx", 0), child.get("cy", 0))
                r = round(float(child.get("r", 4)) * scale)
                fill = G if "marker" in classes or ("current" in classes) else stroke
                ops.append(("ellipse", (cx - r, cy - r, cx + r, cy + r), fill,
                            RESULT if "win" in classes else None))
            elif tag == "text" and (child.text or "").strip():
                x, y = at(child.get("x", 0), child.get("y", 0))
                anchor = "ls" if "start" in classes else "rs" if "end" in classes else "ms"
                if "ty" in classes:
                    anchor = anchor[0] + "m"
                if "unit" in classes:
                    anchor = "ls"
                ops.append(("text", (x, y), child.text.strip(), TEXT,
                            MUTED if "ticks" in inherited or "tx" in classes
                            or "ty" in classes else FG, anchor))

    walk(root, "")
    return ops, (int(width * scale), int(height * scale))


def frame_ops(scene, text: str, header: str) -> list[Op]:
    """The 1D page at the scene's step: the input plot with the kernel (and the kernel plot
    beside it), the output plot under it, the step's arithmetic under both."""
    plots = templates.env.get_template("plots_1d.html").module
    ops: list[Op] = [("text", (WIDTH - MARGIN, 8), header, 16, MUTED, "ra"),
                     ("text", (MARGIN, 8), "x, w", 20, FG, "la")]
    signal, (_, h) = svg_ops(plots.input_plot(scene, scene.step), MARGIN, TOP, SIGNAL_SCALE)
    kx = round(MARGIN + 600 * SIGNAL_SCALE + MARGIN)
    ops.append(("text", (kx, 8), "w", 20, FG, "la"))
    kernel, _ = svg_ops(plots.kernel_plot(scene), kx, TOP, KERNEL_SCALE)
    y = TOP + h + 8
    ops.append(("text", (MARGIN, y), "y", 20, FG, "la"))
    output, (_, h) = svg_ops(plots.output_plot(scene, scene.step), MARGIN, y + 26,
                             SIGNAL_SCALE)
    ops += signal + kernel + output
    y += 26 + h + 10
    size = SUM
    lines = wrap(text, size, WIDTH - 2 * MARGIN)
    while len(lines) * size * 1.3 > HEIGHT - y - 8 and size > 14:
        size -= 2
        lines = wrap(text, size, WIDTH - 2 * MARGIN)
    for i, line in enumerate(lines):
        ops.append(("text", (MARGIN, y + i * round(size * 1.3)), line, size, FG, "la"))
    return ops


def frame_1d(scene, text: str, header: str) -> Image.Image:
    """The picture of one step, painted whole."""
    ops = frame_ops(scene, text, header)
    image = Image.new("RGB", SIZE, BG)
    paint(image, ops, [box_of(op) for op in ops], (0, 0, *SIZE))
    return image
