"""The worker threads that compute: API requests and page builds run there, a bounded number
at a time (``compute_threads``), so the event loop stays free to answer everyone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from starlette.requests import Request

T = TypeVar("T")


def compute_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's bound on requests computing at once, made on first use: a limiter belongs
    to the event loop that runs the app."""
    state = request.app.state
    limiter = getattr(state, "compute_limiter", None)
    if limiter is None:
        limiter = state.compute_limiter = anyio.CapacityLimiter(
            state.settings.compute_threads)
    return limiter


async def in_worker(request: Request, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread, once one of the app's is free."""
    return await anyio.to_thread.run_sync(function, *args, limiter=compute_limiter(request))
