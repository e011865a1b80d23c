"""Load test on loopback: uvicorn with 1 and 2 workers, driven by an async httpx client.

Run: ``.venv/bin/python bench/load.py [--seconds S] [--concurrency C]``.

For each worker count, the server starts as the container starts it (``uvicorn app.main:app``,
``WEB_CONCURRENCY`` workers) on a free 127.0.0.1 port, and three requests are measured:

- a forward pass, 64x64 input, 3x3 kernel (``POST /api/v1/forward``);
- one step update of the 2D page (the fragment the player asks for);
- a whole page (``GET /2d``).

First at full concurrency (peak throughput), then paced at half that rate. Reported per row:
requests sent, errors, throughput and latency p50/p95/p99. The target (issue 8) is zero
errors and p99 < 100 ms at 50% of peak. Every loop is bounded in time and count, and only
loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MAX_REQUESTS = 20_000  # per phase, whatever the duration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": str(workers)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--no-server-header", "--log-level", "warning"],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def requests() -> dict[str, dict]:
    rng = np.random.default_rng(0)
    body = {"input": rng.normal(size=(1, 1, 64, 64)).round(3).tolist(),
            "weight": rng.normal(size=(1, 1, 3, 3)).round(3).tolist(), "padding": 1}
    return {
        "forward 64x64 k3": {"method": "POST", "url": "/api/v1/forward", "json": body},
        "2D step update": {"method": "GET", "headers": {"HX-Request": "true"},
                           "url": "/2d?input=digit28&kernel=sobel-x&step=301&prev=300"},
        "2D full page": {"method": "GET", "url": "/2d?input=digit"},
    }


async def run(client: httpx.AsyncClient, spec: dict, seconds: float, concurrency: int,
              rate: float | None) -> tuple[list[float], int, float]:
    """Send ``spec`` for ``seconds`` from ``concurrency`` loops (paced to ``rate`` per second
    in all when given). Returns latencies (ms), error count and elapsed seconds."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    interval = None if rate is None else concurrency / rate

    async def loop() -> None:
        nonlocal errors
        next_at = time.perf_counter()
        while time.perf_counter() < stop and len(latencies) + errors < MAX_REQUESTS:
            if interval is not None:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            started = time.perf_counter()
            try:
                response = await client.request(**spec)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - began


def line(name: str, phase: str, latencies: list[float], errors: int, elapsed: float) -> str:
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return (f"{name:18s} {phase:9s} {len(latencies) + errors:7d} {errors:6d} "
            f"{len(latencies) / elapsed:9.1f} {statistics.median(latencies):8.1f} "
            f"{q[94]:8.1f} {q[98]:8.1f}")


async def measure(url: str, seconds: float, concurrency: int) -> list[str]:
    rows = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        for name, spec in requests().items():
            await run(client, spec, 1.0, concurrency, None)  # warm-up
            lat, err, elapsed = await run(client, spec, seconds, concurrency, None)
            rows.append(line(name, "peak", lat, err, elapsed))
            half = len(lat) / elapsed / 2
            lat, err, elapsed = await run(client, spec, seconds, concurrency, half)
            rows.append(line(name, "50% peak", lat, err, elapsed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per phase (max 60)")
    parser.add_argument("--concurrency", type=int, default=16, help="client loops (max 128)")
    args = parser.parse_args()
    seconds, concurrency = min(args.seconds, 60.0), min(args.concurrency, 128)
    print(f"loopback, {concurrency} concurrent loops, {seconds:g} s per phase; times in ms")
    print(f"{'request':18s} {'phase':9s} {'sent':>7s} {'errors':>6s} {'req/s':>9s} "
          f"{'p50':>8s} {'p95':>8s} {'p99':>8s}")
    for workers in (1, 2):
        server, url = start_server(workers)
        try:
            print(f"-- {workers} worker{'s' * (workers > 1)}")
            for row in asyncio.run(measure(url, seconds, concurrency)):
                print(row)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
