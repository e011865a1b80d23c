"""nginx in front, as ``deploy/nginx.conf`` configures it: the real file, with only the
upstream, the listen port and (to keep the tests short) the two client timeouts rewritten.

It proxies; it refuses bodies over the app's ``max_body_bytes`` itself, in the API's error
shape; it cuts slow clients off, so that they never reach uvicorn (which has no timeout for
an incomplete request); and it sends a request that a stopping replica reset on to another."""

from __future__ import annotations

import json
import re
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn

from app.config import Settings

from .servers import (
    NGINX_CONF,
    Nginx,
    Uvicorn,
    dockerfile_cmd,
    expensive_forward,
    tcp_connections,
)

TIMEOUT = 1.0  # seconds: client_header_timeout and client_body_timeout in these tests
DEADLINE = 30.0
MAX_BODY = Settings().max_body_bytes


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Uvicorn, Nginx]]:
    log = tmp_path_factory.mktemp("nginx") / "uvicorn.log"
    short = {"client_header_timeout 10s;": f"client_header_timeout {TIMEOUT:g}s;",
             "client_body_timeout 10s;": f"client_body_timeout {TIMEOUT:g}s;"}
    with Uvicorn(log) as app, Nginx(app.port, replace=short) as proxy:
        yield app, proxy


def app_saw(app: Uvicorn, proxy: Nginx, words: str) -> bool:
    """Whether the app's access log has a line with ``words``. A marker request sent through
    nginx afterwards, and found in the log, shows the log is up to date."""
    marker = f"/healthz?marker={time.monotonic_ns()}"
    assert httpx.get(proxy.url + marker, timeout=DEADLINE).status_code == 200
    deadline = time.monotonic() + DEADLINE
    while marker not in app.log_text():
        assert time.monotonic() < deadline, "the marker never reached the app's log"
        time.sleep(0.01)
    return words in app.log_text()


def post(url: str, content: bytes | Iterator[bytes], query: str = "") -> httpx.Response:
    return httpx.post(url + "/api/v1/forward" + query, content=content, timeout=DEADLINE,
                      headers={"content-type": "application/json"})


def test_nginx_passes_requests_and_answers_through(servers: tuple[Uvicorn, Nginx]) -> None:
    _, proxy = servers
    assert httpx.get(proxy.url + "/healthz").json() == {"status": "ok"}
    body, expected = expensive_forward()  # 170 kB in (buffered to disk), 1.3 MB out
    response = post(proxy.url, body)
    assert response.status_code == 200
    np.testing.assert_allclose(np.array(response.json()["output"]), expected, rtol=0,
                               atol=1e-9)
    page = httpx.get(proxy.url + "/2d")
    assert "A kernel sliding over a grid" in page.text
    assert "content-security-policy" in page.headers  # the app's headers pass through
    # the app's own 413s pass through as they are (nginx's error page is for its own 413)
    costly = post(proxy.url, b'{"input": [[1, 2]], "weight": [[[1]]], "padding": 1000000}')
    assert costly.status_code == 413
    assert costly.json()["limit"] == "max_output_elements"


def test_nginx_compresses_pages_and_assets(servers: tuple[Uvicorn, Nginx]) -> None:
    app, proxy = servers
    for path in ("/2d?input=digit28&kernel=sobel-x", "/static/css/app.css"):
        direct = httpx.get(app.url + path)
        through = httpx.get(proxy.url + path, headers={"accept-encoding": "gzip"})
        assert through.headers["content-encoding"] == "gzip", path
        assert through.content == direct.content  # decoded: the same bytes the app sent
        assert through.num_bytes_downloaded < len(direct.content) / 3, path
    plain = httpx.get(proxy.url + "/2d", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers


def _padded(size: int) -> bytes:
    body = b'{"input": [[1, 2, 3]], "weight": [[[1, 1]]], "bias": [0.25]}'
    return body + b" " * (size - len(body))


def test_a_body_over_max_body_bytes_is_refused_by_nginx_in_the_apis_words(
        servers: tuple[Uvicorn, Nginx]) -> None:
    app, proxy = servers
    at_limit = post(proxy.url, _padded(MAX_BODY))
    assert at_limit.json() == {"output": [[3.25, 5.25]], "output_shape": [1, 2]}
    over = post(proxy.url, _padded(MAX_BODY + 1), "?too-large")
    streamed = post(proxy.url, iter([_padded(MAX_BODY), b" "]), "?too-large")  # chunked
    assert "content-length" not in streamed.request.headers
    assert not app_saw(app, proxy, "too-large")
    assert "client intended to send too large body" in proxy.error_text()
    assert "client intended to send too large chunked body" in proxy.error_text()
    refused_by_app = post(app.url, _padded(MAX_BODY + 1))  # the app's own answer
    for refused in (over, streamed):
        assert refused.status_code == 413 == refused_by_app.status_code
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == refused_by_app.json()


def _until_cut(sock: socket.socket, dribble: bytes) -> float:
    """Send ``dribble`` a byte every 0.25 s until the server closes the connection; the
    seconds that took (answered or not) or the deadline."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        readable, _, _ = select.select([sock], [], [], 0.25)
        try:
            if readable:
                sock.recv(65536)  # an answer (408) or the end of the connection
                return time.monotonic() - started
            sock.send(dribble[:1])
            dribble = dribble[1:] or dribble
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    return DEADLINE


def test_a_slowloris_is_cut_off_after_client_header_timeout_and_never_reaches_the_app(
        servers: tuple[Uvicorn, Nginx]) -> None:
    app, proxy = servers
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(b"GET /healthz?slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        # a header byte every 0.25 s: each one arrives in time, the header never ends
        held = _until_cut(sock, b"X-Slow: " + b"a" * 100)
    assert 0.9 * TIMEOUT <= held < 5 * TIMEOUT, held
    assert not app_saw(app, proxy, "slowloris")


def test_a_stalled_body_is_cut_off_after_client_body_timeout_and_never_reaches_the_app(
        servers: tuple[Uvicorn, Nginx]) -> None:
    app, proxy = servers
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(b"POST /api/v1/forward?stalled HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        select.select([sock], [], [], DEADLINE)  # until nginx answers or closes
        held = time.monotonic() - started
        answer = sock.recv(65536)
    assert 0.9 * TIMEOUT <= held < 5 * TIMEOUT, held
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
    assert not app_saw(app, proxy, "stalled")


def test_nginx_drops_idle_upstream_connections_before_uvicorn_does() -> None:
    """Otherwise nginx may send a request on a connection uvicorn is closing: a 502."""
    upstream = re.search(r"upstream convscope \{(.*?)\}", NGINX_CONF.read_text(), re.S).group(1)
    nginx_idle = int(re.search(r"keepalive_timeout (\d+)s;", upstream).group(1))
    cmd = dockerfile_cmd()[0]
    uvicorn_idle = (float(cmd[cmd.index("--timeout-keep-alive") + 1])
                    if "--timeout-keep-alive" in cmd
                    else uvicorn.Config("app.main:app").timeout_keep_alive)
    assert nginx_idle < uvicorn_idle



def test_a_post_reset_by_a_replica_shutting_down_is_sent_to_another(tmp_path: Path) -> None:
    """uvicorn closes its listening socket on SIGTERM, which resets the connections still
    waiting in its backlog (bench/faults.py: most of 20 requests sent just before SIGTERM).
    nginx must send such a request on, even a POST."""
    with (socket.create_server(("127.0.0.1", 0), backlog=8) as stopping,
          Uvicorn(tmp_path / "uvicorn.log") as app):
        port = stopping.getsockname()[1]
        also = {"keepalive 32;": f"server 127.0.0.1:{app.port} backup;\n        keepalive 32;"}
        with Nginx(port, replace=also) as proxy, ThreadPoolExecutor(1) as pool:
            sent = pool.submit(post, proxy.url, json.dumps(
                {"input": [[1, 2, 3]], "weight": [[[1, 1]]]}).encode())
            deadline = time.monotonic() + DEADLINE
            while not any(c["local"] == port and c["rx"] for c in tcp_connections()):
                assert time.monotonic() < deadline, "nginx never sent the request"
                time.sleep(0.01)
            stopping.close()  # the request waits in the backlog: the kernel resets it
            response = sent.result(timeout=DEADLINE)
            assert "reset by peer" in proxy.error_text()
    assert response.status_code == 200, response.text
    assert response.json() == {"output": [[3.0, 5.0]], "output_shape": [1, 2]}


def test_a_request_that_times_out_is_not_sent_again_to_another_replica(tmp_path: Path) -> None:
    """A replica that takes the request and never answers: nginx answers 504 after
    proxy_read_timeout and leaves the other replica alone (re-sending it would have two
    replicas computing one request while the first is still at it)."""
    with (socket.create_server(("127.0.0.1", 0), backlog=8) as silent,
          Uvicorn(tmp_path / "uvicorn.log") as app):
        port = silent.getsockname()[1]
        also = {"keepalive 32;": f"server 127.0.0.1:{app.port} backup;\n        keepalive 32;",
                "proxy_read_timeout 15s;": "proxy_read_timeout 1s;"}
        with Nginx(port, replace=also) as proxy:
            response = post(proxy.url, json.dumps(
                {"input": [[1, 2, 3]], "weight": [[[1, 1]]]}).encode())
            assert "timed out" in proxy.error_text()
    assert response.status_code == 504
    assert "POST /api/v1/forward" not in app.log_text()
