"""The costliest GIFs the export limits accept (app/web/export.py): time, bytes and peak
memory (tracemalloc, and the process's RSS growth) of drawing and encoding each, in this
process, with no server. Prints one line per case; the figures go in the README ("Export").

    .venv/bin/python bench/export.py
"""

from __future__ import annotations

import resource
import time
import tracemalloc

from app.config import Settings
from app.web.export import Frames, encode_gif, planned_size
from app.web.parsing import parse_view_1d, parse_view_2d, parse_view_3d
from app.web.scene1d import Scene1D
from app.web.scene2d import Scene2D
from app.web.scene3d import Scene3D
from app.web.scenes import Budget

SETTINGS = Settings()
BUDGET = Budget.of(SETTINGS)
GRID = ";".join(",".join(str((r * 7 + c * 3) % 11 - 5) for c in range(13)) for r in range(13))
CASES = {
    # the lesson's two 1D stops: 266 frames of 800x480 (102 M pixels, the limit 105 M)
    "1d, the default (the lesson's first stop)": (Scene1D, parse_view_1d, {}),
    "1d, step and ramp, compare": (Scene1D, parse_view_1d,
                                   {"signal": "step", "kernel": "ramp", "compare": "1"}),
    # the other pages are charged 1024x768 a frame: 122 frames = 96 M pixels
    "2d, 13x13 input, 3x3 kernel": (Scene2D, parse_view_2d,
                                    {"x": GRID, "w": "1,0,-1;2,0,-2;1,0,-1"}),
    "2d, picture, 13x13 input": (Scene2D, parse_view_2d,
                                 {"x": GRID, "w": "1,2,1;2,4,2;1,2,1", "show": "picture"}),
    "3d, the default volume": (Scene3D, parse_view_3d, {}),
}


def main() -> None:
    for name, (scene_class, parse, query) in CASES.items():
        scene = scene_class(parse(query, SETTINGS), BUDGET)
        count = scene.steps + 1
        page = name.split(",")[0]
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        width, height = planned_size(page)
        pixels = count * width * height  # what the limit charges, before any step is seen
        accepted = count <= SETTINGS.export_max_frames and pixels <= SETTINGS.export_max_pixels
        frames = Frames(page, scene, list(range(count)))
        data = encode_gif(frames, 8.0) if accepted else b""
        elapsed = time.perf_counter() - start  # untraced: tracemalloc slows Python down
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
        tracemalloc.start()
        if accepted:
            encode_gif(Frames(page, scene, list(range(count))), 8.0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        repainted = getattr(frames, "repainted", 0) / max(1, count - 1)
        print(f"{name}: {count} frames of {frames.size[0]}x{frames.size[1]}, charged "
              f"{pixels / 1e6:.1f} M pixels, {'accepted' if accepted else 'REFUSED'}; "
              f"repainted {repainted / 1e3:.0f} k px a frame after the first; "
              f"{elapsed:.2f} s, {len(data) / 1e3:.0f} kB, peak {peak / 1e6:.1f} MB traced, "
              f"max RSS +{rss / 1e3:.0f} MB")


if __name__ == "__main__":
    main()
