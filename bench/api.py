"""Latency of the JSON API against a bare FastAPI echo of the same payload.

Run from the repository root::

    .venv/bin/python bench/api.py              # full run (300 requests per row)
    .venv/bin/python bench/api.py --quick      # 60 requests per row, for a first look
    .venv/bin/python bench/api.py --markdown   # the same tables as Markdown

Everything runs in-process: both ASGI apps are driven by ``httpx.AsyncClient`` over
``httpx.ASGITransport`` in one event loop, so no socket, kernel or server worker is measured.
What is measured is one request's full trip through the app: middleware, JSON parsing,
validation, the route (run in the thread pool, as a plain ``def``), the engine and the JSON
response.

The reference is a separate, minimal ``FastAPI()`` app whose plain-``def`` route echoes its
JSON body (``payload: dict = Body(...)``), sent the very same bytes. It pays the same HTTP,
JSON and thread-pool costs and computes nothing, so the ratio of medians ConvScope / echo says
how much the engine and validation add over HTTP + JSON. On large arrays the echo is the
slower one (it parses with the stdlib's ``json`` and validates its ``dict`` response, where
ConvScope uses orjson both ways), so a ratio below 1 there says JSON dominates both, not that
the engine is free. Requests alternate (ConvScope, echo,
ConvScope, ...) after a warm-up, so clock and cache drift hit both alike; the garbage
collector stays on, as in a server. The target, from the issue, is a ratio of at most 1.5;
the script reports whether each row meets it but never fails.

Payloads: "lesson" is the lesson's worked example (3x3 input, 2x2 kernel); "64x64 3->8" is a
random float64 input (1, 3, 64, 64) with a (8, 3, 3, 3) kernel and padding 1. Backward sends
a random ``grad_output`` of the output's shape. Byte columns are the request and response
bodies.

A second table times one step of a forward trace (``count`` 1, starting at the middle step)
of a 28x28 input with a 3x3 kernel, against the UI's per-step budget: a median of at most
5 ms and at most 20 KB per step, with the echo of the same body for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi
import httpx
import numpy as np
import orjson
import pydantic
from fastapi import Body, FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.main import create_app

TARGET_RATIO = 1.5  # ConvScope p50 / echo p50, from the issue
TRACE_P50_MS = 5.0  # the UI's budget for one animation step
TRACE_BYTES = 20_000

LESSON = {"input": [[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]], "weight": [[[[0, 1], [2, 3]]]]}


def echo_app() -> FastAPI:
    """The reference: a bare FastAPI app that returns the JSON body it was sent."""
    app = FastAPI()

    @app.post("/echo")
    def echo(payload: dict = Body(...)) -> dict:  # noqa: B008 - as the issue states it
        return payload

    return app


@dataclass
class Latency:
    """Seconds per request of one contender, and the size of its last response."""

    times: list[float]
    response_bytes: int = 0

    def ms(self, q: float) -> float:
        return float(np.percentile(self.times, q)) * 1e3


async def post(client: httpx.AsyncClient, url: str, body: bytes) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = await client.post(url, content=body,
                                 headers={"content-type": "application/json"})
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response


async def compare(conv: httpx.AsyncClient, path: str, echo: httpx.AsyncClient, body: bytes,
                  repeats: int, warmup: int) -> tuple[Latency, Latency]:
    """``body`` to ConvScope's ``path`` and to the echo, alternately, after a warm-up."""
    contenders = ((conv, path, Latency([])), (echo, "/echo", Latency([])))
    for _ in range(warmup):
        for client, url, _ in contenders:
            await post(client, url, body)
    gc.collect()
    for _ in range(repeats):
        for client, url, result in contenders:
            elapsed, response = await post(client, url, body)
            result.times.append(elapsed)
            result.response_bytes = len(response.content)
    return contenders[0][2], contenders[1][2]


def payloads(rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """The forward bodies by name; backward adds a grad_output (see :func:`with_grad`)."""
    return {
        "lesson": LESSON,
        "64x64 3->8": {"input": rng.standard_normal((1, 3, 64, 64)).tolist(),
                       "weight": rng.standard_normal((8, 3, 3, 3)).tolist(), "padding": 1},
    }


async def with_grad(client: httpx.AsyncClient, body: dict[str, Any],
                    rng: np.random.Generator) -> dict[str, Any]:
    """``body`` plus a random grad_output of the output's shape (asked of the API)."""
    _, response = await post(client, "/api/v1/forward", orjson.dumps(body))
    shape = response.json()["output_shape"]
    return {**body, "grad_output": rng.standard_normal(shape).tolist()}


def client(app: Any) -> httpx.AsyncClient:
    """A client that calls the ASGI ``app`` in this event loop, with no socket."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")


def ok(met: bool) -> str:
    return "ok" if met else "MISS"


def render(header: list[str], rows: list[list[str]], markdown: bool, left: int = 2) -> str:
    """A plain or Markdown table; the first ``left`` columns are left-aligned."""
    if markdown:
        rule = ["---" if i < left else "---:" for i in range(len(header))]
        return "\n".join("| " + " | ".join(r) + " |" for r in [header, rule, *rows])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


async def run(args: argparse.Namespace) -> str:
    repeats, warmup = (60, 10) if args.quick else (300, 30)
    rng = np.random.default_rng(0)
    async with client(create_app()) as conv, client(echo_app()) as echo:
        rows = []
        for name, body in payloads(rng).items():
            for endpoint, sent in (("forward", body),
                                   ("backward", await with_grad(conv, body, rng))):
                raw = orjson.dumps(sent)
                ours, ref = await compare(conv, f"/api/v1/{endpoint}", echo, raw, repeats,
                                          warmup)
                ratio = ours.ms(50) / ref.ms(50)
                rows.append([name, endpoint, f"{len(raw):,}", f"{ours.response_bytes:,}",
                             f"{ours.ms(50):.2f}", f"{ours.ms(99):.2f}", f"{ref.ms(50):.2f}",
                             f"{ref.ms(99):.2f}", f"{ratio:.2f}",
                             f"<={TARGET_RATIO:g} {ok(ratio <= TARGET_RATIO)}"])

        image = {"input": rng.standard_normal((1, 1, 28, 28)).tolist(),
                 "weight": rng.standard_normal((1, 1, 3, 3)).tolist(),
                 "part": "forward", "start": 0, "count": 1}
        _, first = await post(conv, "/api/v1/trace", orjson.dumps(image))
        middle = first.json()["total_steps"] // 2
        raw = orjson.dumps({**image, "start": middle})
        step, ref = await compare(conv, "/api/v1/trace", echo, raw, repeats, warmup)
        trace_row = [f"28x28 k3, step {middle}", f"{len(raw):,}",
                     f"{step.response_bytes:,}",
                     f"<={TRACE_BYTES // 1000} KB {ok(step.response_bytes <= TRACE_BYTES)}",
                     f"{step.ms(50):.2f}", f"{step.ms(99):.2f}",
                     f"<={TRACE_P50_MS:g} {ok(step.ms(50) <= TRACE_P50_MS)}",
                     f"{ref.ms(50):.2f}"]

    bullet = "- " if args.markdown else ""
    info = [f"Python {platform.python_version()}, FastAPI {fastapi.__version__}, pydantic "
            f"{pydantic.VERSION}, httpx {httpx.__version__}, numpy {np.__version__}",
            f"in-process (httpx.ASGITransport); {repeats} interleaved requests per row after "
            f"{warmup} warm-up; times in ms; ratio = ConvScope p50 / echo p50"]
    api = render(["payload", "endpoint", "request B", "response B", "ConvScope p50",
                  "ConvScope p99", "echo p50", "echo p99", "ratio", "target"], rows,
                 args.markdown)
    trace = render(["trace (forward, count 1)", "request B", "response B", "size target",
                    "p50", "p99", "p50 target", "echo p50"], [trace_row], args.markdown, left=1)
    return "\n".join([*(bullet + line for line in info), "", api, "", trace, ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests per row")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    sys.stdout.write(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
