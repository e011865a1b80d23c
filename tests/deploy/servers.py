"""Real servers on loopback for the fault tests and ``bench/faults.py``: uvicorn started the
way the Dockerfile's CMD starts it, and nginx with a copy of ``deploy/nginx.conf`` in which
only named values are replaced (each must occur exactly once in the real file)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import httpx
import numpy as np
from scipy.signal import correlate

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = os.environ.get("CONVSCOPE_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT = 60.0  # seconds; generous, the machine is shared


def expensive_forward() -> tuple[bytes, np.ndarray]:
    """A forward pass of ~0.2 s (3 -> 16 channels, 128x128, 5x5) as a request body, and the
    output SciPy computes for it. Small integers, so the float64 sums are exact."""
    rng = np.random.default_rng(8)
    x = rng.integers(-3, 4, size=(1, 3, 128, 128))
    w = rng.integers(-3, 4, size=(16, 3, 5, 5))
    expected = np.array([[sum(correlate(x[0, c], w[o, c], mode="valid") for c in range(3))
                          for o in range(16)]], dtype=np.float64)
    return json.dumps({"input": x.tolist(), "weight": w.tolist()}).encode(), expected


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    """Poll until something accepts connections on 127.0.0.1:port (or ``process`` dies)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen in {START_TIMEOUT} s") from None
            time.sleep(0.05)


def replace_once(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must occur exactly once."""
    count = text.count(old)
    if count != 1:
        raise ValueError(f"expected {old!r} once in the file, found it {count} times")
    return text.replace(old, new)


def dockerfile_cmd() -> tuple[list[str], dict[str, str]]:
    """The final stage's CMD (exec form) and the environment its ENV lines set."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    final = re.split(r"^FROM ", text, flags=re.M)[-1]
    env: dict[str, str] = {}
    for argument in re.findall(r"^ENV (.*)$", final, flags=re.M):
        env.update(dict(part.split("=", 1) for part in shlex.split(argument)))
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", final, flags=re.M).group(1))
    return cmd, env


class Uvicorn:
    """``uvicorn app.main:app`` as the container runs it (the Dockerfile's CMD and ENV), bound
    to 127.0.0.1 on a free port, with ``workers`` workers. Its log goes to ``log``.

    ``nofile`` lowers the process's open-file limit (to make exhaustion observable);
    ``address_space`` caps its virtual memory in bytes (RLIMIT_AS: an allocation past it
    fails instead of growing); ``extra`` adds command-line options."""

    def __init__(self, log: Path, *, workers: int = 1, nofile: int | None = None,
                 address_space: int | None = None, extra: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        cmd, image_env = dockerfile_cmd()
        assert cmd[:2] == ["uvicorn", "app.main:app"], cmd
        cmd[cmd.index("0.0.0.0")] = "127.0.0.1"  # loopback only
        image_env.pop("CONVSCOPE_ROOT")  # a checkout finds static/ and templates/ itself
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [sys.executable, "-m", *cmd, *extra]
        self.env = {**os.environ, **image_env, **(env or {}), "UVICORN_PORT": str(self.port),
                    "WEB_CONCURRENCY": str(workers)}
        self.log, self.nofile, self.address_space = log, nofile, address_space
        self.process: subprocess.Popen | None = None

    def _limit(self) -> None:  # in the child, before it runs Python
        if self.nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))
        if self.address_space:
            resource.setrlimit(resource.RLIMIT_AS, (self.address_space, self.address_space))

    def __enter__(self) -> Uvicorn:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=self._limit if self.nofile or self.address_space else None)
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # up when /healthz answers (every worker is then listening)
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}:\n"
                                   + self.log_text())
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"uvicorn did not answer in {START_TIMEOUT} s")
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def usage(self) -> Usage:
        """CPU seconds used so far, resident memory now and at its peak (one worker)."""
        return process_usage(self.process.pid)

    def reset_peak(self) -> None:
        """Start the peak resident size over from now (Linux's clear_refs, value 5)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


class Usage(NamedTuple):
    cpu: float  # seconds, user + system
    rss: int  # bytes resident now
    peak: int  # bytes resident at the most since start (or since reset_peak)


def process_usage(pid: int) -> Usage:
    """:class:`Usage` of process ``pid``, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    status = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    kib = {key: int(status[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}
    return Usage(cpu, kib["VmRSS"], kib["VmHWM"])


def nginx_config(upstream_port: int, listen_port: int, prefix: Path,
                 replace: dict[str, str] | None = None) -> str:
    """``deploy/nginx.conf`` for loopback: the upstream and the listen port rewritten, logs
    and temporary files under ``prefix``, and each ``replace`` key (which must occur once)
    replaced by its value. Everything else is the real file."""
    text = NGINX_CONF.read_text()
    text = replace_once(text, "server app:8000 ", f"server 127.0.0.1:{upstream_port} ")
    text = replace_once(text, "listen 8080;", f"listen 127.0.0.1:{listen_port};")
    paths = "".join(f"    {name}_temp_path {prefix / name};\n"
                    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = replace_once(text, "http {\n", f"http {{\n    access_log {prefix / 'access.log'};\n"
                                          + paths)
    for old, new in (replace or {}).items():
        text = replace_once(text, old, new)
    return text


class Nginx:
    """The system's nginx (``daemon off``) in front of ``upstream_port`` on a free loopback
    port, with :func:`nginx_config`. Its files live in a fresh directory that its worker
    processes can reach: run as root, nginx's workers drop to ``nobody``, which must be able
    to write buffered request bodies to the temporary directories."""

    def __init__(self, upstream_port: int, replace: dict[str, str] | None = None) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="convscope-nginx-"))
        self.prefix.chmod(0o755)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = self.prefix / "nginx.conf"
        self.config.write_text(nginx_config(upstream_port, self.port, self.prefix, replace))
        self.error_log = self.prefix / "error.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Nginx:
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(self.config), "-e", str(self.error_log),
             "-g", f"daemon off; pid {self.prefix / 'nginx.pid'};"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, self.process, "nginx")
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{self.error_text()}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def error_text(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else ""


def holds_socket(pid: int, inode: int) -> bool:
    """Whether process ``pid`` still has the socket ``inode`` open (never for inode 0)."""
    if not inode:
        return False
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed while we looked
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                return True
    return False


TCP_STATES = {1: "ESTABLISHED", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 8: "CLOSE_WAIT",
              9: "LAST_ACK", 10: "LISTEN"}


def tcp_connections() -> list[dict]:
    """IPv4 TCP sockets of this network namespace (``/proc/net/tcp``): local and remote
    port, state, bytes not yet acknowledged (``tx``) and not yet read (``rx``), and inode
    (0 while a connection waits in a listening socket's backlog, not yet accepted)."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        tx, rx = (int(part, 16) for part in fields[4].split(":"))
        rows.append({"local": int(fields[1].split(":")[1], 16),
                     "remote": int(fields[2].split(":")[1], 16),
                     "state": TCP_STATES.get(int(fields[3], 16), fields[3]),
                     "tx": tx, "rx": rx, "inode": int(fields[9])})
    return rows


def server_has_read(server_port: int, client_ports: set[int]) -> bool:
    """True when every byte the clients on ``client_ports`` sent has been acknowledged and
    read by the server's process: nothing left in the client's send queue, and the
    server's end accepted with nothing left to read, or already closed by the server (an
    orphan still sending its response, or gone)."""
    rows = tcp_connections()
    client = {c["local"]: c for c in rows
              if c["remote"] == server_port and c["local"] in client_ports}
    server = {c["remote"]: c for c in rows
              if c["local"] == server_port and c["remote"] in client_ports}
    return (set(client) == client_ports
            and all(c["tx"] == 0 for c in client.values())
            and all(s["rx"] == 0 and (s["inode"] != 0 or s["state"] != "ESTABLISHED")
                    for s in server.values()))


def server_end(server_port: int, client_port: int) -> int:
    """The inode of the server's end of the connection from ``client_port``, or 0 once the
    server has closed it (it had already answered)."""
    (inode,) = [c["inode"] for c in tcp_connections()
                if c["local"] == server_port and c["remote"] == client_port] or [0]
    return inode
