"""The compute process: long Python-level work runs in a process of its own (so it cannot
starve the event loop of the GIL), and a dead one is replaced without a failed request."""

from __future__ import annotations

import os
import signal

from app import workers


def test_work_runs_in_another_process_and_comes_back_whole():
    assert workers.in_process(os.getpid) != os.getpid()
    assert workers.in_process(divmod, 17, 5) == (3, 2)


def test_a_dead_compute_process_is_replaced():
    child = workers.in_process(os.getpid)
    os.kill(child, signal.SIGKILL)
    # the call that finds it dead is answered here; the next one starts a new process
    assert workers.in_process(os.getpid) == os.getpid()
    fresh = workers.in_process(os.getpid)
    assert fresh not in (child, os.getpid())
