"""The pages: ``/`` (the lesson as a path of stops) and ``/2d`` (a kernel sliding over a grid).

One URL serves a page and its fragments: a plain request gets the whole page; an HTMX request
gets the ``scene`` block (after a parameter change) or, when the player asks for a step
with ``prev``, the ``step`` block: the arithmetic and only the cells that changed, swapped
out of band. Every response says ``Vary: HX-Request``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..engine import PADDING_MODES
from ..presets import IMAGES_2D, KERNELS_2D
from .scene2d import explain
from .state import SPEEDS, StateError, parse_view_2d
from .templating import templates

router = APIRouter(include_in_schema=False)


def _wants_fragment(request: Request) -> bool:
    headers = request.headers
    return headers.get("hx-request") == "true" and "hx-history-restore-request" not in headers


@router.get("/")
def home(request: Request) -> Response:
    """The lesson, stop by stop, each with a live link to the page that shows it."""
    return templates.TemplateResponse(request, "home.html", {"page": "home"})


@router.get("/2d")
def page_2d(request: Request) -> Response:
    """The 2D page, its workspace fragment, or one step's changes."""
    query = request.query_params
    try:
        view, error = parse_view_2d(query), None
    except StateError as exc:
        view, error = parse_view_2d({}), f"{exc.field}: {exc.message}"
    scene, engine_error, formulas = explain(view)
    error = error or engine_error
    base = view.query(step=0)
    context = {
        "page": "2d", "view": view, "scene": scene, "error": error, "formulas": formulas,
        "images": IMAGES_2D, "kernels": KERNELS_2D, "padding_modes": PADDING_MODES,
        "speeds": SPEEDS, "base": f"/2d?{base}" if base else "/2d?",
        "projector": view.projector,
    }
    status = 422 if error else 200
    headers = {"Vary": "HX-Request"}
    if not _wants_fragment(request):
        return templates.TemplateResponse(request, "page_2d.html", context, status_code=status,
                                          headers=headers)
    if scene is not None and "prev" in query and not error:
        try:
            previous = min(max(int(query["prev"]), 0), scene.steps)
        except ValueError:
            previous = 0
        context["changed_inputs"], context["changed_outputs"] = scene.changed_cells(previous)
        return templates.TemplateResponse(request, "page_2d.html", context, headers=headers,
                                          block_name="step")
    canonical = view.query()
    headers["HX-Push-Url"] = f"/2d?{canonical}" if canonical else "/2d"
    # a preset choice rewrites its values box; other edits leave the form alone, so nothing
    # the person is typing elsewhere is lost
    context["refresh"] = {"input": "x", "kernel": "w"}.get(
        request.headers.get("hx-trigger-name", ""))
    return templates.TemplateResponse(request, "page_2d.html", context, status_code=status,
                                      headers=headers, block_name="scene")


