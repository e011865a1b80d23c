"""How /network is answered: the URL read leniently, the run advanced in the compute process
(at most ``network_request_digits`` digits' worth of steps from the nearest checkpoint), the
scene drawn whole or as its fragment.

Where it runs: the URL is read on the event loop (a few fields); the training steps run in
the compute process (:func:`app.workers.in_process`), waited for from a plain thread that
holds none of the app's compute threads: a slice of training is hundreds of small NumPy
calls, which in a thread of this process would starve the event loop of the GIL (the convoy
``app/workers.py`` measured), and holding a compute thread while it trains made every other
page build wait behind it (a /2d page's p50 123 ms while one client trained live, at load 9).
The scene and its template are then drawn in a compute thread (:func:`app.workers.in_worker`)
as the other pages' builds are, 10-30 ms.
"""

from __future__ import annotations

import anyio
from fastapi import Request
from fastapi.responses import Response

from ..engine.errors import ConvolutionError
from ..engine.training import advance
from ..workers import in_process, in_worker
from .formats import formatted
from .forms import Form, parse_leniently, too_long
from .lesson import place
from .links import with_lang
from .scene_network import SceneNetwork, ViewNetwork, parse_view_network, request_budget
from .templating import templates

#: the poller's id: its requests replace the address instead of adding a history entry
POLL_ID = "net-poll"


def _fragment(request: Request) -> bool:
    headers = request.headers
    return headers.get("hx-request") == "true" and "hx-history-restore-request" not in headers


async def network_response(request: Request) -> Response:
    """The page, or its scene fragment (or a player's step) for an htmx request."""
    settings = request.app.state.settings
    size = len(request.scope.get("query_string", b""))
    trained, error, limit, status, errors = None, None, None, 200, {}
    if size > settings.page_max_query_bytes:
        view = ViewNetwork()
        error = too_long(size, settings.page_max_query_bytes)
        limit, status = "page_max_query_bytes", 414
    else:
        view, errors = parse_leniently(parse_view_network, request.query_params, settings)
        if errors:
            limit = next((e.limit for e in errors.values() if e.limit), None)
            error = "; ".join(e.message for e in errors.values())
            status = 413 if limit else 422
        else:
            try:
                trained = await anyio.to_thread.run_sync(
                    in_process, advance, view.config, view.target,
                    request_budget(view, settings), settings.network_runs,
                    settings.network_checkpoints)
            except ConvolutionError as exc:  # e.g. a batch larger than the training set
                error, status = exc.message, 422
    return await in_worker(request, _render, request, view, trained, error, limit, status,
                           errors)


def _render(request: Request, view: ViewNetwork, trained, error, limit, status,
            errors) -> Response:
    settings = request.app.state.settings
    scene = SceneNetwork(view, trained) if trained is not None else None
    if "format" in request.query_params:  # the scene as a picture (app/web/formats.py)
        return formatted(request, "network", view, scene, error, status)
    form = Form.of(request.query_params, errors)
    shown = scene.shown_query() if scene else view.query()
    context = {
        "page": "network", "view": view, "scene": scene, "error": error, "limit": limit,
        "form": form, "field_errors": form.invalid, "projector": view.projector,
        "settings": settings, "poll_id": POLL_ID,
        "place": place("/network", view.scene_query(), view.tour, view.projector),
    }
    headers = {"Vary": "HX-Request"}
    if not _fragment(request):
        return templates.TemplateResponse(request, "page_network.html", context,
                                          status_code=status, headers=headers)
    if scene is not None and "prev" in request.query_params:  # a player's step
        return templates.TemplateResponse(request, "page_network.html", context,
                                          headers=headers, block_name="step")
    url = f"/network?{shown}" if shown else "/network"
    polled = request.headers.get("hx-trigger") == POLL_ID
    headers["HX-Replace-Url" if polled or errors else "HX-Push-Url"] = with_lang(url)
    return templates.TemplateResponse(request, "page_network.html", context,
                                      status_code=status, headers=headers, block_name="scene")
