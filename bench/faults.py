"""Faults on loopback: slow clients against uvicorn alone and behind nginx, clients that leave
mid-request, and SIGTERM with requests in flight. Prints Markdown tables.

Run: ``.venv/bin/python bench/faults.py [--slow N] [--hold S] [--period P] ...`` (about a minute
and a half with the defaults; needs nginx, which ``make nginx`` installs).

uvicorn starts as the container starts it (the Dockerfile's CMD and ENV, one worker unless
said otherwise) on a free 127.0.0.1 port. To make exhaustion observable with a few hundred
connections, it runs under a lowered open-file limit (``RLIMIT_NOFILE``, ``--nofile``, 256 by
default; a container usually has 1,048,576, which only moves the number of connections an
attacker needs). nginx runs ``deploy/nginx.conf`` as written (timeouts included), with only
the upstream, the listen port and its file paths rewritten for loopback, in front of the same
uvicorn under the same limit; nginx's own limit is left as it is.

Slow clients: ``--slow`` connections each send the start of a request, then one more byte every
``--period`` seconds, forever: "header" never finishes its headers (slowloris), "body" sends
whole headers and dribbles a body that never reaches its Content-Length. During the attack a
legitimate client, on a fresh connection each time, alternates GET /healthz and a small POST
/api/v1/forward (``--legit`` requests, ``--legit-timeout`` seconds each). ``--hold`` seconds
after the attack began, the table says how many slow connections are still open (as the
attacker sees them) and how many connections uvicorn holds (accepted, as the kernel lists
them). Every loop is bounded in time and count; every address is 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import selectors
import signal
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the loopback servers the deploy tests use

from tests.deploy.servers import (  # noqa: E402
    Nginx,
    Uvicorn,
    expensive_forward,
    holds_socket,
    server_end,
    server_has_read,
    tcp_connections,
)

SMALL = {"input": [[1, 2, 3, 4]], "weight": [[[1, -1]]], "bias": [0.5]}
SMALL_OUTPUT = {"output": [[-0.5, -0.5, -0.5]], "output_shape": [1, 3]}
DEADLINE = 30.0  # seconds, for anything that should happen at once


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}" if values \
        else "–"


OPENINGS = {  # what a slow client sends first; then a byte at a time
    "headers": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
    "bodies": b"POST /api/v1/forward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[",
}
FAILURES = {"RemoteProtocolError": "closed unanswered", "RemoteDisconnected": "closed unanswered",
            "ConnectError": "refused", "ReadError": "reset", "WriteError": "reset",
            "ConnectionResetError": "reset"}


class SlowClients:
    """``count`` connections to ``port``, each holding an unfinished request open by sending
    one more byte every ``period`` seconds, from one thread. Notes when the server ends each
    one (closes it, resets it or answers it)."""

    def __init__(self, port: int, count: int, period: float, kind: str, limit: float) -> None:
        self.port, self.count, self.period, self.kind = port, count, period, kind
        self.limit = limit  # the thread stops by itself after this many seconds
        self.socks: list[socket.socket] = []
        self.opened: dict[socket.socket, float] = {}
        self.ended: dict[socket.socket, float] = {}
        self.selector = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._dribble, daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self.opened[sock] = time.monotonic()
            self.socks.append(sock)
            try:
                sock.sendall(OPENINGS[self.kind])
            except OSError:
                self.ended[sock] = time.monotonic()
                continue
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
        self.began = time.monotonic()
        self.thread.start()
        return self

    def _end(self, sock: socket.socket) -> None:
        self.ended[sock] = time.monotonic()
        self.selector.unregister(sock)

    def _dribble(self) -> None:
        next_byte = time.monotonic() + self.period
        while not self.stop.is_set() and time.monotonic() - self.began < self.limit:
            for key, _ in self.selector.select(timeout=min(0.1, self.period)):
                with contextlib.suppress(OSError):  # an answer or the end: it is over
                    key.fileobj.recv(65536)
                self._end(key.fileobj)
            if time.monotonic() >= next_byte:
                next_byte += self.period
                for sock in self.socks:
                    if sock not in self.ended:
                        try:
                            sock.send(b"a")
                        except OSError:
                            self._end(sock)

    def still_open(self) -> int:
        return self.count - len(self.ended)

    def cut_after(self) -> list[float]:
        return sorted(self.ended[sock] - self.opened[sock] for sock in self.ended)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=DEADLINE)
        for sock in self.socks:
            sock.close()
        self.selector.close()


def legit(url: str, count: int, timeout: float, budget: float) -> tuple[int, int, list[float],
                                                                        Counter]:
    """A visitor on a fresh connection each time: GET /healthz and a small forward pass in
    turn, each checked. Returns (succeeded, tried, latencies of successes, failure kinds)."""
    latencies: list[float] = []
    failures: Counter = Counter()
    began = time.monotonic()
    tried = 0
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection for every request
    with httpx.Client(base_url=url, timeout=timeout, limits=fresh) as client:
        while tried < count and time.monotonic() - began < budget:
            tried += 1
            started = time.perf_counter()
            try:
                if tried % 2:
                    response = client.get("/healthz")
                    ok = response.json() == {"status": "ok"}
                else:
                    response = client.post("/api/v1/forward", json=SMALL)
                    ok = response.json() == SMALL_OUTPUT
                if not ok:
                    failures[f"HTTP {response.status_code}"] += 1
            except httpx.TimeoutException:
                failures[f"no answer in {timeout:g} s"] += 1
                ok = False
            except httpx.HTTPError as error:
                failures[FAILURES.get(type(error).__name__, type(error).__name__)] += 1
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
    return len(latencies), tried, latencies, failures


def held_by(port: int) -> tuple[int, int]:
    """Connections to ``port`` the server has accepted, and those waiting to be accepted."""
    rows = [c for c in tcp_connections() if c["local"] == port and c["state"] == "ESTABLISHED"]
    return sum(c["inode"] != 0 for c in rows), sum(c["inode"] == 0 for c in rows)


def failure_words(failures: Counter) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in failures.most_common()) or "none"


def slow_rows(args: argparse.Namespace, work: Path) -> list[str]:
    rows = []
    for setup in ("uvicorn alone", "nginx in front"):
        log = work / f"uvicorn-{len(rows)}.log"
        with Uvicorn(log, nofile=args.nofile) as app:
            proxy = Nginx(app.port) if setup == "nginx in front" else None
            with proxy or _nothing():
                url = proxy.url if proxy else app.url
                port = proxy.port if proxy else app.port
                ok, tried, lat, failures = legit(url, args.legit, args.legit_timeout,
                                                 args.hold - 2)
                rows.append(f"| {setup} | none | 0 | {ok}/{tried} | {ms(lat)} | "
                            f"{failure_words(failures)} | – | {held_by(app.port)[0]} | – |")
                for kind in OPENINGS:
                    progress(f"{setup}: {args.slow} slow {kind} clients for {args.hold:g} s")
                    with SlowClients(port, args.slow, args.period, kind,
                                     args.hold + DEADLINE) as attack:
                        time.sleep(1)  # let the server take what it can
                        ok, tried, lat, failures = legit(url, args.legit, args.legit_timeout,
                                                         args.hold - 2)
                        time.sleep(max(0.0, attack.began + args.hold - time.monotonic()))
                        still = attack.still_open()
                        accepted, queued = held_by(app.port)
                        cut = attack.cut_after()
                    cut_words = ("none" if not cut else
                                 f"{len(cut)} at once (uvicorn out of files)" if cut[-1] < 0.5
                                 else f"{len(cut)}, after {cut[0]:.1f}–{cut[-1]:.1f} s")
                    rows.append(
                        f"| {setup} | slow {kind} | {args.slow} | {ok}/{tried} | "
                        f"{ms(lat)} | {failure_words(failures)} | {still} | "
                        f"{accepted} (+{queued} queued) | {cut_words} |")
    return [
        f"Slow clients: {args.slow} connections, one byte every {args.period:g} s, counted "
        f"{args.hold:g} s after the attack began; uvicorn under RLIMIT_NOFILE={args.nofile}.",
        "",
        "| setup | attack | slow conns | legit OK | legit p50 / max (ms) | legit failures | "
        f"slow conns open after {args.hold:g} s | conns uvicorn holds | slow conns ended |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _post(port: int, body: bytes, *, hold: int = 0) -> socket.socket:
    """A connection that sent a forward pass, all but its last ``hold`` bytes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    request = (b"POST /api/v1/forward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sock.sendall(request[:len(request) - hold])
    return sock


def _answer(sock: socket.socket, expected: np.ndarray) -> str:
    """'ok' for a complete 200 with the right numbers; otherwise what happened."""
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = response.read()
    except (OSError, http.client.HTTPException) as error:
        return FAILURES.get(type(error).__name__, type(error).__name__)
    finally:
        sock.close()
    if response.status != 200:
        return f"HTTP {response.status}"
    output = np.array(json.loads(payload)["output"])
    return "ok" if output.shape == expected.shape and np.allclose(output, expected) else "wrong"


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def disconnect_rows(args: argparse.Namespace, work: Path) -> list[str]:
    body, expected = expensive_forward()
    big = json.dumps({"input": np.ones((1, 1, 500, 500), dtype=int).tolist(),
                      "weight": [[[[0.1]]], [[[0.2]]], [[[0.3]]], [[[0.7]]]]}).encode()
    rows = []
    with Uvicorn(work / "uvicorn-disconnect.log") as app:
        def half_body(close) -> int:
            sock = socket.create_connection(("127.0.0.1", app.port), timeout=DEADLINE)
            head = (b"POST /api/v1/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            sock.sendall(head + body[:len(body) // 2])
            _wait(lambda: server_has_read(app.port, {sock.getsockname()[1]}))
            inode = server_end(app.port, sock.getsockname()[1])
            close(sock)
            return inode

        def before_response() -> int:
            sock = _post(app.port, body)
            _wait(lambda: server_has_read(app.port, {sock.getsockname()[1]}))
            inode = server_end(app.port, sock.getsockname()[1])
            sock.close()
            return inode

        def mid_response() -> int:
            sock = _post(app.port, big)
            sock.recv(100)
            inode = server_end(app.port, sock.getsockname()[1])
            _reset(sock)
            return inode

        faults = {
            "half the body, then close (FIN)": lambda: half_body(socket.socket.close),
            "half the body, then reset (RST)": lambda: half_body(_reset),
            "whole request, close before the response": before_response,
            "reset after 100 bytes of a 20 MB response": mid_response,
        }
        for name, fault in faults.items():
            released = []
            for _ in range(args.repeat):
                inode = fault()  # 0 if the server had already answered and let go
                started = time.monotonic()
                _wait(lambda inode=inode: not holds_socket(app.process.pid, inode))
                if inode:
                    released.append(time.monotonic() - started)
            small = httpx.post(f"{app.url}/api/v1/forward", json=SMALL, timeout=DEADLINE)
            after = _answer(_post(app.port, body), expected)
            correct = small.json() == SMALL_OUTPUT and after == "ok"
            errors = sum(word in line for line in app.log_text().splitlines()
                         for word in ("ERROR", "Traceback"))
            rows.append(f"| {name} | {len(released)}/{args.repeat} | {ms(released)} | "
                        f"{'yes' if correct else 'NO: ' + after} | {errors} |")
    return [
        "Clients that leave mid-request (uvicorn alone, 1 worker; the expensive request is a "
        "forward pass 3->16 channels, 128x128, 5x5):",
        "",
        "| fault | server still on it when the client left | it let go after, p50 / max (ms) "
        "| next requests correct | "
        "errors in the log |",
        "|---|---|---|---|---|",
        *rows,
    ]


def _wait(condition, what: str = "condition") -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not after {DEADLINE} s")
        time.sleep(0.005)


def _queued(port: int) -> bool:
    """Whether a request waits, unaccepted, in the backlog of the server on ``port``."""
    return any(c["local"] == port and c["inode"] == 0 and c["rx"] for c in tcp_connections())


HELD = "every request begun, its last byte sent after"


def _sigterm_row(app: Uvicorn, workers: int, url: str, port: int, label: str, when: str,
                 args: argparse.Namespace) -> str:
    """Send ``args.in_flight`` expensive requests to ``port``; SIGTERM ``app`` (``when``);
    read every answer; one table row."""
    body, expected = expensive_forward()
    hold = 1 if when == HELD else 0
    socks = [_post(port, body, hold=hold) for _ in range(args.in_flight)]
    if when == HELD:
        ports = {sock.getsockname()[1] for sock in socks}
        _wait(lambda: server_has_read(app.port, ports), "the server reads")
    elif when == "a request in its backlog":
        with contextlib.suppress(RuntimeError):  # if it never happens, SIGTERM anyway
            _wait(lambda: _queued(app.port), "a request queued")
    sent = time.monotonic()
    app.process.send_signal(signal.SIGTERM)
    _wait(lambda: app.log_text().count("Shutting down") == workers, "shutdown")
    try:
        httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
        newcomer = "served"
    except httpx.ConnectError:
        newcomer = "refused"
    except httpx.TimeoutException:
        newcomer = "queued, no answer in 1 s"
    except httpx.HTTPError as error:
        newcomer = FAILURES.get(type(error).__name__, type(error).__name__)
    for sock in socks if hold else ():
        sock.sendall(body[-hold:])
    answers = Counter(_answer(sock, expected) for sock in socks)
    code = app.process.wait(timeout=DEADLINE + 20)
    exited = time.monotonic() - sent
    log = app.log_text()
    drained = log[log.index("Shutting down"):].count('"POST /api/v1/forward HTTP/1.1" 200')
    try:
        socket.create_connection(("127.0.0.1", app.port), timeout=1).close()
        after = "accepted"
    except ConnectionRefusedError:
        after = "refused"
    lost = ", ".join(f"{n} {kind}" for kind, n in answers.items() if kind != "ok")
    return (f"| {label} | {when} | {args.in_flight} | {answers['ok']}"
            f"{' (' + lost + ')' if lost else ''} | {drained} | {newcomer} | {exited:.1f} | "
            f"{code} | {after} |")


def sigterm_rows(args: argparse.Namespace, work: Path) -> list[str]:
    rows = []
    for workers in (1, 2):
        for when in (HELD, "at once"):
            log = work / f"uvicorn-sigterm-{workers}-{when[:5]}.log"
            with Uvicorn(log, workers=workers) as app:
                label = f"uvicorn alone, {workers} worker{'s' * (workers > 1)}"
                rows.append(_sigterm_row(app, workers, app.url, app.port, label, when, args))
    # two one-worker replicas behind nginx; the first is stopped
    with Uvicorn(work / "uvicorn-stopped.log") as app, \
            Uvicorn(work / "uvicorn-other.log") as other:
        second = {"keepalive 32;": f"server 127.0.0.1:{other.port} max_fails=3 "
                                   "fail_timeout=10s;\n        keepalive 32;"}
        with Nginx(app.port, replace=second) as proxy:
            rows.append(_sigterm_row(app, 1, proxy.url, proxy.port,
                                     "nginx, 2 replicas of 1 worker; one stops",
                                     "a request in its backlog", args))
            retried = proxy.error_text().count("reset by peer")
    return [
        f"SIGTERM with {args.in_flight} forward passes (3->16 channels, 128x128, 5x5; ~0.2 s "
        "each): once the server has read all but the last byte of each (sent once the "
        "shutdown has begun), at once after sending them whole (some may still wait, "
        "unaccepted, in the listen backlog), or behind nginx once one waits in the "
        f"stopping replica's backlog (nginx sent {retried} reset request(s) on to the other):",
        "",
        "| setup | SIGTERM | sent | complete 200, right numbers | finished after SIGTERM "
        "(stopped server's log) | new client during the drain | exit after (s) | exit code | "
        "new client after exit (stopped server) |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=300, help="slow connections (300)")
    parser.add_argument("--period", type=float, default=2.0,
                        help="seconds between a slow client's bytes (2)")
    parser.add_argument("--hold", type=float, default=15.0,
                        help="seconds of each attack; nginx's timeouts are 10 s (15)")
    parser.add_argument("--nofile", type=int, default=256,
                        help="uvicorn's open-file limit (256)")
    parser.add_argument("--legit", type=int, default=20,
                        help="legitimate requests per attack (20)")
    parser.add_argument("--legit-timeout", type=float, default=2.0,
                        help="seconds a legitimate request waits (2)")
    parser.add_argument("--repeat", type=int, default=5, help="times each disconnect (5)")
    parser.add_argument("--in-flight", type=int, default=20,
                        help="requests in flight at SIGTERM (20)")
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="convscope-faults-") as tmp:
        work = Path(tmp)
        # the slow clients last: the thousands of closed sockets they leave behind make
        # /proc/net/tcp, which the other two read, slow to list
        disconnects, sigterms = disconnect_rows(args, work), sigterm_rows(args, work)
        sections = [slow_rows(args, work), disconnects, sigterms]
    print("\n\n".join("\n".join(section) for section in sections))
    progress(f"done in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
