"""A picture of one's own for the 2D page: a PNG or JPEG, uploaded, made grey and small enough
for the page, and handed back as a ``/2d`` address that carries its pixels (nothing is kept on
the server).

Every refusal is an :class:`UploadError`, said on the page (4xx) by the handler
:func:`app.web.pages.upload_refused`. What is refused, and when:

- a body over ``upload_max_bytes``: a declared ``Content-Length`` before any byte is read, else
  as soon as the bytes read pass it (413);
- not a form upload, or no file in it (400, 415);
- anything Pillow does not open as a PNG or a JPEG (415), or cannot decode (422);
- a picture over ``upload_max_pixels``, read from its header before anything is decoded (a
  decompression bomb: a 20000x20000 PNG is a few kB), or that Pillow itself takes for a bomb
  (413).

Decoding is Pillow's (a well-kept decoder of hostile files; hand-written PNG and JPEG decoding
would be neither small nor safe). A JPEG is decoded at 1/2 to 1/8 of its size where that still
leaves enough pixels (``Image.draft``), so a 12-megapixel photo decodes as 0.2 megapixels.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import AsyncIterator

import numpy as np
from fastapi import Request
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ..api.bodylimit import content_length
from ..i18n import gettext

FORMATS = ("PNG", "JPEG")


class UploadError(ValueError):
    """An upload the page refuses: ``message`` says why, ``status`` is the answer's."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _too_big(limit: int) -> UploadError:
    return UploadError(gettext("The file is too big: a picture may have at most %(most)s "
                               "bytes (upload_max_bytes): a smaller PNG or JPEG will do.")
                       % {"most": f"{limit:,}"}, 413)


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, at most ``limit`` bytes: refused before reading when its declared
    length is over, and as soon as what arrives passes it."""
    declared = content_length(request.headers.raw)
    if declared == -1:
        raise UploadError(gettext("The Content-Length header must be one whole number of "
                                  "bytes."), 400)
    if declared is not None and declared > limit:
        raise _too_big(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_big(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def image_bytes(request: Request, body: bytes) -> bytes:
    """The bytes of the form's ``image`` file."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UploadError(gettext("Send the picture as a file of the upload form "
                                  "(multipart/form-data)."), 415)

    async def stream() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=8,
                                     max_part_size=64_000).parse()
    except MultiPartException as exc:
        raise UploadError(gettext("The upload form could not be read: %(reason)s.")
                          % {"reason": exc.message}, 400) from None
    try:
        image = form.get("image")
        if not isinstance(image, UploadFile) or not image.filename:
            raise UploadError(gettext("Choose a PNG or JPEG file first, then Upload."), 400)
        data = await image.read()
    finally:
        await form.close()
    if not data:
        raise UploadError(gettext("The file %(name)s is empty.")
                          % {"name": repr(image.filename[:60])}, 400)
    return data


def grey_pixels(data: bytes, max_pixels: int, side: int) -> list[list[int]]:
    """``data`` (a PNG or JPEG) as grey levels 0-255, at most ``side`` pixels on its longer
    side (its aspect kept; never enlarged), its transparent parts on white."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
                width, height = opened.size  # from the header: nothing decoded yet
                if width * height > max_pixels:
                    raise UploadError(gettext(
                        "The picture is %(width)s×%(height)s = %(pixels)s pixels, and the page "
                        "decodes at most %(most)s (upload_max_pixels): it was refused before "
                        "decoding.") % {"width": f"{width:,}", "height": f"{height:,}",
                                        "pixels": f"{width * height:,}",
                                        "most": f"{max_pixels:,}"}, 413)
                opened.draft("L", (side, side))  # a JPEG decodes small; others ignore it
                picture = ImageOps.exif_transpose(opened)  # a phone's photo, upright
                if picture.mode not in ("L", "LA", "RGB", "RGBA"):
                    picture = picture.convert("RGBA")
                picture.thumbnail((side, side), Image.Resampling.LANCZOS)
                if "A" in picture.getbands():
                    white = Image.new("RGBA", picture.size, "white")
                    picture = Image.alpha_composite(white, picture.convert("RGBA"))
                grey = picture.convert("L")
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError(gettext(
                "Pillow takes this picture for a decompression bomb (far more pixels than its "
                "file's size suggests): refused."), 413) from None
        except UnidentifiedImageError:
            raise UploadError(gettext("This file is not a PNG or JPEG picture: choose a .png "
                                      "or .jpg file."), 415) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UploadError(gettext("The picture is damaged: Pillow could not decode it "
                                      "(%(reason)s).") % {"reason": str(exc)[:120]},
                              422) from None
    return np.asarray(grey).tolist()
