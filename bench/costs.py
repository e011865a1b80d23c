"""What the costliest requests really cost, and whether the server stays responsive while
eight clients send them. Prints Markdown tables.

Run: ``.venv/bin/python bench/costs.py [--seconds S] [--clients N]`` (``make faults`` runs it
after bench/faults.py; about half a minute).

uvicorn starts as the container starts it (the Dockerfile's CMD and ENV, one worker) on a
free 127.0.0.1 port, under a 3 GB address-space cap.

1. **Each request alone** (tests/api/worst.py: every row of the hardening issue's table and
   the worst request we could construct per code path): status, wall time, the server's CPU
   time and its resident memory at the peak above what it held before (Linux's clear_refs
   resets the peak between requests), and what it still holds after.
2. **/healthz under load**: ``--clients`` processes (8) each send the heaviest of those
   requests (then, a second time, backprop pages that replay 500 training updates, each a
   new scene) back to back for ``--seconds``, while this process asks for /healthz every
   20 ms on a connection of its own. The target is a p99 under 50 ms. The clients are
   separate processes, at a lower priority (nice 10), so that on a 2-core machine their own
   JSON work does not take the cores from the server and the probe: in production they are
   other machines.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.api.worst import ISSUE_ROWS, WORST, Costly  # noqa: E402
from tests.deploy.servers import Uvicorn  # noqa: E402

ADDRESS_SPACE = 3 << 30
HEALTH_P99_TARGET = 0.050  # seconds
JSON = {"content-type": "application/json"}


def alone(server: Uvicorn) -> list[str]:
    rows = ["| request | status | wall ms | server CPU ms | peak RSS +MB | kept +MB | "
            "request KB | response KB |", "|---|---|---|---|---|---|---|---|"]
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for row in ISSUE_ROWS + WORST:
            server.reset_peak()
            before = server.usage()
            start = time.perf_counter()
            reply = http.request(row.method, row.path, content=row.body, headers=JSON)
            wall = time.perf_counter() - start
            after = server.usage()
            rows.append(
                f"| {row.name} | {reply.status_code} | {wall * 1e3:.0f} | "
                f"{(after.cpu - before.cpu) * 1e3:.0f} | "
                f"{(after.peak - before.rss) / 2**20:.0f} | "
                f"{(after.rss - before.rss) / 2**20:.0f} | {len(row.body or b'') / 1e3:.0f} | "
                f"{len(reply.content) / 1e3:.0f} |")
    return rows


def heaviest(count: int) -> list[Costly]:
    """The accepted requests that took the most server CPU in a first measured pass."""
    chosen = [row for row in ISSUE_ROWS + WORST if 200 in row.statuses and row.body]
    return sorted(chosen, key=lambda row: -len(row.body))[:count]


def client(url: str, row: Costly, until: float, counts) -> None:
    os.nice(10)  # the load generator must not starve the server of the two cores
    with httpx.Client(base_url=url, timeout=60) as http:
        sent = 0
        while time.monotonic() < until:
            path = row.path.replace("{n}", str(sent))  # a new scene each time, where asked
            http.request(row.method, path, content=row.body, headers=JSON)
            sent += 1
            counts.put(1)


#: pages that build a scene each time (every η is a new scene): 500 replayed training updates
HEAVY_PAGES = [
    Costly(f"backprop page, {preset}, 500 updates", "GET",
           f"/backprop?preset={preset}&loss=mse&epoch=500&eta=0.00{{n}}1", None, (200,))
    for preset in ("learn-sobel", "channels", "lesson-2d", "lesson-1d")
]


def under_load(server: Uvicorn, clients: int, seconds: float,
               rows: list[Costly] | None = None) -> list[str]:
    rows = rows or heaviest(clients)
    counts = multiprocessing.Queue()
    until = time.monotonic() + seconds + 1
    workers = [multiprocessing.Process(target=client, args=(server.url, rows[i % len(rows)],
                                                            until, counts))
               for i in range(clients)]
    for worker in workers:
        worker.start()
    latencies = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        time.sleep(1)  # the clients' first requests under way
        while time.monotonic() < until - 0.5:
            start = time.perf_counter()
            http.get("/healthz")
            latencies.append(time.perf_counter() - start)
            time.sleep(0.02)
    for worker in workers:
        worker.join()
    served = 0
    while not counts.empty():
        served += counts.get()
    ms = np.array(latencies) * 1e3
    p99, target = np.percentile(ms, 99), HEALTH_P99_TARGET * 1e3
    verdict = "met" if p99 < target else "missed"
    return [
        f"{clients} clients sending {', '.join(sorted({r.name for r in rows}))}: "
        f"{served} heavy requests served in {seconds:.0f} s.", "",
        "| /healthz | probes | p50 ms | p99 ms | max ms | target |",
        "|---|---|---|---|---|---|",
        f"| under load | {len(ms)} | {np.percentile(ms, 50):.1f} | {p99:.1f} | {ms.max():.1f} | "
        f"p99 < {target:.0f} ms: {verdict} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp(prefix="convscope-costs-")) / "uvicorn.log"
    with Uvicorn(log, address_space=ADDRESS_SPACE) as server:
        start = server.usage()
        sections = [["### Each request alone", "",
                     f"Server at start: {start.rss / 2**20:.0f} MB resident.", "",
                     *alone(server)]]
        sections[0].append(f"\nServer after all of them: {server.usage().rss / 2**20:.0f} MB "
                           "resident.")
        sections.append(["### /healthz while clients send the heaviest requests", "",
                         *under_load(server, args.clients, args.seconds)])
        sections.append(["### /healthz while clients load pages that build big scenes", "",
                         *under_load(server, args.clients, args.seconds, HEAVY_PAGES)])
    print("\n\n".join("\n".join(section) for section in sections))


if __name__ == "__main__":
    main()
