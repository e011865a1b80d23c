"""Load test on loopback: uvicorn with 1 and 2 workers, driven by wrk.

Run: ``.venv/bin/python bench/load.py [--seconds S] [--connections 4,16]``. It needs wrk
(``apt-get install wrk``); the test suite does not.

For each worker count, the server starts as the container starts it (the Dockerfile's CMD and
ENV, through ``tests/deploy/servers.py``, with ``WEB_CONCURRENCY`` workers) on a free
127.0.0.1 port, and three requests are measured:

- a forward pass, 64x64 input, 3x3 kernel (``POST /api/v1/forward``);
- one step update of the 2D page with a 28x28 input and a 3x3 kernel, the fragment the
  player asks for (``HX-Request``, ``step=K&prev=K-1``), K cycling through all 676 steps so
  the server does each step's work, as it does for a student playing the animation;
- that 2D page whole (``GET /2d``).

Peak: one wrk thread (the server needs the other core more than wrk does) and each count of
connections in ``--connections`` for a short probe, which also warms the server up; the best
is measured for ``--seconds``. Then paced at half that throughput, with as many connections:
wrk has no rate option, so ``bench/wrk/load.lua``'s ``delay()`` hands out send times
1000 / rate ms apart and each connection waits for the next free one (send times missed in
a stall go out as soon as a connection is free). The achieved rate is reported beside the
target; a run below 95% of it is called inconclusive.

Reported per row: requests, errors (responses >= 400 and socket errors: connect, read,
write, and no answer within 10 s, which wrk calls a timeout: a slower answer than that is a
failure, anything faster counts in the latencies, which a timed-out request would leave
out), throughput and latency p50/p95/p99 from wrk's own histogram, as a
Markdown table, then one verdict per row. The target (issue 8) is zero errors and p99 <
100 ms at 50% of peak. wrk adds latency samples for responses slower than twice the mean
time between a connection's requests (its coordinated-omission correction), which matters
at peak, hardly when paced. Every run is bounded in time, and only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the loopback server the deploy tests use

from tests.deploy.servers import Uvicorn  # noqa: E402

SCRIPT = ROOT / "bench" / "wrk" / "load.lua"
SCENE = "/2d?input=digit28&kernel=sobel-x"  # 28x28 input, 3x3 kernel: 676 steps
PROBE_SECONDS = 2
P99_TARGET_MS = 100.0
SHORTFALL = 0.95  # a paced run below this share of its target did not test the target


@dataclass(frozen=True)
class Request:
    name: str
    path: str
    headers: tuple[str, ...] = ()
    body: bytes | None = None
    stepped: bool = False  # wrk appends step=K&prev=K-1, K cycling through the scene


@dataclass(frozen=True)
class Row:
    workers: int
    request: str
    phase: str
    connections: int
    requests: int
    errors: dict[str, int]
    rate: float
    target: float | None
    p50: float
    p95: float
    p99: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def requests() -> list[Request]:
    rng = np.random.default_rng(0)
    body = {"input": rng.normal(size=(1, 1, 64, 64)).round(3).tolist(),
            "weight": rng.normal(size=(1, 1, 3, 3)).round(3).tolist(), "padding": 1}
    return [
        Request("forward 64x64 k3", "/api/v1/forward", ("Content-Type: application/json",),
                json.dumps(body).encode()),
        Request("2D step update", SCENE, ("HX-Request: true",), stepped=True),
        Request("2D full page", SCENE),
    ]


def fetch(url: str, headers: tuple[str, ...] = (),
          body: bytes | None = None) -> tuple[int, bytes]:
    """One request with the standard library: status and body."""
    request = urllib.request.Request(url, body, dict(h.split(": ", 1) for h in headers))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check(url: str, specs: list[Request]) -> int:
    """Send each request once and check the answer; return the scene's number of steps."""
    status, page = fetch(url + SCENE)
    found = re.search(rb'data-steps="(\d+)"', page)
    if status != 200 or not found:
        raise RuntimeError(f"GET {SCENE} gave {status} and no step count")
    steps = int(found[1])
    for spec in specs:
        query = f"&step={steps}&prev={steps - 1}" if spec.stepped else ""
        status, body = fetch(url + spec.path + query, spec.headers, spec.body)
        if status != 200:
            raise RuntimeError(f"{spec.name} gave {status}: {body[:200]!r}")
        if spec.stepped and b"<html" in body:
            raise RuntimeError(f"{spec.name} gave a whole page, not the step fragment")
        if spec.body is not None and json.loads(body)["output_shape"] != [1, 1, 64, 64]:
            raise RuntimeError(f"{spec.name} gave an output of the wrong shape")
    return steps


def settle(url: str) -> None:
    """Wait until the server has finished the previous run's work: when wrk stops, the
    requests queued at peak are still being served (a full page's queue took ~0.5 s), and
    a run started at once would time them too. Idle means /healthz answers in under 10 ms
    three times running; bounded to 10 s."""
    prompt, deadline = 0, time.monotonic() + 10
    while prompt < 3 and time.monotonic() < deadline:
        start = time.perf_counter()
        fetch(f"{url}/healthz")
        prompt = prompt + 1 if time.perf_counter() - start < 0.010 else 0


def wrk(url: str, spec: Request, connections: int, seconds: int, extra: list[str]) -> dict:
    """One wrk run, on a settled server; the JSON line bench/wrk/load.lua's done() prints."""
    settle(url)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(SCRIPT)]
    for header in spec.headers:
        command += ["-H", header]
    command += [url + spec.path, "--", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30,
                          check=False)
    for line in done.stdout.splitlines():
        if line.startswith("wrk-result "):
            return json.loads(line.removeprefix("wrk-result "))
    raise RuntimeError(f"wrk gave no result:\n{done.stderr}{done.stdout}")


def row(workers: int, spec: Request, phase: str, connections: int, result: dict,
        target: float | None = None) -> Row:
    errors = {k: result[k] for k in ("status", "connect", "read", "write", "timeout")}
    return Row(workers, spec.name, phase, connections, result["requests"], errors,
               result["requests"] / (result["duration_us"] / 1e6), target,
               result["p50_us"] / 1000, result["p95_us"] / 1000, result["p99_us"] / 1000)


def measure(workers: int, seconds: int, candidates: list[int], body_dir: Path) -> list[Row]:
    with Uvicorn(body_dir / f"uvicorn-{workers}.log", workers=workers,
                 extra=("--log-level", "warning")) as server:
        url = server.url
        specs = requests()
        steps = check(url, specs)
        rows = []
        for spec in specs:
            extra = [f"steps={steps}"] if spec.stepped else []
            if spec.body is not None:
                body = body_dir / "body.json"
                body.write_bytes(spec.body)
                extra.append(f"body={body}")
            label = f"{plural(workers)}, {spec.name}"
            probes = {}
            for connections in candidates:
                probe = row(workers, spec, "probe", connections,
                            wrk(url, spec, connections, PROBE_SECONDS, extra))
                probes[connections] = probe.rate
                progress(f"{label}: probe, {connections} connections: {probe.rate:.0f} req/s")
            best = max(probes, key=probes.__getitem__)
            peak = row(workers, spec, "peak", best, wrk(url, spec, best, seconds, extra))
            progress(f"{label}: peak, {best} connections: {peak.rate:.0f} req/s")
            # paced with the most connections probed: with few, a stall would hold requests
            # back in wrk's queue, unmeasured, instead of showing in the latencies
            target, many = peak.rate / 2, max(candidates)
            paced = row(workers, spec, "50% of peak", many,
                        wrk(url, spec, many, seconds, [*extra, f"rate={target:.3f}"]), target)
            progress(f"{label}: paced at {target:.0f} req/s: {paced.rate:.0f} req/s")
            rows += [peak, paced]
        return rows


def plural(workers: int) -> str:
    return f"{workers} worker{'s' * (workers > 1)}"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table(rows: list[Row]) -> str:
    head = ["workers", "request", "phase", "conns", "requests", "errors", "req/s",
            "target req/s", "p50 ms", "p95 ms", "p99 ms"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---:" if i > 2 else "---" for i in range(len(head))) + "|"]
    for r in rows:
        cells = [str(r.workers), r.request, r.phase, str(r.connections), str(r.requests),
                 str(r.error_count), f"{r.rate:.1f}",
                 "" if r.target is None else f"{r.target:.1f}",
                 f"{r.p50:.1f}", f"{r.p95:.1f}", f"{r.p99:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(r: Row) -> str:
    label = f"{plural(r.workers)}, {r.request}, {r.phase}:"
    errors = ", ".join(f"{v} {k}" for k, v in r.errors.items() if v)
    if r.target is None:
        return f"{label} {'FAIL, errors: ' + errors if errors else 'OK, no errors'}"
    if r.rate < SHORTFALL * r.target:
        return (f"{label} INCONCLUSIVE, reached {r.rate:.1f} of {r.target:.1f} req/s: the "
                f"server fell behind (a busy machine?) or every connection was busy "
                f"(more --connections?)")
    faults = [f"errors: {errors}"] if errors else []
    if r.p99 >= P99_TARGET_MS:
        faults.append(f"p99 {r.p99:.1f} ms >= {P99_TARGET_MS:.0f} ms")
    if faults:
        return f"{label} FAIL, " + "; ".join(faults)
    return f"{label} PASS, no errors, p99 {r.p99:.1f} ms < {P99_TARGET_MS:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per phase (1 to 60)")
    parser.add_argument("--connections", default="4,16",
                        help="connection counts to probe for the peak, comma-separated "
                             "(1 to 256 each)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/load.py needs wrk: install it with `apt-get install wrk`")
    seconds = min(max(args.seconds, 1), 60)
    candidates = sorted({min(max(int(c), 1), 256) for c in args.connections.split(",")})
    rows = []
    with tempfile.TemporaryDirectory() as body_dir:
        for workers in (1, 2):
            rows += measure(workers, seconds, candidates, Path(body_dir))
    print(f"wrk on loopback, 1 thread, {seconds} s per phase, probes of "
          f"{PROBE_SECONDS} s at {', '.join(map(str, candidates))} connections\n")
    print(table(rows))
    print()
    for r in rows:
        print(f"- {verdict(r)}")


if __name__ == "__main__":
    main()
