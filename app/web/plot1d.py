"""The 1D page's plots as a picture: its own SVG plots (``plots_1d.html``, the shapes and
labels the page draws) painted with Pillow. Only the few elements those plots use are read:
``polyline``, ``polygon``, ``rect``, ``line``, ``circle`` and ``text``, styled by their class
as app.css styles them (light theme)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from PIL import Image, ImageDraw

from .draw import BG, FG, LINE_COLOUR, MARGIN, MUTED, PANEL, TAPS, font, wrap
from .templating import templates

F, G, OVERLAP, RESULT, OTHER = (0x00, 0x72, 0xB2), (0xD5, 0x5E, 0x00), (0xF0, 0xE4, 0x42), \
    FG, (0x8A, 0x85, 0x96)
BAND = (0xFA, 0xF5, 0xC8)  # the overlap's yellow at .35 on the panel
TEXT = 16  # px: every label at least this, whatever the plot's scale

#: where each plot goes (left, top) and its scale from SVG units to px
SIGNAL_SCALE, KERNEL_SCALE = 1.15, 1.1


def _points(text: str, scale: float, dx: float, dy: float) -> list[tuple[float, float]]:
    values = [float(v) for v in re.split(r"[ ,]+", text.strip()) if v]
    return [(dx + values[i] * scale, dy + values[i + 1] * scale)
            for i in range(0, len(values) - 1, 2)]


def _classes(element: ET.Element, parent: str) -> set[str]:
    return set((element.get("class", "") + " " + parent).split())


def paint_svg(draw: ImageDraw.ImageDraw, svg: str, left: float, top: float,
              scale: float) -> tuple[int, int]:
    """Paint one of the page's SVG plots at (left, top), ``scale`` px per SVG unit; return
    its size in px."""
    root = ET.fromstring(re.sub(r' xmlns="[^"]*"', "", str(svg)))
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    box = (left, top, left + width * scale, top + height * scale)
    draw.rectangle(box, fill=PANEL, outline=LINE_COLOUR)

    def at(x, y):
        return left + float(x) * scale, top + float(y) * scale

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
                    draw.line(points, fill=stroke, width=3, joint="curve")
            elif tag == "polygon":
                points = _points(child.get("points", ""), scale, left, top)
                if len(points) > 2:
                    draw.polygon(points, fill=OVERLAP)
            elif tag == "rect":
                x, y = at(child.get("x", 0), child.get("y", 0))
                w = float(child.get("width", 0)) * scale
                h = float(child.get("height", 0)) * scale
                if "band" in classes:
                    draw.rectangle((x, y, x + w, y + h), fill=BAND)
                elif "frame" in classes:
                    draw.rectangle((x, y, x + w, y + h), outline=LINE_COLOUR)
            elif tag == "line":
                a = at(child.get("x1", 0), child.get("y1", 0))
                b = at(child.get("x2", 0), child.get("y2", 0))
                if "axis" in classes or "tm" in classes:
                    draw.line((a, b), fill=MUTED, width=1)
                else:
                    colour = TAPS[tap % 8] if tap is not None and "win" in classes else stroke
                    draw.line((a, b), fill=colour, width=5 if "win" in classes else 3)
            elif tag == "circle":
                cx, cy = at(child.get("cx", 0), child.get("cy", 0))
                r = float(child.get("r", 4)) * scale
                fill = G if "marker" in classes or ("current" in classes) else stroke
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill,
                             outline=RESULT if "win" in classes else None)
            elif tag == "text" and (child.text or "").strip():
                x, y = at(child.get("x", 0), child.get("y", 0))
                anchor = "ls" if "start" in classes else "rs" if "end" in classes else "ms"
                if "ty" in classes:
                    anchor = anchor[0] + "m"
                if "unit" in classes:
                    anchor = "ls"
                draw.text((x, y), child.text.strip(), font=font(TEXT),
                          fill=MUTED if "ticks" in inherited or "tx" in classes
                          or "ty" in classes else FG, anchor=anchor)

    walk(root, "")
    return int(width * scale), int(height * scale)


def frame_1d(scene, text: str, header: str) -> Image.Image:
    """The 1D page at the scene's step: the input plot with the kernel (and the kernel plot
    beside it), the output plot under it, the step's arithmetic under both."""
    plots = templates.env.get_template("plots_1d.html").module
    image = Image.new("RGB", (1024, 768), BG)
    draw = ImageDraw.Draw(image)
    draw.text((1024 - MARGIN, MARGIN // 2), header, font=font(16), fill=MUTED, anchor="ra")
    y = MARGIN + 20
    draw.text((MARGIN, y), "x, w", font=font(20), fill=FG)
    _, h = paint_svg(draw, plots.input_plot(scene, scene.step), MARGIN, y + 28, SIGNAL_SCALE)
    kx = MARGIN + 600 * SIGNAL_SCALE + MARGIN
    draw.text((kx, y), "w", font=font(20), fill=FG)
    paint_svg(draw, plots.kernel_plot(scene), kx, y + 28, KERNEL_SCALE)
    y += 28 + h + MARGIN
    draw.text((MARGIN, y), "y", font=font(20), fill=FG)
    _, h = paint_svg(draw, plots.output_plot(scene, scene.step), MARGIN, y + 28, SIGNAL_SCALE)
    y += 28 + h + MARGIN
    size = 22
    lines = wrap(text, size, 1024 - 2 * MARGIN)
    while len(lines) * size * 1.3 > 768 - y - MARGIN and size > 14:
        size -= 2
        lines = wrap(text, size, 1024 - 2 * MARGIN)
    for i, line in enumerate(lines):
        draw.text((MARGIN, y + i * size * 1.3), line, font=font(size), fill=FG)
    return image
