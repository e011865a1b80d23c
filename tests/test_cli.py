"""The ``convscope`` command and ``make run``, run for real: a taken port is said so, with
how to choose another, and the port chosen is the one served."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def says_port_taken(result: subprocess.CompletedProcess, port: int) -> None:
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "make run PORT=8011" in result.stderr and "CONVSCOPE_PORT" in result.stderr
    assert "Errno" not in result.stderr and "Traceback" not in result.stderr
    assert "http://" not in result.stdout  # no address that does not answer


def test_a_taken_port_is_said_so_with_how_to_choose_another(taken_port: int) -> None:
    result = run([sys.executable, "-m", "app", "serve", "--port", str(taken_port)])
    assert result.returncode == 2
    says_port_taken(result, taken_port)


def test_convscope_port_chooses_the_port(taken_port: int) -> None:
    result = run([sys.executable, "-m", "app"], CONVSCOPE_PORT=str(taken_port))
    assert result.returncode == 2
    says_port_taken(result, taken_port)


def test_make_run_passes_port_through(taken_port: int) -> None:
    make = shutil.which("make")
    assert make, "make is needed for `make run`"
    result = run([make, "--no-print-directory", "run", f"PORT={taken_port}"])
    assert result.returncode != 0
    says_port_taken(result, taken_port)


def test_the_server_answers_on_the_port_chosen() -> None:
    port = free_port()
    with subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as server:
        try:
            assert server.stdout.readline() == f"ConvScope: http://127.0.0.1:{port}/\n"
            deadline = time.monotonic() + 30
            while True:  # until it listens (or has died, or the deadline passes)
                assert server.poll() is None, server.stderr.read()
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the server never answered"
                    time.sleep(0.05)
            assert response.json() == {"status": "ok"}
        finally:
            server.terminate()
            server.wait(timeout=10)
