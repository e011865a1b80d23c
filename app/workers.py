"""The worker threads that compute: API requests and page builds run there, a bounded number
at a time (``compute_threads``), so the event loop stays free to answer everyone else; and a
process for the long Python-level loops that would starve the loop even from a thread."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import anyio
from starlette.requests import Request

from . import i18n

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


# ---- a process for long Python-level computations ---------------------------------------
# A training replay is thousands of small NumPy calls, each letting go of the GIL and taking
# it back at once; a thread that does that starves a thread waiting for the GIL (CPython's
# "convoy"): with 500 replayed updates in a worker thread, the event loop answered /healthz
# at p99 84 ms (bench/costs.py). Such work runs in a process of its own instead, started on
# first use (spawned, so it shares no locks or BLAS threads with this one); the worker thread
# that asked waits for it without holding the GIL.

_process_pool: ProcessPoolExecutor | None = None
_process_lock = threading.Lock()


def _follow_parent(parent: int) -> None:
    """In the compute process: end when the server that started it has gone. A server that
    is killed (or stops without running its exit handlers) would otherwise leave it behind,
    and a restarted one would start another."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


#: how often the compute process checks that its server is still there
PARENT_CHECK_SECONDS = 0.5


def _in_locale(locale: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """In the compute process: ``function(*args, **kwargs)`` in the language ``locale`` (a
    context variable does not cross into another process), so its errors are said in the
    request's language. The process runs one call at a time, each setting its own."""
    i18n.set_locale(locale)
    return function(*args, **kwargs)


def in_process(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in the compute process, in the request's language;
    arguments and result are pickled. If that process has died, a new one is started for the
    next call and this one runs here."""
    global _process_pool
    with _process_lock:
        if _process_pool is None:
            _process_pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_follow_parent, initargs=(os.getpid(),))
        pool = _process_pool
    try:
        return pool.submit(_in_locale, i18n.current(), function, *args, **kwargs).result()
    except BrokenProcessPool:
        with _process_lock:
            if _process_pool is pool:
                _process_pool = None
        return function(*args, **kwargs)
