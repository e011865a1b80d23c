"""The compute process: long Python-level work runs in a process of its own (so it cannot
starve the event loop of the GIL), and a dead one is replaced without a failed request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app import workers

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_compute_process_ends_when_its_server_is_killed(tmp_path):
    """A server killed outright (no exit handlers run) leaves no compute process behind."""
    script = tmp_path / "server.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from app import workers\n"
        "if __name__ == '__main__':\n"
        "    print(workers.in_process(os.getpid), flush=True)\n"
        "    os.kill(os.getpid(), 9)\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60)
    child = int(run.stdout.split()[0])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the process to go, bounded by the deadline
    assert not Path(f"/proc/{child}").exists() or \
        "Z" in Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[0]
