"""The pages: ``/`` (the lesson as a path of stops), ``/1d``, ``/2d``, ``/3d``, ``/channels``,
``/backprop``, ``/matrix``, ``/transposed``, ``/pool`` and ``/network``.

One URL serves a page and its fragments: a plain request gets the whole page; an HTMX request
gets the ``scene`` block (after a parameter change) or, when the player asks for a step
with ``prev``, the ``step`` block: the arithmetic and only the cells that changed, swapped
out of band. Every response says ``Vary: HX-Request``.

A page that cannot be drawn says why on the page: 422 for a value it cannot use, 413 for a
setting over one of the page limits of :class:`~app.config.Settings` (the limit is named),
414 for a query string longer than ``page_max_query_bytes``. A value it cannot use is shown
in its field as the URL has it, marked invalid with its message (:mod:`.forms`); after an
edit, the URL keeps it too (``HX-Replace-Url``, so a typo adds no history entry).

Where a page is made: a player's step update of a scene already built is answered on the
event loop. Rendering is pure Python, which holds the GIL, so a thread gains nothing there and
costs a hop; on the loop a 2D step update served twice the requests at peak, and at half of
that its p99 fell from 19 ms to 4 ms (``bench/load.py``); it costs 2-5 ms, bounded by the
window. Everything else — building a scene, drawing a whole page — runs in the app's worker
threads, as the API does (:mod:`app.workers`): a scene that replays 500 training updates took
130 ms, a 32x32 page with a 9x9 kernel 30 ms, and on the loop no one else is answered
meanwhile. The finite-difference check runs in the thread pool too.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape

from ..engine import PADDING_MODES
from ..engine.cost import forward_cost
from ..i18n import N_, gettext
from ..presets import BACKPROP, CHANNELS, IMAGES_2D, KERNELS_2D, VOLUMES, signal_titles
from ..workers import in_worker
from . import code as _code  # noqa: F401  (registers ?format=numpy and torch)
from . import export as _export  # noqa: F401  (registers ?format=png and gif)
from . import playback
from .controls import slider_ranges
from .formats import formatted
from .forms import Form, parse_leniently, too_long
from .lesson import STOPS, place, tour_url
from .links import with_lang
from .network_page import network_response
from .parsing import (
    StateError,
    flag,
    parse_view_1d,
    parse_view_2d,
    parse_view_3d,
    parse_view_backprop,
    parse_view_channels,
)
from .scene1d import Scene1D
from .scene2d import Scene2D
from .scene3d import Scene3D
from .scene_backprop import SceneBackprop
from .scene_channels import SceneChannels
from .scene_matrix import MATRICES, SceneMatrix, parse_view_matrix, small_inputs, small_kernels
from .scene_pool import ScenePool
from .scene_transposed import SceneTransposed
from .scenes import Budget, Explained, TooBig, explain, is_built
from .templating import templates
from .upload import UploadError, grey_pixels, image_bytes, read_body
from .view_pool import CONV_KERNELS, INPUTS, parse_view_pool
from .view_transposed import INPUTS_T, KERNELS_T, parse_view_transposed
from .views import View2D

router = APIRouter(include_in_schema=False)


def _wants_fragment(request: Request) -> bool:
    headers = request.headers
    return headers.get("hx-request") == "true" and "hx-history-restore-request" not in headers


PAGES = ("/", "/1d", "/2d", "/3d", "/channels", "/backprop", "/matrix", "/transposed",
         "/pool", "/network", "/docs", "/tour")


def not_found(request: Request) -> Response:
    """A 404 for an address that is no page: the navigation, a link to the lesson, and the
    page the address most likely meant (``/2D`` is ``/2d``)."""
    path = request.url.path
    guess = path.lower().rstrip("/") or "/"
    suggestion = guess if guess in PAGES and guess != path else None
    if suggestion and request.url.query:
        suggestion += f"?{request.url.query}"
    if suggestion:
        suggestion = with_lang(suggestion)
    return templates.TemplateResponse(request, "not_found.html", {
        "page": None, "path": path, "suggestion": suggestion}, status_code=404)


@router.get("/")
async def home(request: Request) -> Response:
    """The lesson, stop by stop, each with a live link to the page that shows it."""
    projector = flag(request.query_params, "projector")
    return templates.TemplateResponse(request, "home.html", {
        "page": "home", "projector": projector, "stops": STOPS,
        "tour_url": lambda number: tour_url(number, projector)})


@router.get("/tour")
async def tour(request: Request) -> Response:
    """The lesson's tour: a redirect to its first stop (``?stop=N``: to stop N)."""
    number = request.query_params.get("stop", "1")
    if not number.isdigit() or not 1 <= int(number) <= len(STOPS):  # the 404 offers /tour
        return templates.TemplateResponse(request, "not_found.html", {
            "page": None, "path": f"/tour?{request.url.query}", "suggestion": "/tour"},
            status_code=404)
    return RedirectResponse(tour_url(int(number), flag(request.query_params, "projector")),
                            status_code=303)


def _view_and_scene(request: Request, parse, scene_class):
    """The view the query asks for and its scene, or the default view and why not, with the
    status to answer (see above)."""
    settings = request.app.state.settings
    size = len(request.scope.get("query_string", b""))
    if size > settings.page_max_query_bytes:
        message = too_long(size, settings.page_max_query_bytes)
        return (parse({}, settings), Explained(None, message, limit="page_max_query_bytes"),
                414, {})
    view, errors = parse_leniently(parse, request.query_params, settings)
    if errors:
        limit = next((e.limit for e in errors.values() if e.limit), None)
        message = "; ".join(e.message for e in errors.values())
        return view, Explained(None, message, limit=limit), 413 if limit else 422, errors
    explained = explain(scene_class, view, Budget.of(settings))
    status = 200 if explained.scene is not None else 413 if explained.limit else 422
    return view, explained, status, {}


async def _render(request: Request, template: str, page: str, parse, scene_class,
                  extra: dict) -> Response:
    """A page, its scene fragment or one step's changes, as the request asks (see above).

    Where it runs: a step update whose scene is kept costs only its step (2-5 ms) and is
    answered on the event loop, as the module docstring says why. Anything that builds a
    scene or draws a whole page runs in a worker thread, as the API's requests do: a scene
    that replays 500 training updates took 130 ms, and on the loop that would be 130 ms in
    which no one else is answered.
    """
    if _is_cheap_step(request, parse, scene_class):
        return _quietly(request, template, page, parse, scene_class, extra)
    return await in_worker(request, _quietly, request, template, page, parse, scene_class,
                           extra)


def _is_cheap_step(request: Request, parse, scene_class) -> bool:
    """A player's step update (a fragment with ``prev``) of a scene that is kept."""
    if not _wants_fragment(request) or "prev" not in request.query_params:
        return False
    settings = request.app.state.settings
    if len(request.scope.get("query_string", b"")) > settings.page_max_query_bytes:
        return True  # refused at once
    try:
        view = parse(request.query_params, settings)
    except StateError:
        return True  # refused at once, with the reason
    return is_built(scene_class, view, Budget.of(settings))


def _quietly(request: Request, template: str, page: str, parse, scene_class,
             extra: dict) -> Response:
    """Values a page takes (finite, as typed) can still overflow, 1e300 × 1e300: the page
    shows the engine's ∞ or NaN as such, so the float warnings are not errors here."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _rendered(request, template, page, parse, scene_class, extra)


def _rendered(request: Request, template: str, page: str, parse, scene_class,
              extra: dict) -> Response:
    query = request.query_params
    view, (scene, error, formulas, limit), status, errors = _view_and_scene(request, parse,
                                                                            scene_class)
    if "format" in query:  # the scene as a picture or a script (app/web/formats.py)
        return formatted(request, page, view, scene, error, status)
    speeds = playback.speeds(page)
    if scene is not None:  # the step the player shows, not one past its end; a speed it lists
        view = replace(view, step=scene.step, speed=playback.playable(view.speed, speeds))
    form = Form.of(query, errors)
    base = view.query(step=0)
    context = {
        "page": page, "view": view, "scene": scene, "error": error, "formulas": formulas,
        "limit": limit, "form": form, "field_errors": form.invalid,
        "padding_modes": PADDING_MODES, "speeds": speeds, "projector": view.projector,
        "base": with_lang(f"/{page}?{base}" if base else f"/{page}?"),
        "place": place(f"/{page}", view.scene_query(), view.tour, view.projector), **extra,
    }
    headers = {"Vary": "HX-Request"}
    if not _wants_fragment(request):
        return templates.TemplateResponse(request, template, context, status_code=status,
                                          headers=headers)
    if scene is not None and "prev" in query:
        try:
            previous = min(max(int(query["prev"]), 0), scene.steps)
        except ValueError:
            previous = 0
        if hasattr(scene, "changed_cells"):  # the others re-draw their small plots whole
            context["changed_inputs"], context["changed_outputs"] = \
                scene.changed_cells(previous)
        context["previous"] = previous
        return templates.TemplateResponse(request, template, context, headers=headers,
                                          block_name="step")
    canonical = "&".join(q for q in (view.query(), form.query()) if q)
    url = f"/{page}?{canonical}" if canonical else f"/{page}"
    # a typo keeps its address, bad value and all, and adds no history entry: Back still
    # goes where the person was
    headers["HX-Replace-Url" if errors else "HX-Push-Url"] = with_lang(url)
    # the sliders' ranges move with the input and the kernel (app/web/controls.py); app.js
    # sets them from this event, without touching the form a person may be dragging in
    headers["HX-Trigger"] = json.dumps({"convscope:ranges": slider_ranges(view)})
    # a preset choice rewrites its values box; other edits leave the form alone, so nothing
    # the person is typing elsewhere is lost
    trigger = request.headers.get("hx-trigger-name", "")
    context["refresh"] = {"input": "x", "signal": "x", "kernel": "w"}.get(trigger)
    # edited values (typed or drawn) turn their preset chooser to "custom", or back
    context["edited"] = trigger if trigger in ("x", "w") else None
    context["trigger"] = trigger
    return templates.TemplateResponse(request, template, context, status_code=status,
                                      headers=headers, block_name="scene")


@router.get("/2d")
async def page_2d(request: Request) -> Response:
    """The 2D page, its scene fragment, or one step's changes."""
    return await _render(request, "page_2d.html", "2d", parse_view_2d, Scene2D,
                         page_2d_extra(request.app.state.settings))


def page_2d_extra(settings, upload_error: str | None = None) -> dict:
    """What the 2D page's template needs besides its scene: presets, grey scales, the
    upload's limits and, after a refused upload, why."""
    grey_scales = {key: gettext(words) for key, words in GREY_SCALES.items()}
    return {"images": IMAGES_2D, "kernels": KERNELS_2D, "grey_scales": grey_scales,
            "upload_limit": f"{settings.upload_max_bytes / 1e6:g} MB",
            "upload_side": settings.page_max_grid_side, "upload_error": upload_error}


#: the grey scales a picture can have (:data:`~app.web.views.SCALES`), as the chooser says them
GREY_SCALES = {"shared": N_("One for both (their whole range)"),
               "input": N_("The input's, for both (clips)"),
               "each": N_("Each picture its own")}


#: where the 2D page's picture upload goes (it caps its own body: app.web.upload)
UPLOAD_2D = "/2d/upload"


@router.post(UPLOAD_2D)
async def upload_2d(request: Request) -> Response:
    """A picture of one's own: a redirect (303) to the 2D page showing it, its grey pixels as
    the input of the view its address carries (``/2d/upload?kernel=sharpen``)."""
    settings = request.app.state.settings
    body = await read_body(request, settings.upload_max_bytes)
    data = await image_bytes(request, body)
    pixels = await in_worker(request, grey_pixels, data, settings.upload_max_pixels,
                             settings.page_max_grid_side)
    view, _ = parse_leniently(parse_view_2d, request.query_params, settings)
    x = tuple(tuple(float(v) for v in row) for row in pixels)
    query = replace(view, input=View2D.input, x=x, show="picture", step=0).query()
    if len(query) > settings.page_max_query_bytes:  # 32x32 levels take 4 kB of 16
        raise UploadError(gettext("This picture's address would be %(size)s bytes, and a "
                                  "page takes %(most)s (page_max_query_bytes).")
                          % {"size": f"{len(query):,}",
                             "most": f"{settings.page_max_query_bytes:,}"}, 413)
    return RedirectResponse(with_lang(f"/2d?{query}"), status_code=303)


async def upload_refused(request: Request, exc: UploadError) -> Response:
    """The 2D page of the view the upload's address carries, saying why the picture was
    refused beside the upload field, with the refusal's status."""
    extra = page_2d_extra(request.app.state.settings, exc.message)
    response = await in_worker(request, _quietly, request, "page_2d.html", "2d",
                               parse_view_2d, Scene2D, extra)
    response.status_code = exc.status
    return response


@router.get("/backprop")
async def page_backprop(request: Request) -> Response:
    """The backprop page, its scene fragment, or one step's changes."""
    return await _render(request, "page_backprop.html", "backprop", parse_view_backprop,
                   SceneBackprop, {"presets": BACKPROP})


@router.get("/backprop/verify")
def verify_backprop(request: Request) -> Response:
    """A finite-difference check of the gradients on screen (a small fragment)."""
    _, explained, status, _ = _view_and_scene(request, parse_view_backprop, SceneBackprop)
    if explained.scene is None:
        return HTMLResponse(f"<p>{escape(explained.error)}</p>", status_code=status)
    scene = explained.scene
    try:  # two forward passes for every weight and every input value
        Budget.of(request.app.state.settings).check(
            cells=0, cost=forward_cost(scene.geom).times(2 * (scene.w.size + scene.x.size)))
    except TooBig as exc:
        return HTMLResponse(f"<p>{escape(str(exc))}</p>", status_code=413)
    return templates.TemplateResponse(request, "verify.html",
                                      {"errors": scene.finite_differences()})


@router.get("/matrix")
async def page_matrix(request: Request) -> Response:
    """The matrix page, its scene fragment, or one step's changes."""
    settings = request.app.state.settings
    return await _render(request, "page_matrix.html", "matrix", parse_view_matrix,
                         SceneMatrix, {
                             "images": small_inputs(settings.page_max_matrix_side),
                             "kernels": small_kernels(settings.page_max_matrix_kernel),
                             "matrices": {k: gettext(t) for k, t in MATRICES.items()},
                             "max_side": settings.page_max_matrix_side})
@router.get("/transposed")
async def page_transposed(request: Request) -> Response:
    """The transposed-convolution page, its scene fragment, or one step's changes."""
    return await _render(request, "page_transposed.html", "transposed", parse_view_transposed,
                         SceneTransposed, {"inputs": INPUTS_T, "kernels": KERNELS_T,
                                           "limits": request.app.state.settings})


@router.get("/channels")
async def page_channels(request: Request) -> Response:
    """The channels page, its scene fragment, or one step's changes."""
    return await _render(request, "page_channels.html", "channels", parse_view_channels,
                   SceneChannels, {"presets": CHANNELS})


@router.get("/3d")
async def page_3d(request: Request) -> Response:
    """The 3D page, its scene fragment, or one step's changes."""
    return await _render(request, "page_3d.html", "3d", parse_view_3d, Scene3D,
                   {"volumes": VOLUMES})


@router.get("/1d")
async def page_1d(request: Request) -> Response:
    """The 1D page, its scene fragment, or one step's changes."""
    return await _render(request, "page_1d.html", "1d", parse_view_1d, Scene1D,
                   {"signals": {k: (t, None) for k, t in signal_titles().items()}})


@router.get("/pool")
async def page_pool(request: Request) -> Response:
    """The pool page, its scene fragment, or one step's changes."""
    return await _render(request, "page_pool.html", "pool", parse_view_pool, ScenePool,
                         {"inputs": INPUTS,
                          "conv_kernels": {k: gettext(t) for k, t in CONV_KERNELS.items()}})


@router.get("/network")
async def page_network(request: Request) -> Response:
    """The digits CNN, trained from its URL (app/web/network_page.py), or its scene fragment."""
    return await network_response(request)
