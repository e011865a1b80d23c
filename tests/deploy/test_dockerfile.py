"""No Docker engine runs here, so the image's recipe is replayed in a fresh virtual
environment: the Dockerfile's own build and install commands, its environment and its CMD.
The server must start and answer on /healthz and a page, as the container would."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions(stage: int) -> list[tuple[str, str]]:
    """(instruction, argument) pairs of one build stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    return [(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in
            stages[stage].splitlines()[1:] if line.strip() and not line.startswith("#")]


def _env(stage: int) -> dict[str, str]:
    env = {}
    for instruction, argument in _instructions(stage):
        if instruction == "ENV":
            env.update(dict(part.split("=", 1) for part in shlex.split(argument)))
    return env


def _command(work: Path, command: str) -> list[str]:
    """A RUN command of the recipe, run with the test's virtual environment's tools."""
    words = shlex.split(command.replace("/wheels", str(work / "wheels"))
                        .replace(" --no-cache-dir", ""))
    if words[0] == "pip":
        return [str(work / "venv" / "bin" / "python"), "-m", *words]
    return [str(work / "venv" / "bin" / words[0]), *words[1:]]


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    """The final stage's environment, built with the Dockerfile's own RUN commands, from a
    build context as its COPY lines make it (no compiled catalogue: the build compiles it)."""
    work = tmp_path_factory.mktemp("image")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    build_runs = [a for i, a in _instructions(0) if i == "RUN"]
    final_runs = [a for i, a in _instructions(1) if i == "RUN"]
    assert len(build_runs) == 1 and build_runs[0].endswith("pip wheel --no-cache-dir "
                                                           "--wheel-dir /wheels .")
    context = work / "src"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    shutil.copytree(ROOT / "app", context / "app",
                    ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.egg-info"))
    for command in build_runs[0].split(" && "):
        subprocess.run(_command(work, command), cwd=context, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(_command(work, final_runs[0].split(" && ")[0]), cwd=context, check=True,
                   stdout=subprocess.DEVNULL)
    for folder in ("static", "templates"):  # the COPY lines
        shutil.copytree(ROOT / folder, work / "srv" / folder)
    return work


def test_the_image_recipe_starts_a_server_that_answers(image: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, **_env(1), "UVICORN_PORT": str(port),
           "CONVSCOPE_ROOT": str(image / "srv"), "PATH": f"{image / 'venv' / 'bin'}:"
           + os.environ["PATH"]}
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.M).group(1))
    cmd[cmd.index("0.0.0.0")] = "127.0.0.1"  # loopback only, in a test
    server = subprocess.Popen(cmd, cwd=image, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        page = httpx.get(f"http://127.0.0.1:{port}/2d")
        assert page.status_code == 200 and "A kernel sliding over a grid" in page.text
        # the Korean catalogues are compiled by the build and ship in the wheel
        korean = httpx.get(f"http://127.0.0.1:{port}/2d?lang=ko")
        assert '<html lang="ko"' in korean.text and "본문으로 건너뛰기" in korean.text
        # the digits ship in the wheel (package data): the network trains on them
        network = httpx.get(f"http://127.0.0.1:{port}/network?steps=2", timeout=60)
        assert network.status_code == 200 and 'data-steps="2"' in network.text
        assert httpx.get(f"http://127.0.0.1:{port}/static/css/app.css").status_code == 200
        assert "server" not in health.headers
    finally:
        server.terminate()
        code = server.wait(timeout=30)
        server.stderr.close()
    assert code == 0  # SIGTERM: a clean, graceful exit
