"""Uploading a picture to the 2D page, over real HTTP through uvicorn, with real files made by
Pillow here: a PNG and a JPEG arrive as a /2d address carrying their grey pixels; a damaged
file, a file that is no picture, a 20 MB file and a decompression bomb are refused on the
page, with the reason, never a 500."""

from __future__ import annotations

import html
import io
import re
import struct
import zlib
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from app.web.parsing import parse_view_2d
from tests.conftest import LiveServer


def photo(width: int = 120, height: int = 90) -> Image.Image:
    """A photo-like RGB picture: a sky gradient, a dark disc, a bright bar."""
    y, x = np.mgrid[0:height, 0:width]
    sky = 40 + 170 * y / height
    disc = (x - width * .35) ** 2 + (y - height * .55) ** 2 < (height * .3) ** 2
    bar = (abs(x - width * .75) < width * .06) & (y > height * .2)
    grey = np.where(disc, 20, np.where(bar, 250, sky))
    rgb = np.stack([grey, grey * .9, grey * .8], -1).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def encoded(picture: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def upload(client: httpx.Client, data: bytes, name: str = "picture.png",
           query: str = "") -> httpx.Response:
    return client.post(f"/2d/upload{query}", files={"image": (name, data)})


def message(response: httpx.Response) -> str:
    found = re.search(r'id="upload-error"[^>]*>([^<]*)<', response.text)
    assert found, response.text[:300]
    return html.unescape(found.group(1))


def pixels_of(location: str) -> np.ndarray:
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    view = parse_view_2d(query, Settings())
    assert view.show == "picture"
    return np.array(view.input_values)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_picture_arrives_as_an_address_of_its_grey_pixels(client: httpx.Client,
                                                            fmt: str) -> None:
    picture = photo()
    response = upload(client, encoded(picture, fmt), f"photo.{fmt.lower()}",
                      "?kernel=sharpen&padding=1")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/2d?") and "kernel=sharpen" in location
    assert "padding=1" in location
    pixels = pixels_of(location)
    assert pixels.shape == (24, 32)  # 120x90 fitted into 32x32, its aspect kept
    # Pillow directly, the reference: grey (ITU-R 601 luma) of the picture shrunk to 32x24
    expected = np.asarray(picture.convert("L").resize((32, 24), Image.Resampling.LANCZOS), float)
    tolerance = 3 if fmt == "PNG" else 12  # a JPEG's own loss, and its decoding at 1/2 size
    assert np.abs(pixels - expected).mean() < tolerance
    assert pixels[13, 11] < 60 and pixels[15, 24] > 200  # the dark disc, the bright bar
    page = client.get(location)
    assert page.status_code == 200 and 'aria-label="Input picture"' in page.text


def test_a_transparent_png_is_laid_on_white_and_a_small_one_not_enlarged(
        client: httpx.Client) -> None:
    rgba = Image.new("RGBA", (5, 4), (0, 0, 0, 0))
    rgba.putpixel((2, 1), (0, 0, 0, 255))
    pixels = pixels_of(upload(client, encoded(rgba, "PNG")).headers["location"])
    assert pixels.shape == (4, 5)
    assert pixels[1, 2] == 0 and pixels[0, 0] == 255


def test_a_damaged_file_is_refused_with_the_reason(client: httpx.Client) -> None:
    response = upload(client, encoded(photo(), "PNG")[:300])
    assert response.status_code == 422
    assert "damaged" in message(response) and "truncated" in message(response)
    broken_jpeg = encoded(photo(), "JPEG")[:200] + b"\0" * 50
    assert upload(client, broken_jpeg, "p.jpg").status_code == 422


def test_a_file_that_is_no_png_or_jpeg_is_refused(client: httpx.Client) -> None:
    for data in (b"just some text", encoded(photo(), "GIF")):
        response = upload(client, data, "notes.txt")
        assert response.status_code == 415
        assert "not a PNG or JPEG" in message(response)


def test_an_empty_form_says_to_choose_a_file(client: httpx.Client) -> None:
    response = client.post("/2d/upload", files={"other": ("a", b"b")})
    assert response.status_code == 400 and "Choose a PNG or JPEG" in message(response)
    response = client.post("/2d/upload", content=b"x=1",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


def test_a_20_mb_file_is_refused_before_it_is_read(client: httpx.Client) -> None:
    big = encoded(photo(), "PNG") + b"\0" * 20_000_000
    response = upload(client, big)
    assert response.status_code == 413
    assert "at most 2,000,000 bytes (upload_max_bytes)" in message(response)
    assert len(response.content) < 200_000  # the page, not an echo of the file


def test_a_big_file_sent_without_its_length_is_stopped_as_it_passes_the_limit(
        client: httpx.Client) -> None:
    boundary = "b0und4ry"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n").encode()

    def chunks():
        yield head
        for _ in range(400):  # 4 MB, in 10 kB pieces
            yield b"\0" * 10_000

    response = client.post("/2d/upload", content=chunks(),
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and "upload_max_bytes" in message(response)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (8-bit grey) and whose data is a few
    bytes: what a decompression bomb looks like before it is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_refused_before_decoding(client: httpx.Client) -> None:
    # 20000 x 20000 one-bit, made by Pillow: 400 megapixels in 48 kB
    bomb = encoded(Image.new("1", (20000, 20000)), "PNG")
    assert len(bomb) < 100_000
    response = upload(client, bomb)
    assert response.status_code == 413 and "decompression bomb" in message(response)
    # under Pillow's own limit, over the page's: refused from the header alone
    response = upload(client, png_header_only(5000, 5000))
    assert response.status_code == 413
    assert "5,000×5,000 = 25,000,000 pixels" in message(response)
    assert "upload_max_pixels" in message(response)


def test_a_refusal_keeps_the_view_the_address_carried(client: httpx.Client) -> None:
    response = upload(client, b"nope", query="?kernel=sobel-x&show=picture")
    assert response.status_code == 415
    assert 'value="sobel-x" selected' in response.text
    assert 'aria-label="Input picture"' in response.text
    assert 'role="alert"' in response.text


def test_the_limits_are_the_settings() -> None:
    settings = Settings(upload_max_bytes=10_000, upload_max_pixels=100)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        noise = np.random.default_rng(1).integers(0, 256, (90, 120), dtype=np.uint8)
        response = upload(http, encoded(Image.fromarray(noise), "PNG"))
        assert response.status_code == 413 and "10,000 bytes" in message(response)
        response = upload(http, encoded(Image.new("L", (20, 20)), "PNG"))
        assert response.status_code == 413 and "at most 100" in message(response)
