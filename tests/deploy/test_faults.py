"""Faults against the server as the container runs it (uvicorn from the Dockerfile's CMD):
clients that leave mid-request, and SIGTERM with requests in flight. Every wait polls a
condition the kernel or the server reports, with a deadline; nothing sleeps for luck."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
import pytest

from .servers import (
    Uvicorn,
    dockerfile_cmd,
    expensive_forward,
    holds_socket,
    server_end,
    server_has_read,
)

IN_FLIGHT = 20
DEADLINE = 30.0  # seconds for anything to happen on a busy, shared machine
CMD = dockerfile_cmd()[0]
GRACEFUL = float(CMD[CMD.index("--timeout-graceful-shutdown") + 1])
BODY, EXPECTED = expensive_forward()
# ~20 MB of response (a million outputs such as 0.30000000000000004): more than the kernel's
# socket buffers hold, so the server is still writing it while the client reads nothing
BIG_RESPONSE = json.dumps({"input": np.ones((1, 1, 500, 500), dtype=int).tolist(),
                           "weight": [[[[0.1]]], [[[0.2]]], [[[0.3]]], [[[0.7]]]]}).encode()


def request_bytes(body: bytes) -> tuple[bytes, bytes]:
    head = (b"POST /api/v1/forward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    return head, body


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    sock.settimeout(DEADLINE + GRACEFUL)
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def assert_expensive_output(status: int, payload: bytes) -> None:
    assert status == 200, payload[:300]
    result = json.loads(payload)
    assert result["output_shape"] == list(EXPECTED.shape)
    np.testing.assert_allclose(np.array(result["output"]), EXPECTED, rtol=0, atol=1e-9)


def poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {DEADLINE} s"
        time.sleep(0.01)


def assert_serves_correctly(server: Uvicorn) -> None:
    assert httpx.get(f"{server.url}/healthz", timeout=DEADLINE).json() == {"status": "ok"}
    small = httpx.post(f"{server.url}/api/v1/forward", timeout=DEADLINE,
                       json={"input": [[1, 2, 3, 4]], "weight": [[[1, -1]]], "bias": [0.5]})
    assert small.json() == {"output": [[-0.5, -0.5, -0.5]], "output_shape": [1, 3]}
    big = httpx.post(f"{server.url}/api/v1/forward", content=BODY, timeout=DEADLINE,
                     headers={"content-type": "application/json"})
    assert_expensive_output(big.status_code, big.content)


def assert_clean_log(server: Uvicorn) -> None:
    log = server.log_text()
    for sign in ("Traceback", "ERROR", "Exception"):
        assert sign not in log, log


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uvicorn]:
    with Uvicorn(tmp_path_factory.mktemp("faults") / "uvicorn.log") as running:
        yield running


def _connect(server: Uvicorn) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset instead of a FIN (SO_LINGER with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _send_and_leave(server: Uvicorn, data: bytes, *, until: str, reset: bool) -> int:
    """Send ``data``; once the server has read it (or, ``until="response"``, once its
    response has begun), leave: close (FIN) or reset. Returns the server's end, as held."""
    with _connect(server) as sock:
        sock.sendall(data)
        if until == "response":
            assert sock.recv(100).startswith(b"HTTP/1.1 200")  # the response has begun
        else:
            poll(lambda: server_has_read(server.port, {sock.getsockname()[1]}),
                 f"the server reads {until}")
        held = server_end(server.port, sock.getsockname()[1])
        if reset:
            _reset(sock)
        # else leaving the block closes the socket (FIN)
    return held


def half_body_then_close(server: Uvicorn) -> int:
    head, body = request_bytes(BODY)
    return _send_and_leave(server, head + body[:len(body) // 2], until="the first half",
                           reset=False)


def half_body_then_reset(server: Uvicorn) -> int:
    head, body = request_bytes(BODY)
    return _send_and_leave(server, head + body[:len(body) // 2], until="the first half",
                           reset=True)


def close_before_the_response(server: Uvicorn) -> int:
    head, body = request_bytes(BODY)  # the server is still computing when the client goes
    return _send_and_leave(server, head + body, until="the request", reset=False)


def reset_mid_response(server: Uvicorn) -> int:
    head, body = request_bytes(BIG_RESPONSE)
    return _send_and_leave(server, head + body, until="response", reset=True)


@pytest.mark.parametrize("leave", [half_body_then_close, half_body_then_reset,
                                   close_before_the_response, reset_mid_response],
                         ids=lambda leave: leave.__name__)
def test_a_client_leaving_mid_request_leaves_the_server_serving(
        server: Uvicorn, leave: Callable[[Uvicorn], int]) -> None:
    held = leave(server)  # the server's end of the connection the client abandoned
    poll(lambda: not holds_socket(server.process.pid, held), "the server closes its end")
    assert_serves_correctly(server)
    assert_clean_log(server)


def _in_flight(server: Uvicorn, stack: ExitStack) -> list[socket.socket]:
    """``IN_FLIGHT`` expensive requests, all but the last byte of each read by the server:
    every one has begun and none can finish before its last byte is sent."""
    head, body = request_bytes(BODY)
    socks = []
    for _ in range(IN_FLIGHT):
        sock = stack.enter_context(_connect(server))
        sock.sendall(head + body[:-1])
        socks.append(sock)
    ports = {sock.getsockname()[1] for sock in socks}
    poll(lambda: server_has_read(server.port, ports), "the server reads every request")
    return socks


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_finishes_every_request_in_flight_then_exits(tmp_path: Path,
                                                             workers: int) -> None:
    with Uvicorn(tmp_path / "uvicorn.log", workers=workers) as server, ExitStack() as stack:
        socks = _in_flight(server, stack)
        server.process.send_signal(signal.SIGTERM)
        poll(lambda: server.log_text().count("Shutting down") == workers,
             "every worker begins its shutdown")
        if workers == 1:  # the listening socket is closed first: new clients are refused
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
        for sock in socks:  # every request is still in flight; now they may finish
            sock.sendall(BODY[-1:])
        responses = [read_response(sock) for sock in socks]
        code = server.process.wait(timeout=GRACEFUL + DEADLINE)
    for status, payload in responses:
        assert_expensive_output(status, payload)
    # One worker re-raises SIGTERM once its graceful shutdown is over, so it ends "killed by
    # SIGTERM" (as PID 1 in a container the re-raised signal is ignored and it exits 0);
    # with workers, the parent process exits 0.
    assert code == (-signal.SIGTERM if workers == 1 else 0)
    log = server.log_text()
    assert log.count("Finished server process") == workers, log
    assert_clean_log(server)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
