"""?format=png and ?format=gif over real HTTP, decoded with Pillow: sizes, frame counts and
durations from the URL's speed, the window where the engine's trace puts it, a picture's
grey levels in the order of the output's values (NumPy by the definition), the limits."""

from __future__ import annotations

import io
import itertools
import re

import httpx
import numpy as np
import pytest
from PIL import Image, ImageSequence

from app.config import Settings
from app.engine.trace import ForwardTrace
from app.web import draw
from app.web.export import Frames, sentence
from app.web.parsing import parse_view_2d
from app.web.scene2d import Scene2D
from app.web.scene_transposed import SceneTransposed
from app.web.scenes import Budget
from app.web.view_transposed import parse_view_transposed
from tests.conftest import LiveServer

LESSON = "x=0,1,2;3,4,5;6,7,8&w=0,1;2,3"  # the lecture's example: 3x3 input, 2x2 kernel
X = np.arange(9.0).reshape(3, 3)
W = np.array([[0.0, 1.0], [2.0, 3.0]])


def image(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    picture = Image.open(io.BytesIO(response.content))
    picture.load()
    assert picture.size[0] <= 1024 and picture.size[1] <= 768
    return picture


def frames(response: httpx.Response) -> list[Image.Image]:
    gif = image(response)
    assert gif.format == "GIF"
    return [(f.convert("RGB"), f.info["duration"]) for f in ImageSequence.Iterator(gif)]


def test_png_of_the_lesson_step_is_a_png_named_for_its_page_and_step(
        client: httpx.Client) -> None:
    response = client.get(f"/2d?{LESSON}&step=3&format=png")
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == \
        'inline; filename="convscope-2d-step3.png"'
    assert image(response).format == "PNG"
    download = client.get(f"/2d?{LESSON}&step=3&format=png&download=1")
    assert download.headers["content-disposition"] == \
        'attachment; filename="convscope-2d-step3.png"'


def test_gif_has_a_frame_per_step_each_as_long_as_the_speed_says(
        client: httpx.Client) -> None:
    # 3x3 ⋆ 2x2: four outputs, so steps 0..4; at 2 steps/s a frame is 500 ms
    shown = frames(client.get(f"/2d?{LESSON}&speed=2&format=gif"))
    assert len(shown) == 5
    assert [d for _, d in shown] == [500] * 5
    faster = frames(client.get(f"/2d?{LESSON}&speed=8&format=gif"))
    assert [d for _, d in faster] == [120] * 5  # 125 ms, to the GIF's hundredths
    pixels = [np.asarray(f) for f, _ in shown]
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(pixels))
    response = client.get(f"/2d?{LESSON}&format=gif")
    assert response.headers["content-type"] == "image/gif"
    assert Image.open(io.BytesIO(response.content)).info.get("loop") == 0  # loops forever


def _window_box(frame: Image.Image) -> tuple[int, int, int, int] | None:
    a = np.asarray(frame)
    ys, xs = np.nonzero(np.all(a == draw.WINDOW, axis=-1))
    if ys.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_the_window_in_each_frame_sits_over_the_cells_the_engine_trace_says(
        client: httpx.Client) -> None:
    shown = frames(client.get(f"/2d?{LESSON}&format=gif"))
    # where the input grid is drawn: the export's own geometry
    view = parse_view_2d({"x": "0,1,2;3,4,5;6,7,8", "w": "0,1;2,3"}, Settings())
    scene = Scene2D(view, Budget.of(Settings()))
    grid = Frames("2d", scene, list(range(5))).layout.grids[0][0]
    trace = ForwardTrace(X[None, None], W[None, None])
    assert _window_box(shown[0][0]) is None  # step 0: the kernel has not moved in yet
    for k in range(1, 5):
        rows, cols = np.asarray(trace.step(k - 1).position).T  # the window's cells
        expected = (grid.x + cols.min() * grid.cell - 3, grid.y + rows.min() * grid.cell - 3,
                    grid.x + (cols.max() + 1) * grid.cell + 2,
                    grid.y + (rows.max() + 1) * grid.cell + 2)
        assert _window_box(shown[k][0]) == expected, k


def test_a_picture_output_is_brightest_where_the_output_is_largest(
        client: httpx.Client) -> None:
    x = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3], [5, 8, 9, 7, 9], [3, 2, 3, 8, 4],
                  [6, 2, 6, 4, 3]], dtype=float)
    w = np.array([[1, 0], [0, 2]], dtype=float)
    out = np.array([[(x[r:r + 2, c:c + 2] * w).sum() for c in range(4)] for r in range(4)])
    query = {"x": ";".join(",".join(str(int(v)) for v in row) for row in x),
             "w": "1,0;0,2", "show": "picture", "scale": "each", "step": "16"}
    picture = np.asarray(image(client.get("/2d", params={**query, "format": "png"}))
                         .convert("L"))
    view = parse_view_2d(query, Settings())
    scene = Scene2D(view, Budget.of(Settings()))
    grid = Frames("2d", scene, [16]).layout.grids[2][0]  # the output's grid
    centre = grid.cell // 2
    greys = np.array([[picture[grid.y + r * grid.cell + centre, grid.x + c * grid.cell + centre]
                       for c in range(4)] for r in range(4)], dtype=float)
    assert np.unravel_index(greys.argmax(), greys.shape) == \
        np.unravel_index(out.argmax(), out.shape)
    order = np.argsort(out, axis=None, kind="stable")
    assert np.all(np.diff(greys.ravel()[order]) >= 0)  # greys rise as the values do
    assert greys.min() == 0 and greys.max() == 255  # each its own range: black to white


def test_a_gif_over_the_frame_limit_is_413_naming_it() -> None:
    # the 1D page's first signal: 265 steps, over a limit of 100 frames
    with LiveServer(Settings(export_max_frames=100)) as server:
        response = httpx.get(f"{server.url}/1d?format=gif", timeout=30)
    assert response.status_code == 413
    assert "export_max_frames" in response.text and "266 frames" in response.text


@pytest.mark.parametrize("url", ["/1d", "/1d?signal=step&kernel=ramp&compare=1"])
def test_the_lessons_1d_stops_are_gifs_of_every_step_each_frame_its_steps_png(
        client: httpx.Client, url: str) -> None:
    join = "&" if "?" in url else "?"
    response = client.get(f"{url}{join}format=gif")
    gif = image(response)
    steps = int(re.search(r'data-steps="(\d+)"', client.get(url).text).group(1))
    assert gif.n_frames == steps + 1 == 266  # steps 0 to the player's last
    assert gif.size == (800, 480)  # a slide's picture
    palette = Image.new("P", (1, 1))
    palette.putpalette(gif.getpalette())  # the GIF's own colours, read from the file
    for step in (0, 1, 66, 133, 265):
        gif.seek(step)
        shown = np.asarray(gif.convert("RGB"))
        # the page's PNG at that step, painted whole, in the GIF's colours: every pixel alike
        png = image(client.get(f"{url}{join}step={step}&format=png"))
        assert png.size == (800, 480)
        expected = png.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
        assert np.array_equal(shown, np.asarray(expected)), step


def test_a_picture_keeps_the_pages_lines_as_lines() -> None:
    # /transposed?input=ones4&kernel=k3&stride=2 at step 5: the page writes three lines
    settings = Settings()
    view = parse_view_transposed({"input": "ones4", "kernel": "k3", "stride": "2",
                                  "step": "5"}, settings)
    lines = sentence("transposed", SceneTransposed(view, Budget.of(settings))).split("\n")
    assert lines == ["x(2,1) = 1 stamps 1 × kernel: 9 products onto y(3,1) … y(5,3)",
                     "y(3,1) complete: 1×1 + 1×1 = 2",
                     "3 more complete: y(3,2) = 2, y(4,1) = 1, y(4,2) = 1"]
    # and a line too long for the picture is wrapped within it, each line on its own
    wrapped = draw.wrap("\n".join(lines), 40, 600)
    assert wrapped[:3] == ["x(2,1) = 1 stamps 1 × kernel:", "9 products onto y(3,1) …",
                           "y(5,3)"]  # a new line where the page's line ends
    assert "y(3,1) complete: 1×1 + 1×1" in wrapped and "3 more complete: y(3,2) = 2," in \
        wrapped
    assert all(draw.text_width(line, 40) <= 600 for line in wrapped)


def test_a_gif_over_the_pixel_budget_is_413_naming_it() -> None:
    with LiveServer(Settings(export_max_pixels=500_000)) as server:
        response = httpx.get(f"{server.url}/2d?{LESSON}&format=gif", timeout=30)
    assert response.status_code == 413
    assert "export_max_pixels" in response.text


def test_an_unknown_format_is_422_naming_the_field(client: httpx.Client) -> None:
    response = client.get("/2d?format=bmp")
    assert response.status_code == 422
    assert response.text.startswith("format:") and "png" in response.text


def test_network_has_a_png_and_says_why_it_has_no_gif(client: httpx.Client) -> None:
    assert image(client.get("/network?format=png")).format == "PNG"
    response = client.get("/network?format=gif")
    assert response.status_code == 422 and "no GIF" in response.text


PAGES = ["/1d?stride=3", "/2d", "/2d?show=picture", "/3d", "/channels", "/backprop",
         "/backprop?part=input", "/matrix", "/transposed", "/pool", "/pool?part=backward"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_a_png_and_a_gif(client: httpx.Client, url: str) -> None:
    join = "&" if "?" in url else "?"
    assert image(client.get(f"{url}{join}step=1&format=png")).format == "PNG"
    steps = int(re.search(r'data-steps="(\d+)"', client.get(url).text).group(1))
    gif = image(client.get(f"{url}{join}format=gif"))
    assert gif.format == "GIF"
    assert gif.n_frames == steps + 1  # steps 0 to the player's last


def test_a_gif_while_another_is_drawn_is_503_and_draws_nothing() -> None:
    # one GIF at a time: while one is being drawn (the lock held, as its request holds it),
    # another is told to come back, at once with no wait allowed, and the next one is drawn
    from app.web import export

    with LiveServer(Settings(export_gif_wait_seconds=0)) as server:
        url = f"{server.url}/2d?{LESSON}&format=gif"
        assert export._ONE_GIF.acquire(timeout=5)
        try:
            busy = httpx.get(url, timeout=30)
        finally:
            export._ONE_GIF.release()
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "2"
        assert "export_gif_wait_seconds" in busy.text
        assert len(frames(httpx.get(url, timeout=30))) == 5
