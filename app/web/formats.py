"""A page's scene in another form than HTML: ``?format=NAME`` on any page URL (``png`` and
``gif``, the picture and the animation; ``numpy`` and ``torch``, a script that computes the
same numbers). Each form is a function registered here by its module; the pages answer an
unknown one with a 422 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from ..i18n import gettext

#: form name -> what makes it: (request, page, view, scene) -> response
FORMATS: dict[str, Callable[[Request, str, Any, Any], Response]] = {}


def register(name: str):
    """Register the decorated function as the maker of ``?format=name``."""
    def decorate(function):
        FORMATS[name] = function
        return function
    return decorate


def formatted(request: Request, page: str, view, scene, error: str | None,
              status: int) -> Response:
    """``?format=NAME``: the scene in that form, or why not as a plain-text 4xx."""
    name = request.query_params["format"]
    make = FORMATS.get(name)
    if make is None:
        known = ", ".join(sorted(FORMATS)) or "none"
        return PlainTextResponse(gettext("format: %(name)s is not a form of this page; it "
                                         "has %(known)s.")
                                 % {"name": repr(name[:40]), "known": known}, status_code=422)
    if scene is None:
        return PlainTextResponse(f"{error}", status_code=status)
    return make(request, page, view, scene)
