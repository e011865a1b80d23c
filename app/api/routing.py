"""A route class for JSON APIs: strict JSON parsing by orjson, a content-type check, and all
of a request's work kept off the event loop.

orjson rejects what the stdlib's ``json`` lets through — ``NaN``, ``Infinity``, numbers that
overflow to infinity such as ``1e400``, and nesting past 1,024 levels — and it is about ten
times faster on large arrays.

**Off the event loop.** FastAPI parses and validates a body on the event loop and runs only a
plain-``def`` endpoint in its thread pool. For a 2 MB body of nested arrays the parse and the
structure check hold the loop for 10-100 ms, and eight such requests at once held ``/healthz``
for 86 ms at the median (``bench/costs.py``). Here a route with a body reads the bytes on the
loop, then hands the whole of FastAPI's handler — parsing, validation, the endpoint and
rendering the response — to a worker thread, at most ``compute_threads`` at a time (the other
requests wait without holding the GIL). Endpoints are ``async def`` for that reason: they run
inside the worker, where a ``def`` would cost another hop to another thread.

The handler's coroutine is driven to completion right there: with the body already read,
nothing in it waits for I/O (dependencies and endpoints compute), so it finishes without an
event loop; one that yielded to one would be a bug, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from ..engine.errors import describe
from ..i18n import gettext
from ..workers import in_worker
from .errors import ApiError


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


def run_to_completion(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never waits for I/O, in the calling thread, without a loop.

    A bare ``yield`` (``asyncio.sleep(0)``, a checkpoint) is just resumed; a coroutine that
    yields a future would need an event loop to wake it, which this is not.
    """
    try:
        while True:
            awaited = coroutine.send(None)
            if awaited is not None:
                coroutine.close()
                raise RuntimeError(f"an API handler waited for {type(awaited).__name__}; "
                                   "handlers run in a worker thread and must not wait for I/O")
    except StopIteration as done:
        return done.value


class StrictJSONRoute(APIRoute):
    """Routes with a body accept ``application/json`` only (415 otherwise), and run in a
    worker thread (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            request = OrjsonRequest(request.scope, request.receive)
            if not takes_body:
                return await handler(request)
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json":
                got = describe(media) if media else gettext("none")
                raise ApiError(415, gettext("the body must be JSON, sent with Content-Type: "
                                            "application/json (got %(got)s)") % {"got": got},
                               code="unsupported_media_type")
            try:
                await request.body()  # read on the loop; the handler finds it cached
            except ClientDisconnect:  # as FastAPI answers it: nobody is left to read it
                raise HTTPException(400, gettext("the client left before the body ended")) \
                    from None
            return await in_worker(request, lambda: run_to_completion(handler(request)))

        return strict_handler
